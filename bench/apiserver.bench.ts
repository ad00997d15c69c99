// Benchmark of the local API server: boot time, 1,000 creates over HTTPS, a watch fanned out to 10 watchers
// (events/s and lag), and idle memory. Run: npx tsx bench/apiserver.bench.ts

import { Agent, request } from 'node:https';
import { startApiServer } from '../clusters/local/apiserver/index.js';
import { createMemoryStore, KEYS } from '../clusters/local/store/index.js';

const TOKEN = 'bench-token';
const CREATES = 1000;
const CONCURRENCY = 16;
const WATCHERS = 10;
const WATCH_EVENTS = 1000;

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, rejectUnauthorized: false });

function post(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          Authorization: `Bearer ${TOKEN}`,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(text),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

function configMap(name: string, sentAt?: number) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: 'default',
      labels: { bench: 'yes' },
      ...(sentAt ? { annotations: { sentAt: String(sentAt) } } : {}),
    },
    data: { payload: 'x'.repeat(200) },
  };
}

async function createMany(base: string, prefix: string, count: number, stamp: boolean): Promise<number> {
  let next = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const status = await post(
        `${base}/api/v1/namespaces/default/configmaps`,
        configMap(`${prefix}-${i}`, stamp ? performance.timeOrigin + performance.now() : undefined),
      );
      if (status !== 201) failures++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return failures;
}

interface WatchStats {
  events: number;
  lags: number[];
  lastAt: number;
}

function openWatch(base: string, rv: string, stats: WatchStats): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&labelSelector=bench%3Dyes`,
      { headers: { Authorization: `Bearer ${TOKEN}` }, rejectUnauthorized: false },
      (res) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl = buffer.indexOf('\n');
          while (nl >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            const event = JSON.parse(line) as {
              object: { metadata: { annotations?: Record<string, string> } };
            };
            const now = performance.timeOrigin + performance.now();
            const sent = Number(event.object.metadata.annotations?.sentAt ?? now);
            stats.events++;
            stats.lags.push(now - sent);
            stats.lastAt = performance.now();
            nl = buffer.indexOf('\n');
          }
        });
        resolve(() => req.destroy());
      },
    );
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const bootStart = performance.now();
  const store = createMemoryStore();
  const server = await startApiServer({ store, token: TOKEN });
  const bootMs = performance.now() - bootStart;
  try {
    await new Promise((r) => setTimeout(r, 200));
    gc?.();
    const idle = process.memoryUsage();
    console.log(`boot (store + TLS cert + listen): ${bootMs.toFixed(0)} ms`);
    console.log(
      `idle memory: RSS ${mb(idle.rss)} (server adds ~${mb(idle.rss - rssBefore)}), heap used ${mb(idle.heapUsed)}`,
    );

    const createStart = performance.now();
    const failures = await createMany(server.url, 'create', CREATES, false);
    const createMs = performance.now() - createStart;
    console.log(
      `${CREATES} creates over HTTPS (${CONCURRENCY} in flight): ${createMs.toFixed(0)} ms, ${(CREATES / (createMs / 1000)).toFixed(0)} objects/s, ${failures} failed`,
    );

    const inProcStart = performance.now();
    for (let i = 0; i < CREATES; i++) await store.create(KEYS.configmaps, configMap(`direct-${i}`));
    const inProcMs = performance.now() - inProcStart;
    console.log(
      `${CREATES} creates in-process (store.create): ${inProcMs.toFixed(0)} ms, ${(CREATES / (inProcMs / 1000)).toFixed(0)} objects/s`,
    );

    const rv = store.currentResourceVersion();
    const stats: WatchStats[] = Array.from({ length: WATCHERS }, () => ({ events: 0, lags: [], lastAt: 0 }));
    const closers = await Promise.all(stats.map((s) => openWatch(server.url, rv, s)));
    const fanStart = performance.now();
    await createMany(server.url, 'watched', WATCH_EVENTS, true);
    const deadline = Date.now() + 20_000;
    while (stats.some((s) => s.events < WATCH_EVENTS) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    const total = stats.reduce((n, s) => n + s.events, 0);
    const fanMs = Math.max(...stats.map((s) => s.lastAt)) - fanStart;
    const lags = stats.flatMap((s) => s.lags);
    console.log(
      `watch fan-out: ${WATCH_EVENTS} writes × ${WATCHERS} watchers = ${total}/${WATCH_EVENTS * WATCHERS} events in ${fanMs.toFixed(0)} ms, ` +
        `${(total / (fanMs / 1000)).toFixed(0)} events/s delivered; lag p50 ${percentile(lags, 50).toFixed(1)} ms, p99 ${percentile(lags, 99).toFixed(1)} ms, max ${percentile(lags, 100).toFixed(1)} ms`,
    );
    for (const close of closers) close();
    const after = process.memoryUsage();
    console.log(
      `memory after ${store.list(KEYS.configmaps).items.length} objects: RSS ${mb(after.rss)}, heap used ${mb(after.heapUsed)}`,
    );
  } finally {
    agent.destroy();
    await server.close();
  }
}

await main();
