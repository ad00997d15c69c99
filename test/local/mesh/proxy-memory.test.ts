// ISTIO-FACTS.md "Sidecar memory and OOM": proxy memory follows the configuration it holds (clusters,
// endpoints, routes), not request rate; a Sidecar egress scope shrinks the config and the memory.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createSelfSignedAuthority } from '../../../clusters/local/mesh/ca/index.js';
import {
  buildProxyConfig,
  measureConfigSize,
  proxyNodeForPod,
} from '../../../clusters/local/mesh/config/index.js';
import { istio, pod, service, snapshot } from './fixtures.js';
import {
  fetchText,
  issueCerts,
  type ProxyChild,
  rssBytes,
  startProxyChild,
  writeConfig,
} from './proxy-harness.js';

const IP = '127.43.0.21';

describe('sidecar memory follows config size', function () {
  this.timeout(60_000);
  let dir: string;
  const children: ProxyChild[] = [];

  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a flood of 2,000 visible services raises RSS by >100 MB; a Sidecar scope keeps a fresh proxy small', async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshdrill-mem-'));
    const me = pod('app-1', 'mem', IP, { app: 'app', version: 'v1' });
    const flood = Array.from({ length: 2000 }, (_, i) =>
      service(`svc-${i}`, `flood-${i % 10}`, { app: `x${i}` }),
    );
    const small = snapshot({ pods: [me], services: [service('app', 'mem', { app: 'app' })] });
    const big = snapshot({ ...small, services: [...small.services, ...flood] });
    const node = proxyNodeForPod(me, 'sidecar');
    const configFile = join(dir, 'config.json');
    writeConfig(configFile, buildProxyConfig({ snapshot: small, node, version: 'small' }));
    const certDir = join(dir, 'certs');
    await issueCerts(await createSelfSignedAuthority(), certDir, 'mem', 'app', 3600_000);
    const proxy = await startProxyChild({
      podIP: IP,
      podName: 'app-1',
      namespace: 'mem',
      serviceAccount: 'app',
      configFile,
      certDir,
    });
    children.push(proxy);
    const idle = rssBytes(proxy.pid);

    const bigConfig = buildProxyConfig({ snapshot: big, node, version: 'big' });
    expect(measureConfigSize(bigConfig).clusters).to.equal(2001);
    writeConfig(configFile, bigConfig);
    const deadline = Date.now() + 15_000;
    let clusters = 0;
    while (Date.now() < deadline) {
      const stats = await fetchText(`http://${IP}:15020/stats/prometheus`);
      clusters = Number(/\nenvoy_cluster_manager_active_clusters (\d+)/.exec(stats)?.[1] ?? 0);
      if (clusters === 2001) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(clusters).to.equal(2001);
    const flooded = rssBytes(proxy.pid);
    expect(flooded - idle, `idle ${idle} flooded ${flooded}`).to.be.above(100 * 1024 * 1024);
    const allocated = Number(
      /\nenvoy_server_memory_allocated (\d+)/.exec(
        await fetchText(`http://${IP}:15020/stats/prometheus`),
      )?.[1],
    );
    expect(allocated).to.be.above(100 * 1024 * 1024);
    await proxy.stop();

    // The restarted proxy (as after an OOM kill) under a Sidecar egress scope holds a small config again.
    const scoped = buildProxyConfig({
      snapshot: {
        ...big,
        sidecars: [istio('Sidecar', 'default', 'mem', { egress: [{ hosts: ['./*', 'istio-system/*'] }] })],
      },
      node,
      version: 'scoped',
    });
    expect(measureConfigSize(scoped).clusters).to.equal(1);
    writeConfig(configFile, scoped);
    const restarted = await startProxyChild({
      podIP: IP,
      podName: 'app-1',
      namespace: 'mem',
      serviceAccount: 'app',
      configFile,
      certDir,
    });
    children.push(restarted);
    expect(flooded - rssBytes(restarted.pid)).to.be.above(100 * 1024 * 1024);
  });
});
