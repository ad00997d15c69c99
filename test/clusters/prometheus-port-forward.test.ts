// The generated Prometheus config is accepted by the real promtool, and the port-forward child is started,
// awaited and stopped by PID — including when kubectl fails before forwarding.

import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  buildPrometheusConfig,
  resolveHost,
  spawnBackground,
  startPortForward,
} from '../../clusters/shared/index.js';
import { run } from '../../harness/exec/index.js';
import { MeshdrillError } from '../../harness/model/errors.js';
import { createSandbox, isAlive } from './support.js';

describe('Prometheus config and port-forward', function () {
  this.timeout(20_000);

  it('writes a config promtool accepts, rules included', async () => {
    const sandbox = await createSandbox();
    try {
      await mkdir(join(sandbox.dir, 'rules'));
      await writeFile(
        join(sandbox.dir, 'rules', '00-mesh.yaml'),
        stringify({
          groups: [{ name: 'mesh', rules: [{ alert: 'HighErrorRate', expr: 'vector(1) > 0', for: '30s' }] }],
        }),
      );
      const config = buildPrometheusConfig({
        scrapeIntervalMs: 5000,
        evaluationIntervalMs: 5000,
        ruleFiles: [],
      }) as Record<string, unknown>;
      // Same document, with the in-pod rules directory pointed at the test's copy. Debian's promtool 2.42 is
      // built without Kubernetes service discovery, so the pod job is checked with static targets and the
      // very same relabelling (which is what can be wrong: regexes, labels, actions).
      config.rule_files = [join(sandbox.dir, 'rules', '*')];
      const jobs = config.scrape_configs as Record<string, unknown>[];
      const pods = jobs.find((j) => j.job_name === 'kubernetes-pods');
      expect(pods?.kubernetes_sd_configs).to.deep.equal([{ role: 'pod' }]);
      if (pods) {
        delete pods.kubernetes_sd_configs;
        pods.static_configs = [{ targets: ['127.0.0.1:15020'] }];
      }
      const file = join(sandbox.dir, 'prometheus.yml');
      await writeFile(file, stringify(config));
      const result = await run('promtool', ['check', 'config', file], { timeoutMs: 15_000 });
      expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.include('SUCCESS: 1 rules found');
    } finally {
      await sandbox.cleanup();
    }
  });

  it('reports a port-forward whose kubectl exits before forwarding, with the message kubectl gave', async () => {
    const sandbox = await createSandbox({ env: { FAKE_FAIL: 'kubectl:port-forward' } });
    try {
      const error = await startPortForward(resolveHost(sandbox.host()), {
        kubeconfigPath: '/w/k',
        namespace: 'meshdrill-system',
        resource: 'svc/meshdrill-prometheus',
        remotePort: 9090,
      }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(MeshdrillError);
      expect((error as MeshdrillError).message).to.include(
        'could not port-forward to meshdrill-system/svc/meshdrill-prometheus',
      );
      expect((error as MeshdrillError).message).to.include('failing on purpose');
      expect((error as MeshdrillError).hint).to.include('must be free');
    } finally {
      await sandbox.cleanup();
    }
  });

  it('stops a background child and its group by PID, escalating to SIGKILL', async () => {
    const child = spawnBackground('/bin/bash', ['-c', 'trap "" TERM; sleep 30 & echo started; wait'], {
      env: { PATH: '/usr/bin:/bin' },
    });
    await child.waitForOutput(/started/, 5000);
    expect(isAlive(child.pid)).to.equal(true);
    const started = Date.now();
    await child.stop(200);
    expect(Date.now() - started).to.be.below(5000);
    expect(isAlive(child.pid)).to.equal(false);
    expect((await child.exited).signal).to.equal('SIGKILL');
  });
});
