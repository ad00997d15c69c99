// The built-in generator on its own worker thread: the harness's main thread blocked for 500 ms at a time does
// not move the measured latency (the inline generator, as a negative control, shows every block); samples carry
// the instrument's health (send lag, loop delay, CPU, control path); stop() and the schedule end the worker.

import { expect } from 'chai';
import { createBuiltinDriver } from '../../harness/load/builtin-driver.js';
import { createIsolatedBuiltinDriver } from '../../harness/load/index.js';
import type { LoadSample } from '../../harness/model/load.js';
import { makeProfile, p99WhileMainThreadBlocked, startServerThread } from './support.js';

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
    const { p99, samples } = await p99WhileMainThreadBlocked(createIsolatedBuiltinDriver(), server.url);
    // A loopback answer takes about a millisecond; a block that reached the generator would add up to 500 ms.
    expect(p99, 'p99 with the main thread blocked').to.be.lessThan(25);
    expect(samples.map((s) => s.completed)).to.deep.equal([200, 200, 200, 200]);
  });

  it('negative control: the inline generator on the main thread shows the same blocks as latency', async () => {
    const { p99 } = await p99WhileMainThreadBlocked(createBuiltinDriver(), server.url);
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
