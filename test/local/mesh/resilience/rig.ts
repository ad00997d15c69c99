// Test rig for the resilience facts: one CA, a world of Kubernetes/Istio objects, sidecar proxies started as
// child processes with file-based config (rewritten to change policy mid-test), and plain HTTP apps on
// loopback IPs. Everything started here is stopped by PID in `stop()`.

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../../../harness/model/kube-object.js';
import {
  type CertificateAuthority,
  createSelfSignedAuthority,
} from '../../../../clusters/local/mesh/ca/index.js';
import {
  buildProxyConfig,
  type MeshSnapshot,
  proxyNodeForPod,
} from '../../../../clusters/local/mesh/config/index.js';
import {
  fetchText,
  issueCerts,
  type ProxyChild,
  type Reply,
  startProxyChild,
  sumMetric,
  viaProxy,
  writeConfig,
} from '../proxy-harness.js';

export interface SidecarHandle {
  child: ProxyChild;
  pod: KubeObject;
  ip: string;
  configFile: string;
  certDir: string;
}

export class Rig {
  readonly dir = mkdtempSync(join(tmpdir(), 'meshdrill-resilience-'));
  private ca: Promise<CertificateAuthority> | undefined;
  private readonly children: ProxyChild[] = [];
  private readonly servers: http.Server[] = [];

  constructor(readonly namespace: string) {}

  /** One CA for every sidecar (memoised as a promise: sidecars start concurrently). */
  authority(): Promise<CertificateAuthority> {
    this.ca ??= createSelfSignedAuthority();
    return this.ca;
  }

  /** An app on `ip:port`; the handler sees every request that reaches it. */
  async app(ip: string, handler: http.RequestListener, port = 8080): Promise<http.Server> {
    const server = http.createServer(handler);
    server.keepAliveTimeout = 30_000;
    server.listen(port, ip);
    await once(server, 'listening');
    this.servers.push(server);
    return server;
  }

  /** Writes the pod's config for `world` (also used to change policy while the proxy runs). */
  configure(handle: { pod: KubeObject; configFile: string }, world: MeshSnapshot, version: string): void {
    writeConfig(
      handle.configFile,
      buildProxyConfig({ snapshot: world, node: proxyNodeForPod(handle.pod, 'sidecar'), version }),
    );
  }

  async sidecar(
    pod: KubeObject,
    world: MeshSnapshot,
    options: { env?: Record<string, string>; certTtlMs?: number; namespace?: string } = {},
  ): Promise<SidecarHandle> {
    const namespace = options.namespace ?? this.namespace;
    const name = String(pod.metadata.name);
    const sa = String((pod.spec as { serviceAccountName?: string }).serviceAccountName ?? 'default');
    const ip = String((pod.status as { podIP?: string }).podIP);
    const certDir = join(this.dir, name);
    await issueCerts(await this.authority(), certDir, namespace, sa, options.certTtlMs ?? 3600_000);
    const configFile = join(this.dir, `${name}.json`);
    const handle = { pod, configFile };
    this.configure(handle, world, '1');
    const child = await startProxyChild({
      podIP: ip,
      podName: name,
      namespace,
      serviceAccount: sa,
      configFile,
      certDir,
      ...(options.env ? { env: options.env } : {}),
    });
    this.children.push(child);
    return { child, pod, ip, configFile, certDir };
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
    for (const s of this.servers) {
      s.closeAllConnections();
      s.close();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** proxy.istio.io/config with a stats matcher, as PROXY_CONFIG carries it. */
export function statsEnv(matcher: Record<string, string[]>): Record<string, string> {
  return { PROXY_CONFIG: JSON.stringify({ proxyStatsMatcher: matcher }) };
}

export const ALL_CLUSTER_STATS = statsEnv({ inclusionRegexps: ['cluster\\.outbound\\|.*'] });

export async function scrape(ip: string): Promise<string> {
  return fetchText(`http://${ip}:15020/stats/prometheus`);
}

export async function clusterStat(ip: string, name: string, cluster: string): Promise<number> {
  return sumMetric(await scrape(ip), name, { cluster_name: cluster });
}

export async function adminJson(ip: string, path: string): Promise<unknown> {
  return JSON.parse(await fetchText(`http://${ip}:15000${path}`)) as unknown;
}

/** Polls `probe` until it returns true, at most `timeoutMs`; throws with `what` otherwise. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the proxy serves config `version` (the file watcher polls every 200 ms). */
export async function waitForVersion(ip: string, version: string): Promise<void> {
  await waitUntil(`proxy ${ip} applies config version ${version}`, async () => {
    const dump = (await adminJson(ip, '/config_dump')) as { config?: { version?: string } };
    return dump.config?.version === version;
  });
}

/** Sends `total` requests with at most `concurrency` in flight; bounded by the count. */
export async function sendMany(
  total: number,
  concurrency: number,
  send: (i: number) => Promise<Reply>,
): Promise<Reply[]> {
  const replies: Reply[] = new Array(total);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      replies[i] = await send(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return replies;
}

export { viaProxy };
export const flagsOf = (r: Reply): string => String(r.headers['x-envoy-response-flags'] ?? '-');

/** Like viaProxy, with a method (HTTP_PROXY style: absolute URL to the sidecar's outbound port). */
export function requestVia(proxyIP: string, url: string, method: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: proxyIP,
      port: 15001,
      path: url,
      method,
      headers: { host: new URL(url).host },
      agent: false,
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url} via ${proxyIP} timed out`)));
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.end();
  });
}
