// The built-in generator on its own worker thread: the harness's main thread blocked for 500 ms at a time does
// not move the measured latency (the inline generator, as a negative control, shows every block); samples carry
// the instrument's health (send lag, loop delay, CPU, control path); stop() and the schedule end the worker.

import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { createBuiltinDriver } from '../../harness/load/builtin-driver.js';
import { createIsolatedBuiltinDriver } from '../../harness/load/index.js';
import type { LoadDriver, LoadSample } from '../../harness/model/load.js';
import { decodeHistogram } from '../../harness/slo/histogram.js';
import { makeProfile } from './support.js';

/** A loopback HTTP server on a thread of its own, as the mesh's processes are not the harness's main thread. */
async function startServerThread(): Promise<{ url: string; stop(): Promise<number> }> {
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
function blockMainThread(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing on the main thread runs
  }
}

/** Runs 4 s at 200 req/s, blocking the main thread 500 ms at 1.2 s and 2.5 s; the run's p99 (ms). */
async function p99WithBlocks(
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

describe('load/isolated driver (worker thread)', function () {
  this.timeout(30_000);
  let server: Awaited<ReturnType<typeof startServerThread>>;
  before(async () => {
    server = await startServerThread();
  });
  after(async () => {
    await server.stop();
  });

  it('keeps its timing while the main thread is blocked for 500 ms, twice', async () => {
    const { p99, samples } = await p99WithBlocks(createIsolatedBuiltinDriver(), server.url);
    // A loopback answer takes about a millisecond; a block that reached the generator would add up to 500 ms.
    expect(p99, 'p99 with the main thread blocked').to.be.lessThan(25);
    expect(samples.map((s) => s.completed)).to.deep.equal([200, 200, 200, 200]);
  });

  it('negative control: the inline generator on the main thread shows the same blocks as latency', async () => {
    const { p99 } = await p99WithBlocks(createBuiltinDriver(), server.url);
    expect(p99).to.be.greaterThan(300);
  });

  it('streams the instrument health of every second: send lag, loop delay, CPU and the control path', async () => {
    const samples: LoadSample[] = [];
    const run = await createIsolatedBuiltinDriver().start(
      makeProfile({ rate: 100, maxDurationMs: 2000 }),
      server.url,
      (s) => samples.push(s),
    );
    await run.done;
    expect(samples).to.have.length(2);
    for (const s of samples) {
      const health = s.instrument;
      expect(health, 'instrument').to.not.equal(undefined);
      expect(health?.sendLagMaxMs).to.be.within(0, 100);
      expect(health?.loopDelayMaxMs).to.be.within(0, 100);
      // A control probe every 100 ms: about ten per second, each a loopback round trip.
      expect(health?.control.length).to.be.within(5, 11);
      for (const ms of health?.control ?? []) expect(ms).to.be.within(0, 1000);
      expect(health?.cpuBusy).to.be.within(0, 1);
    }
  });

  it('stop() ends the run early and resolves with the summary', async () => {
    const run = await createIsolatedBuiltinDriver().start(
      makeProfile({ rate: 50, maxDurationMs: 60_000 }),
      server.url,
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const started = Date.now();
    const summary = await run.stop();
    expect(Date.now() - started).to.be.lessThan(3000);
    expect(summary.scheduled).to.be.within(50, 80);
    expect(summary.succeeded).to.equal(summary.completed);
  });

  it('refuses a profile that cannot run, before starting a thread', async () => {
    const error = await createIsolatedBuiltinDriver()
      .start(makeProfile({ rate: 0 }), server.url, () => undefined)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(String(error)).to.match(/rate: expected a positive number, got 0/);
  });
});
