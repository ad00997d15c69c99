// Mesh benchmark (issue 4): added latency per sidecar hop at 200 req/s, max req/s through one hop, proxy
// memory at idle and per 100 visible services, and time from a VirtualService change to every proxy applying it.
// The proxies run as the kubelet runs them (the bundle of proxy/main.ts). MESHDRILL_BENCH_PROXY_PROGRAM names
// another build of the program, to compare two versions on the same machine at the same time.

import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedAuthority } from '../clusters/local/mesh/ca/index.js';
import { buildProxyConfig, proxyNodeForPod } from '../clusters/local/mesh/config/index.js';
import { createStoreSource, startIstiod } from '../clusters/local/mesh/istiod/index.js';
import { createMemoryStore } from '../clusters/local/store/index.js';
import { pod, service, snapshot } from '../test/local/mesh/fixtures.js';
import {
  issueCerts,
  type ProxyChild,
  rssBytes,
  startProxyChild,
  writeConfig,
} from '../test/local/mesh/proxy-harness.js';

const NS = 'bench';
const program = process.env.MESHDRILL_BENCH_PROXY_PROGRAM;
const programOption = program ? { program } : {};
const children: ProxyChild[] = [];

/** CPU time (user + system) a process has used, in ms: a cost figure that a busy machine disturbs less than req/s. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100); // clock ticks of 10 ms
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Paced requests (open model at `rate`/s) with a keep-alive agent; returns latencies in ms. */
async function paced(options: http.RequestOptions, rate: number, count: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const latencies: number[] = [];
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      new Promise<void>((resolve) => {
        const t0 = performance.now();
        const req = http.request({ ...options, agent }, (res) => {
          res.resume();
          res.once('end', () => {
            latencies.push(performance.now() - t0);
            resolve();
          });
        });
        req.once('error', () => resolve());
        req.end();
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return latencies.sort((a, b) => a - b);
}

/** Closed loop with `concurrency` workers for `ms`; returns completed requests per second. */
async function saturate(options: http.RequestOptions, concurrency: number, ms: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let done = 0;
  const until = performance.now() + ms;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      await new Promise<void>((resolve) => {
        const req = http.request({ ...options, agent }, (res) => {
          res.resume();
          res.once('end', () => {
            done += 1;
            resolve();
          });
        });
        req.once('error', () => resolve());
        req.end();
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return (done * 1000) / ms;
}

type Pod = ReturnType<typeof pod>;
type Store = ReturnType<typeof createMemoryStore>;
type Istiod = Awaited<ReturnType<typeof startIstiod>>;

/** What the sidecars of steps 1–3 share: a temporary directory and the authority their certificates come from. */
interface Bench {
  dir: string;
  ca: Awaited<ReturnType<typeof createSelfSignedAuthority>>;
}

const CLIENT_IP = '127.45.0.11';
const SERVER_IP = '127.45.0.12';
const XDS_IPS = ['127.45.1.1', '127.45.1.2', '127.45.1.3', '127.45.1.4'];
const PODS = { group: '', version: 'v1', resource: 'pods' };
const VIRTUAL_SERVICES = { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' };

/** A request to the server sent to the client's outbound sidecar port. */
function viaClientSidecar(): http.RequestOptions {
  return {
    host: CLIENT_IP,
    port: 15001,
    path: `http://server.${NS}:8080/`,
    headers: { host: `server.${NS}:8080` },
  };
}

/** Starts a sidecar for `p` with certificates for `sa` and a file config built from `world`. */
async function startSidecar(
  bench: Bench,
  world: ReturnType<typeof snapshot>,
  p: Pod,
  sa: string,
  ip: string,
): Promise<ProxyChild> {
  const certDir = join(bench.dir, sa);
  await issueCerts(bench.ca, certDir, NS, sa, 3600_000);
  const configFile = join(bench.dir, `${sa}.json`);
  writeConfig(
    configFile,
    buildProxyConfig({ snapshot: world, node: proxyNodeForPod(p, 'sidecar'), version: '1' }),
  );
  const child = await startProxyChild({
    podIP: ip,
    podName: String(p.metadata.name),
    namespace: NS,
    serviceAccount: sa,
    configFile,
    certDir,
    ...programOption,
  });
  children.push(child);
  return child;
}

/**
 * 1. Added latency: direct vs through two sidecars (outbound + inbound = one mTLS hop), at 200 req/s, after a
 * warm-up (JIT, first TLS connections) that is not measured.
 */
async function measureAddedLatency(): Promise<void> {
  await paced(viaClientSidecar(), 500, 1000);
  const direct = await paced({ host: SERVER_IP, port: 8080, path: '/' }, 200, 600);
  const meshed = await paced(viaClientSidecar(), 200, 600);
  console.log(
    `latency direct        p50 ${percentile(direct, 50).toFixed(3)} ms  p99 ${percentile(direct, 99).toFixed(3)} ms`,
  );
  console.log(
    `latency via sidecars  p50 ${percentile(meshed, 50).toFixed(3)} ms  p99 ${percentile(meshed, 99).toFixed(3)} ms`,
  );
  console.log(
    `added per hop (client+server sidecar, mTLS) p50 ${(percentile(meshed, 50) - percentile(direct, 50)).toFixed(3)} ms  p99 ${(percentile(meshed, 99) - percentile(direct, 99)).toFixed(3)} ms  (goal p50 < 0.5 ms, p99 < 2 ms)`,
  );
}

/**
 * 2. Max throughput through one hop (each proxy is one Node process: one core for its JS), and the CPU each proxy
 * spends per request meanwhile.
 */
async function measureThroughput(client: ProxyChild, server: ProxyChild): Promise<void> {
  const cpuBefore = [cpuMs(client.pid), cpuMs(server.pid)];
  const rps = await saturate(viaClientSidecar(), 32, 3000);
  const requests = (rps * 3000) / 1000;
  const [clientCpu, serverCpu] = [cpuMs(client.pid), cpuMs(server.pid)].map(
    (ms, i) => ((ms - (cpuBefore[i] ?? 0)) * 1000) / requests,
  );
  console.log(
    `max throughput through one mTLS hop: ${Math.round(rps)} req/s (32 concurrent, keep-alive; goal >= 5,000)`,
  );
  console.log(
    `CPU per request meanwhile: client sidecar ${clientCpu?.toFixed(0)} us, server sidecar ${serverCpu?.toFixed(0)} us`,
  );
  console.log(`client proxy RSS after load: ${(rssBytes(client.pid) / 1048576).toFixed(1)} MiB`);
}

/** 3. Memory at idle and per 100 visible services. */
async function measureMemory(bench: Bench): Promise<void> {
  const memIP = '127.45.0.21';
  const memPod = pod('mem-1', NS, memIP, { app: 'mem' }, { sa: 'mem' });
  const memDir = join(bench.dir, 'mem');
  await issueCerts(bench.ca, memDir, NS, 'mem', 3600_000);
  const memFile = join(bench.dir, 'mem.json');
  const node = proxyNodeForPod(memPod, 'sidecar');
  writeConfig(memFile, buildProxyConfig({ snapshot: snapshot({ pods: [memPod] }), node, version: 'idle' }));
  const mem = await startProxyChild({
    podIP: memIP,
    podName: 'mem-1',
    namespace: NS,
    serviceAccount: 'mem',
    configFile: memFile,
    certDir: memDir,
    ...programOption,
  });
  children.push(mem);
  await new Promise((r) => setTimeout(r, 500));
  const idle = rssBytes(mem.pid);
  const flood = Array.from({ length: 1000 }, (_, i) => service(`s${i}`, `ns${i % 10}`, { app: `s${i}` }));
  writeConfig(
    memFile,
    buildProxyConfig({ snapshot: snapshot({ pods: [memPod], services: flood }), node, version: 'flood' }),
  );
  await new Promise((r) => setTimeout(r, 1500));
  const flooded = rssBytes(mem.pid);
  console.log(
    `proxy RSS idle ${(idle / 1048576).toFixed(1)} MiB (goal <= 40); with 1,000 visible services ${(flooded / 1048576).toFixed(1)} MiB; per 100 services ${((flooded - idle) / 10 / 1048576).toFixed(1)} MiB`,
  );
}

/** A store holding the namespace, Service p0 and one running, ready pod per XDS_IPS address. */
async function seedPropagationStore(): Promise<Store> {
  const store = createMemoryStore();
  await store.create(
    { group: '', version: 'v1', resource: 'namespaces' },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  );
  await store.create(
    { group: '', version: 'v1', resource: 'services' },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'p0', namespace: NS },
      spec: { selector: { app: 'p0' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
    },
  );
  for (const [i, ip] of XDS_IPS.entries()) {
    const created = await store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: NS, labels: { app: `p${i}` } },
      spec: {
        serviceAccountName: 'default',
        containers: [
          { name: 'app', image: 'x' },
          { name: 'istio-proxy', image: 'istio/proxyv2' },
        ],
      },
    });
    await store.updateStatus(PODS, {
      ...created,
      status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  return store;
}

/** Edits one VirtualService (a second one for the same host would be ignored: the oldest wins). */
async function changeVirtualService(store: Store, round: number): Promise<void> {
  const spec = {
    hosts: ['p0'],
    http: [{ match: [{ uri: { prefix: `/r${round}` } }], route: [{ destination: { host: 'p0' } }] }],
  };
  const existing = store.get(VIRTUAL_SERVICES, NS, 'vs');
  if (existing) await store.update(VIRTUAL_SERVICES, { ...existing, spec });
  else
    await store.create(VIRTUAL_SERVICES, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'vs', namespace: NS },
      spec,
    });
}

/** One round: the time from the change until every proxy has ACKed a new version (10 s at most). */
async function timePropagation(store: Store, istiod: Istiod, round: number): Promise<number> {
  const before = new Map(istiod.proxies().map((p) => [p.id, p.ackedVersion]));
  const t0 = performance.now();
  await changeVirtualService(store, round);
  const deadline = t0 + 10_000;
  while (performance.now() < deadline) {
    const all = istiod.proxies();
    if (all.length === XDS_IPS.length && all.every((p) => p.ackedVersion !== before.get(p.id))) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}

/** 4. Time from a VirtualService change to every proxy applying it (istiod in-process, 4 proxies over xDS). */
async function measurePropagation(): Promise<void> {
  const store = await seedPropagationStore();
  const istiod = await startIstiod({
    source: createStoreSource(store),
    host: '127.45.1.100',
    port: 0,
    monitoringPort: 0,
    debounceMs: 100,
  });
  try {
    const xdsProxies = await Promise.all(
      XDS_IPS.map((ip, i) =>
        startProxyChild({
          podIP: ip,
          podName: `p${i}`,
          namespace: NS,
          serviceAccount: 'default',
          configFile: '',
          certDir: '',
          env: { MESHDRILL_ISTIOD_URL: istiod.url },
          ...programOption,
        }),
      ),
    );
    children.push(...xdsProxies);
    const samples: number[] = [];
    for (let round = 0; round < 5; round++) samples.push(await timePropagation(store, istiod, round));
    samples.sort((a, b) => a - b);
    console.log(
      `VirtualService change → all ${XDS_IPS.length} proxies ACKed: median ${percentile(samples, 50).toFixed(0)} ms, max ${samples[samples.length - 1]?.toFixed(0)} ms (debounce 100 ms)`,
    );
  } finally {
    await istiod.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdrill-bench-'));
  const bench: Bench = { dir, ca: await createSelfSignedAuthority() };
  const clientPod = pod('client-1', NS, CLIENT_IP, { app: 'client' }, { sa: 'client' });
  const serverPod = pod('server-1', NS, SERVER_IP, { app: 'server' }, { sa: 'server' });
  const world = snapshot({
    pods: [clientPod, serverPod],
    services: [service('server', NS, { app: 'server' })],
  });
  const app = http.createServer((_req, res) => res.end('ok'));
  app.listen(8080, SERVER_IP);
  await once(app, 'listening');
  try {
    const [client, server] = await Promise.all([
      startSidecar(bench, world, clientPod, 'client', CLIENT_IP),
      startSidecar(bench, world, serverPod, 'server', SERVER_IP),
    ]);
    await measureAddedLatency();
    await measureThroughput(client, server);
    await measureMemory(bench);
    await measurePropagation();
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(async (error: unknown) => {
  console.error(error);
  await Promise.all(children.map((c) => c.stop()));
  process.exitCode = 1;
});
