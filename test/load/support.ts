// Test doubles for the load driver: a virtual clock that jumps to each wake-up, a scripted transport, profiles,
// and a loopback HTTP server whose behaviour a test can change (answer, stall, reset).

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { RequestOutcome } from '../../harness/load/buckets.js';
import type { LoadClock } from '../../harness/load/clock.js';
import type { LoadTransport, OutgoingRequest } from '../../harness/load/transport.js';
import { expect } from 'chai';
import type { LoadDriver, LoadProfile, LoadSample } from '../../harness/model/load.js';
import { decodeHistogram } from '../../harness/slo/histogram.js';

/** Virtual time: sleepUntil jumps the clock forward at once (after letting pending callbacks run). */
export class VirtualClock implements LoadClock {
  private t: number;
  constructor(start: number) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  async sleepUntil(at: number): Promise<void> {
    // Let completions scheduled for "now" run before time moves on.
    await new Promise((resolve) => setImmediate(resolve));
    if (at > this.t) this.t = at;
  }
}

/** A transport that answers from a function of (request, virtual send time), instantly. */
export class ScriptedTransport implements LoadTransport {
  readonly sent: { at: number; request: OutgoingRequest }[] = [];
  constructor(
    private readonly clock: LoadClock,
    private readonly answer: (request: OutgoingRequest) => RequestOutcome = () => ({
      kind: 'response',
      status: 200,
    }),
  ) {}
  async send(request: OutgoingRequest): Promise<RequestOutcome> {
    this.sent.push({ at: this.clock.now(), request });
    return this.answer(request);
  }
  abortAll(): void {}
  async close(): Promise<void> {}
}

export function makeProfile(overrides: Partial<LoadProfile> = {}): LoadProfile {
  return {
    driver: 'builtin',
    executor: 'constant-arrival-rate',
    rate: 100,
    stages: [],
    maxDurationMs: 5000,
    maxInFlight: 100,
    requestTimeoutMs: 2000,
    maxRequests: 1_000_000,
    requests: [{ method: 'GET', path: '/', headers: {}, weight: 1 }],
    ...overrides,
  };
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP server; `handler` can be swapped while it runs. Close it in `after`. */
export class TestServer {
  handler: Handler = (_req, res) => res.end('ok');
  private readonly server: Server;
  private readonly stalled = new Set<ServerResponse>();
  constructor() {
    this.server = createServer((req, res) => this.handler(req, res));
    this.server.keepAliveTimeout = 5000;
  }
  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }
  /** A handler that never answers (until release or close). */
  stall(): Handler {
    return (_req, res) => {
      this.stalled.add(res);
    };
  }
  stalledCount(): number {
    return this.stalled.size;
  }
  releaseStalled(status = 200): void {
    for (const res of this.stalled) {
      if (!res.writableEnded) res.writeHead(status).end('late');
    }
    this.stalled.clear();
  }
  async close(): Promise<void> {
    this.releaseStalled();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }
}

/** A loopback HTTP server on a thread of its own, as the mesh's processes are not the harness's main thread. */
export async function startServerThread(): Promise<{ url: string; stop(): Promise<number> }> {
  const worker = new Worker(
    `const http = require('node:http');
     const { parentPort } = require('node:worker_threads');
     const server = http.createServer((req, res) => { req.resume(); res.end('ok'); });
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
    { eval: true },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => worker.terminate() };
}

/** Blocks this thread's event loop for `ms`. */
export function blockMainThread(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing on the main thread runs
  }
}

/** Runs 4 s at 200 req/s, blocking the main thread 500 ms at 1.2 s and 2.5 s; the run's p99 (ms). */
export async function p99WhileMainThreadBlocked(
  driver: LoadDriver,
  url: string,
): Promise<{ p99: number; samples: LoadSample[] }> {
  const samples: LoadSample[] = [];
  const run = await driver.start(
    makeProfile({ rate: 200, maxDurationMs: 4000, maxInFlight: 200 }),
    url,
    (s) => samples.push(s),
  );
  const timers = [1200, 2500].map((at) => setTimeout(() => blockMainThread(500), at));
  const summary = await run.done;
  for (const timer of timers) clearTimeout(timer);
  expect(summary.scheduled).to.equal(800);
  return { p99: decodeHistogram(summary.histogram).percentile(99), samples };
}
