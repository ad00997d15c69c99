// Test helpers: start the proxy program as a child process on its own loopback IP with file-based config and
// certificates, wait for readiness with a deadline, and stop it by PID. The program runs as the kubelet runs
// it: the esbuild bundle of proxy/main.ts under plain `node` (built once per test process).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from '../../../clusters/local/mesh/ca/index.js';
import { createWorkloadCsr, spiffeId } from '../../../clusters/local/mesh/ca/index.js';
import {
  buildProxyConfig,
  type MeshSnapshot,
  proxyNodeForPod,
} from '../../../clusters/local/mesh/config/index.js';
import type { ProxyConfig } from '../../../clusters/local/mesh/model/proxy-config.js';
import { createBundler } from '../../../clusters/local/programs/index.js';
import type { KubeObject } from '../../../harness/model/kube-object.js';

const MAIN = new URL('../../../clusters/local/mesh/proxy/main.ts', import.meta.url).pathname;

let bundled: Promise<string> | undefined;
/** The proxy program's bundle, built on first use into a directory removed when this process exits. */
export function proxyProgram(): Promise<string> {
  if (!bundled) {
    const outDir = mkdtempSync(join(tmpdir(), 'meshdrill-proxy-bundle-'));
    process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
    bundled = createBundler(outDir).ensure(MAIN);
  }
  return bundled;
}

export interface ProxyChild {
  pid: number;
  podIP: string;
  output: () => string;
  stop: () => Promise<void>;
  child: ChildProcess;
}

export async function issueCerts(
  ca: CertificateAuthority,
  dir: string,
  namespace: string,
  sa: string,
  ttlMs: number,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const identity = spiffeId('cluster.local', namespace, sa);
  const { csrPem, keyPem } = await createWorkloadCsr(identity);
  const signed = await ca.signCsr(csrPem, { identity, ttlMs });
  writeFileSync(join(dir, 'cert-chain.pem'), signed.certChain.join(''));
  writeFileSync(join(dir, 'key.pem'), keyPem);
  writeFileSync(join(dir, 'root-cert.pem'), ca.rootCertPem);
}

export function writeConfig(path: string, config: ProxyConfig): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(config));
  // Rename so the proxy never reads a half-written file.
  renameSync(`${path}.tmp`, path);
}

export async function startProxyChild(options: {
  podIP: string;
  podName: string;
  namespace: string;
  serviceAccount: string;
  configFile: string;
  certDir: string;
  mode?: 'sidecar' | 'router';
  env?: Record<string, string>;
  /** Default true: resolve once :15021/healthz/ready answers 200. */
  waitReady?: boolean;
  /** Extra `node` options before the program (profiling: `--cpu-prof`). */
  nodeArgs?: string[];
  /** Another build of the program (comparisons); default the bundle of proxy/main.ts. */
  program?: string;
}): Promise<ProxyChild> {
  const program = options.program ?? (await proxyProgram());
  const argv = [...(options.nodeArgs ?? []), program, 'proxy', options.mode ?? 'sidecar'];
  const child = spawn(process.execPath, argv, {
    env: {
      ...process.env,
      POD_NAME: options.podName,
      POD_NAMESPACE: options.namespace,
      INSTANCE_IP: options.podIP,
      SERVICE_ACCOUNT: options.serviceAccount,
      MESHDRILL_PROXY_CONFIG_FILE: options.configFile,
      MESHDRILL_PROXY_CERT_DIR: options.certDir,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  };
  const deadline = Date.now() + 20_000;
  for (; options.waitReady !== false; ) {
    const status = await getStatus(`http://${options.podIP}:15021/healthz/ready`);
    if (status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        `proxy ${options.podName} did not become ready within 20 s (last status ${status}); output:\n${out}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid as number, podIP: options.podIP, output: () => out, stop, child };
}

export function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(1000, () => req.destroy());
    req.once('error', () => resolve(0));
  });
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request sent the way an app with HTTP_PROXY sends it: absolute URL to the sidecar's outbound port. */
export function viaProxy(
  proxyIP: string,
  url: string,
  headers: Record<string, string> = {},
  port = 15001,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request({
      host: proxyIP,
      port,
      path: url,
      headers: { host: target.host, ...headers },
      agent: false,
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`request to ${url} via ${proxyIP} timed out`)));
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

export function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.once('end', () => resolve(body));
      })
      .once('error', reject);
  });
}

/** Sum of a metric's samples whose labels include all of `match`. */
export function sumMetric(text: string, name: string, match: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`)))
      total += Number(line.split(' ').pop());
  }
  return total;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Waits (bounded) until the child's output matches: access log lines are written after the response. */
export async function waitForOutput(child: ProxyChild, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const out = child.output();
    if (pattern.test(out)) return out;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `output of ${child.podIP} did not match ${pattern} within ${timeoutMs} ms:\n${child.output().slice(-2000)}`,
  );
}

/** An app on `ip:8080` (where the sidecar forwards inbound traffic), answering with `handler`. */
export async function startApp(ip: string, handler: http.RequestListener): Promise<http.Server> {
  const app = http.createServer(handler);
  app.listen(8080, ip);
  await new Promise<void>((resolve) => app.once('listening', () => resolve()));
  return app;
}

/**
 * A pod's sidecar as istiod would set it up: certificates from `authority` (life `certTtlMs`), the configuration
 * built from `world` for this pod, then the proxy program started as a child on the pod's IP.
 */
export async function startPodSidecar(options: {
  world: MeshSnapshot;
  pod: KubeObject;
  serviceAccount: string;
  certTtlMs: number;
  authority: CertificateAuthority;
  dir: string;
  env?: Record<string, string>;
}): Promise<ProxyChild> {
  const { pod } = options;
  const name = String(pod.metadata.name);
  const namespace = String(pod.metadata.namespace);
  const certDir = join(options.dir, name, 'certs');
  await issueCerts(options.authority, certDir, namespace, options.serviceAccount, options.certTtlMs);
  const configFile = join(options.dir, name, 'config.json');
  writeConfig(
    configFile,
    buildProxyConfig({ snapshot: options.world, node: proxyNodeForPod(pod, 'sidecar'), version: '1' }),
  );
  return startProxyChild({
    podIP: String((pod.status as { podIP: string }).podIP),
    podName: name,
    namespace,
    serviceAccount: options.serviceAccount,
    configFile,
    certDir,
    ...(options.env ? { env: options.env } : {}),
  });
}
