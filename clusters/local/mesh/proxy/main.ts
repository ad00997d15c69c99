// The `istio/proxyv2` container program: `proxy sidecar` or `proxy router`, configured from the environment
// the injector sets (POD_NAME, POD_NAMESPACE, INSTANCE_IP, SERVICE_ACCOUNT, PROXY_CONFIG, SECRET_TTL …).
// Access log lines go to stdout, as Envoy's do, so `kubectl logs -c istio-proxy` shows them.

import { parseDuration } from '../../../../harness/util/duration.js';
import { NETWORK_FAULTS_ENV, TIME_OFFSET_ENV } from '../../chaos-hooks.js';
import { asRecord, asString, asStringArray } from '../model/read.js';
import { createClusterResolver } from './cluster-dns.js';
import { type ProxyOptions, startProxy } from './proxy.js';
import { cpuLimitFromEnv } from './resilience/cpu-budget.js';

const env = process.env;
const mode = process.argv.includes('router') ? 'router' : 'sidecar';
const namespace = env.POD_NAMESPACE ?? 'default';
const podIP = env.INSTANCE_IP ?? env.POD_IP ?? '127.0.0.1';
const resolver = createClusterResolver(env.MESHDRILL_CLUSTER_DNS_FILE, namespace);

let proxyConfig: Record<string, unknown> = {};
try {
  proxyConfig = asRecord(JSON.parse(env.PROXY_CONFIG ?? '{}'));
} catch {
  process.stderr.write('warning: PROXY_CONFIG is not JSON; using defaults\n');
}
const metadata = asRecord(proxyConfig.proxyMetadata);
const ttlText = env.SECRET_TTL ?? asString(metadata.SECRET_TTL) ?? '24h';
const ttlMs = parseDuration(ttlText) ?? 24 * 3600_000;
const statsMatcher = asRecord(proxyConfig.proxyStatsMatcher);

/** pilot-agent starts Envoy with `--file-flush-interval-msec 1000`; Envoy's file sink also flushes at 64 KiB. */
const FLUSH_INTERVAL_MS = 1000;
const FLUSH_BYTES = 64 * 1024;

/**
 * Access log lines buffered as Envoy's file sink buffers them: written every FLUSH_INTERVAL_MS, or as soon as
 * FLUSH_BYTES are pending. stdout is a pipe to the kubelet: a write per request cost a syscall here and a wake-up
 * of the harness there, more than the request's own proxying. Order is kept; `flush` runs before exit.
 */
function createBatchedLog(out: NodeJS.WritableStream): { write(line: string): void; flush(): void } {
  let pending: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    bytes = 0;
    out.write(text);
  };
  return {
    write(line) {
      pending.push(line);
      bytes += line.length;
      if (bytes >= FLUSH_BYTES) flush();
      else if (!timer) timer = setTimeout(flush, FLUSH_INTERVAL_MS);
    },
    flush,
  };
}

const accessLog = createBatchedLog(process.stdout);

async function resolveIstiod(): Promise<string> {
  if (env.MESHDRILL_ISTIOD_URL) return env.MESHDRILL_ISTIOD_URL;
  const address = asString(proxyConfig.discoveryAddress) ?? 'istiod.istio-system.svc:15012';
  const [host = 'istiod.istio-system.svc', port = '15012'] = address.split(':');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ip = resolver(host);
    if (ip) return `http://${ip}:${port}`;
    if (Date.now() > deadline) return `http://${host}:${port}`;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  const certDir = env.MESHDRILL_PROXY_CERT_DIR;
  const configFile = env.MESHDRILL_PROXY_CONFIG_FILE;
  const istiodUrl = configFile && certDir ? '' : await resolveIstiod();
  const options: ProxyOptions = {
    mode,
    podIP,
    podName: env.POD_NAME ?? 'unknown',
    namespace,
    serviceAccount: env.SERVICE_ACCOUNT ?? 'default',
    ...(env.ISTIO_META_ISTIO_VERSION ? { istioVersion: env.ISTIO_META_ISTIO_VERSION } : {}),
    config: configFile ? { kind: 'file', path: configFile } : { kind: 'xds', istiodUrl },
    certs: certDir
      ? {
          kind: 'files',
          certChain: `${certDir}/cert-chain.pem`,
          key: `${certDir}/key.pem`,
          root: `${certDir}/root-cert.pem`,
        }
      : { kind: 'istiod', istiodUrl, ttlMs },
    statsMatcher: {
      inclusionRegexps: asStringArray(statsMatcher.inclusionRegexps),
      inclusionPrefixes: asStringArray(statsMatcher.inclusionPrefixes),
      inclusionSuffixes: asStringArray(statsMatcher.inclusionSuffixes),
    },
    chaosFiles: {
      ...(env[NETWORK_FAULTS_ENV] ? { networkFaults: env[NETWORK_FAULTS_ENV] } : {}),
      ...(env[TIME_OFFSET_ENV] ? { timeOffset: env[TIME_OFFSET_ENV] } : {}),
    },
    ...(cpuLimitFromEnv(env) ? { cpu: cpuLimitFromEnv(env) } : {}),
    log: accessLog.write,
    resolveHost: (host) => resolver(host) ?? host,
  };
  const proxy = await startProxy(options);
  accessLog.flush();
  process.stdout.write(
    `${new Date().toISOString()} info proxy ${mode} started on ${podIP} (istiod ${istiodUrl || 'file config'})\n`,
  );
  const stop = (): void => {
    // A container program: exit once listeners are closed (bounded, so a stuck socket cannot hold the pod).
    setTimeout(() => {
      accessLog.flush();
      process.exit(0);
    }, 2000).unref();
    void proxy.close().then(() => {
      accessLog.flush();
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`error: proxy failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
