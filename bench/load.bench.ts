// Benchmark of issue 6: against a minimal loopback HTTP server (its own process, pinned to another core), the
// built-in generator, wrk and autocannon side by side — the most requests/s each sustains on one core — and for
// the built-in generator the achieved/target ratio and p99 at 1,000 and 5,000 req/s. Run: npx tsx bench/load.bench.ts
// (BENCH_PORT picks the server port; by default one derived from the pid).

import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, which } from '../harness/exec/index.js';
import { createBuiltinDriver } from '../harness/load/builtin-driver.js';
import type { LoadProfile, LoadSample } from '../harness/model/load.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const PORT = Number(process.env.BENCH_PORT ?? 18_000 + (process.pid % 1000));
const URL_BASE = `http://127.0.0.1:${PORT}`;

const SERVER = `require('http').createServer((q,s)=>{s.end('ok')}).listen(${PORT},'127.0.0.1',()=>console.log('ready'))`;

interface WorkerResult {
  target: number;
  achieved: number;
  errors: number;
  scheduled: number;
  completed: number;
  dropped: number;
  p50: number;
  p99: number;
  /** Completed/scheduled over the seconds after the first (the process's cold start — JIT, first connects — excluded). */
  warmRatio: number;
  firstSecondDropped: number;
}

/** The built-in generator at one target rate: runs in a child pinned to core 0 (see main). */
async function runWorker(target: number, durationMs: number): Promise<void> {
  const profile: LoadProfile = {
    driver: 'builtin',
    executor: 'constant-arrival-rate',
    rate: target,
    stages: [],
    maxDurationMs: durationMs,
    maxInFlight: 256,
    requestTimeoutMs: 5000,
    maxRequests: 10_000_000,
    requests: [{ method: 'GET', path: '/', headers: {}, weight: 1 }],
  };
  const samples: LoadSample[] = [];
  const run = await createBuiltinDriver().start(profile, URL_BASE, (sample) => samples.push(sample));
  const s = await run.done;
  const warm = samples.slice(1);
  const warmScheduled = warm.reduce((sum, x) => sum + x.scheduled, 0);
  const result: WorkerResult = {
    target,
    // Successful answers only: a refused connection also "completes", and must not pass for throughput.
    achieved: s.succeeded / (durationMs / 1000),
    errors: s.completed - s.succeeded,
    scheduled: s.scheduled,
    completed: s.completed,
    dropped: s.dropped,
    p50: s.p50,
    p99: s.p99,
    warmRatio: warmScheduled === 0 ? 0 : warm.reduce((sum, x) => sum + x.succeeded, 0) / warmScheduled,
    firstSecondDropped: samples[0]?.dropped ?? 0,
  };
  console.log(JSON.stringify(result));
}

const pin = async (core: number, file: string, args: string[]): Promise<[string, string[]]> =>
  (await which('taskset')) !== undefined && cpus().length > 1
    ? ['taskset', ['-c', String(core), file, ...args]]
    : [file, args];

async function builtin(target: number, durationMs: number): Promise<WorkerResult> {
  const tsx = join(ROOT, 'node_modules/.bin/tsx');
  const [file, args] = await pin(0, tsx, [SELF, '--worker', String(target), String(durationMs)]);
  // The worker is another process (another pid): it must be told the server's port.
  const result = await run(file, args, { timeoutMs: durationMs + 30_000, env: { BENCH_PORT: String(PORT) } });
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as WorkerResult;
  } catch {
    throw new Error(`built-in worker at ${target}/s printed no result: ${result.stderr.slice(-500)}`);
  }
}

async function wrk(durationS: number): Promise<number | undefined> {
  if ((await which('wrk')) === undefined) return undefined;
  const [file, args] = await pin(0, 'wrk', ['-t1', '-c64', `-d${durationS}s`, `${URL_BASE}/`]);
  const result = await run(file, args, { timeoutMs: durationS * 1000 + 20_000 });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(result.stdout);
  return m ? Number(m[1]) : undefined;
}

async function autocannon(durationS: number): Promise<number | undefined> {
  const bin = join(ROOT, 'node_modules/autocannon/autocannon.js');
  const [file, args] = await pin(0, process.execPath, [
    bin,
    '-c',
    '64',
    '-d',
    String(durationS),
    '-j',
    `${URL_BASE}/`,
  ]);
  const result = await run(file, args, { timeoutMs: durationS * 1000 + 20_000 });
  try {
    const parsed = JSON.parse(result.stdout) as { requests?: { average?: number } };
    return parsed.requests?.average;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const stopServer = new AbortController();
  const [file, args] = await pin(1, process.execPath, ['-e', SERVER]);
  const server = run(file, args, { signal: stopServer.signal, timeoutMs: 120_000, killGraceMs: 1000 });
  try {
    // Wait (bounded) for the server to answer.
    const deadline = Date.now() + 10_000;
    while (true) {
      const ok = await fetch(`${URL_BASE}/`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`bench server on ${URL_BASE} did not start within 10 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const pinned = (await which('taskset')) !== undefined && cpus().length > 1;
    console.log(
      `load bench: server ${URL_BASE} (node http, core 1); generators on ${pinned ? 'core 0' : 'any core (no taskset)'}; ` +
        `${cpus().length} cores, load average ${loadavg()[0]?.toFixed(2)} (figures are only as quiet as the machine)`,
    );

    const rows: string[] = [];
    for (const target of [1000, 5000]) {
      const r = await builtin(target, 4000);
      rows.push(
        `built-in @ ${String(target).padStart(5)}/s: achieved ${r.achieved.toFixed(0)}/s (ratio ${(r.achieved / target).toFixed(4)}; after the first second ${r.warmRatio.toFixed(4)}), dropped ${r.dropped} (${r.firstSecondDropped} in the first second), errors ${r.errors}, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`,
      );
    }
    const max = await builtin(40_000, 4000);
    const wrkRate = await wrk(4);
    const acRate = await autocannon(4);
    for (const row of rows) console.log(row);
    console.log(
      `max req/s on one core: built-in ${max.achieved.toFixed(0)} (target 40000, dropped ${max.dropped}, p99 ${max.p99.toFixed(1)} ms) · wrk ${wrkRate?.toFixed(0) ?? 'n/a'} · autocannon ${acRate?.toFixed(0) ?? 'n/a'}`,
    );
    if (wrkRate !== undefined) console.log(`built-in max / wrk max = ${(max.achieved / wrkRate).toFixed(3)}`);
    if (acRate !== undefined)
      console.log(`built-in max / autocannon max = ${(max.achieved / acRate).toFixed(3)}`);
  } finally {
    stopServer.abort();
    await server;
  }
}

const workerAt = process.argv.indexOf('--worker');
if (workerAt >= 0) {
  await runWorker(Number(process.argv[workerAt + 1]), Number(process.argv[workerAt + 2]));
} else {
  const started = Date.now();
  await main();
  console.log(`bench time ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
