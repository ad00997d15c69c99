// Tests of the built-in open-model driver: rate accuracy on virtual time, and against real loopback servers the
// drop-and-count under a stall, latency from the intended start, error kinds, flags, stop and abort.

import { createServer } from 'node:net';
import { expect } from 'chai';
import { createBuiltinDriver } from '../../harness/load/builtin-driver.js';
import type { LoadSample } from '../../harness/model/load.js';
import { decodeHistogram } from '../../harness/slo/histogram.js';
import { makeProfile, ScriptedTransport, TestServer, VirtualClock } from './support.js';

const T0 = 1_700_000_000_000;

/** Polls until `check` is true, up to `limitMs`. */
async function waitFor(check: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('load/builtin-driver on virtual time', () => {
  it('starts exactly the scheduled rate each second and streams one sample per second', async () => {
    const clock = new VirtualClock(T0);
    const transport = new ScriptedTransport(clock);
    const driver = createBuiltinDriver({ clock, createTransport: () => transport });
    const samples: LoadSample[] = [];
    const run = await driver.start(makeProfile({ rate: 250, maxDurationMs: 4000 }), 'http://x', (s) =>
      samples.push(s),
    );
    const summary = await run.done;
    expect(samples.map((s) => s.t)).to.deep.equal([T0, T0 + 1000, T0 + 2000, T0 + 3000]);
    expect(samples.map((s) => s.scheduled)).to.deep.equal([250, 250, 250, 250]);
    expect(samples.map((s) => s.succeeded)).to.deep.equal([250, 250, 250, 250]);
    // Each request left at its intended instant: send times are exactly 4 ms apart.
    const gaps = transport.sent.slice(1).map((s, i) => s.at - (transport.sent[i]?.at as number));
    expect(Math.max(...gaps) - Math.min(...gaps)).to.be.lessThan(1e-6);
    expect(summary).to.include({ scheduled: 1000, completed: 1000, succeeded: 1000, dropped: 0 });
  });

  it('follows a ramping profile second by second', async () => {
    const clock = new VirtualClock(T0);
    const transport = new ScriptedTransport(clock);
    const driver = createBuiltinDriver({ clock, createTransport: () => transport });
    const samples: LoadSample[] = [];
    const profile = makeProfile({
      executor: 'ramping-arrival-rate',
      rate: 0,
      stages: [
        { durationMs: 2000, target: 200 },
        { durationMs: 1000, target: 200 },
      ],
    });
    const run = await driver.start(profile, 'http://x', (s) => samples.push(s));
    await run.done;
    expect(samples.map((s) => s.scheduled)).to.deep.equal([50, 150, 200]);
  });

  it('stops at maxRequests whatever the schedule says', async () => {
    const clock = new VirtualClock(T0);
    const transport = new ScriptedTransport(clock);
    const driver = createBuiltinDriver({ clock, createTransport: () => transport });
    const samples: LoadSample[] = [];
    const run = await driver.start(makeProfile({ rate: 100, maxRequests: 150 }), 'http://x', (s) =>
      samples.push(s),
    );
    const summary = await run.done;
    expect(transport.sent.length).to.equal(150);
    expect(summary.scheduled).to.equal(150);
    expect(samples.map((s) => s.scheduled)).to.deep.equal([100, 50]);
  });

  it('counts statuses, Envoy flags and client errors; success is [200, 400)', async () => {
    const clock = new VirtualClock(T0);
    let n = 0;
    const transport = new ScriptedTransport(clock, () => {
      n += 1;
      if (n % 4 === 0) return { kind: 'response', status: 503, flags: 'UF,URX' };
      if (n % 4 === 1) return { kind: 'response', status: 302 };
      if (n % 4 === 2) return { kind: 'error', error: 'refused' };
      return { kind: 'response', status: 404, flags: '-' };
    });
    const driver = createBuiltinDriver({ clock, createTransport: () => transport });
    const run = await driver.start(makeProfile({ rate: 100, maxDurationMs: 1000 }), 'http://x', () => {});
    const summary = await run.done;
    expect(summary.byStatus).to.deep.equal({ '302': 25, '404': 25, '503': 25 });
    expect(summary.byFlag).to.deep.equal({ UF: 25, URX: 25 });
    expect(summary.byError).to.deep.equal({ refused: 25 });
    expect(summary.succeeded).to.equal(25);
    expect(summary.completed).to.equal(100);
  });

  it('refuses a profile that cannot run, listing every problem', async () => {
    const driver = createBuiltinDriver({ clock: new VirtualClock(T0) });
    try {
      await driver.start(makeProfile({ rate: 0, maxInFlight: 0 }), 'http://x', () => {});
      expect.fail('start should have thrown');
    } catch (error) {
      expect(String(error)).to.match(/rate: expected a positive number, got 0/);
      expect(String(error)).to.match(/maxInFlight: expected a positive number, got 0/);
    }
  });
});

describe('load/builtin-driver against a loopback server', function () {
  this.timeout(15_000);
  const server = new TestServer();
  let baseUrl = '';
  before(async () => {
    baseUrl = await server.listen();
  });
  after(async () => {
    await server.close();
  });
  afterEach(() => {
    server.releaseStalled();
    server.handler = (_req, res) => res.end('ok');
  });

  it('sends real requests with keep-alive and the Host header, and measures them', async () => {
    const hosts = new Set<string>();
    const ports = new Set<number>();
    server.handler = (req, res) => {
      hosts.add(req.headers.host ?? '');
      ports.add(req.socket.remotePort ?? 0);
      res.setHeader('x-envoy-response-flags', 'DI');
      res.end('ok');
    };
    const samples: LoadSample[] = [];
    const run = await createBuiltinDriver().start(
      makeProfile({ rate: 200, maxDurationMs: 1500, maxInFlight: 20, host: 'shop.example.com' }),
      baseUrl,
      (s) => samples.push(s),
    );
    const summary = await run.done;
    expect(summary.scheduled).to.equal(300);
    expect(summary.succeeded).to.equal(300);
    expect(summary.byFlag).to.deep.equal({ DI: 300 });
    expect([...hosts]).to.deep.equal(['shop.example.com']);
    // Pooled: far fewer connections than requests.
    expect(ports.size).to.be.at.most(20);
    expect(samples.length).to.equal(2);
    expect(decodeHistogram(summary.histogram).count).to.equal(300);
  });

  it('drops and counts instead of queueing when the server stalls, and stop() ends cleanly', async () => {
    server.handler = server.stall();
    const samples: LoadSample[] = [];
    const run = await createBuiltinDriver().start(
      makeProfile({ rate: 100, maxDurationMs: 10_000, maxInFlight: 5, requestTimeoutMs: 8000 }),
      baseUrl,
      (s) => samples.push(s),
    );
    // Let 1.5 s of schedule pass (bounded wait on the streamed second 0, which closes only when forced).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const started = Date.now();
    const summary = await run.stop();
    expect(Date.now() - started, 'stop() returns promptly').to.be.lessThan(1500);
    // Five requests hold the five slots; every other scheduled one was dropped, none queued.
    expect(summary.scheduled).to.be.within(140, 160);
    expect(summary.dropped).to.equal(summary.scheduled - 5);
    // The five in flight were aborted by stop(): neither completed nor failed.
    expect(summary.completed).to.equal(0);
    // Second 0 and the partial second 1 were flushed at stop.
    expect(samples.map((s) => s.t - summary.startedAt)).to.deep.equal([0, 1000]);
    expect(samples[0]?.dropped).to.equal(95);
  });

  it('counts latency from the intended start when the generator itself is held up', async () => {
    // The server answers at once; the client's event loop is blocked 300 ms at t≈500 ms. Requests due during the
    // block go out late: measured from their intended start they show up to 300 ms, as users would have seen.
    const samples: LoadSample[] = [];
    const run = await createBuiltinDriver().start(
      makeProfile({ rate: 100, maxDurationMs: 1000, maxInFlight: 100 }),
      baseUrl,
      (s) => samples.push(s),
    );
    setTimeout(() => {
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // busy: the generator cannot send
      }
    }, 500);
    const summary = await run.done;
    expect(summary.scheduled).to.equal(100);
    expect(summary.dropped).to.equal(0);
    const latency = decodeHistogram(summary.histogram);
    expect(latency.max).to.be.within(250, 600);
    // About 30 requests were due during the block: the slowest decile carries the wait.
    expect(latency.percentile(90)).to.be.greaterThan(50);
    expect(latency.percentile(50)).to.be.lessThan(50);
  });

  it('shows a stalled server as latency of the seconds whose requests it delayed', async () => {
    server.handler = (_req, res) => {
      setTimeout(() => res.end('slow'), 400);
    };
    const samples: LoadSample[] = [];
    const run = await createBuiltinDriver().start(
      makeProfile({ rate: 50, maxDurationMs: 1000, maxInFlight: 100 }),
      baseUrl,
      (s) => samples.push(s),
    );
    const summary = await run.done;
    expect(summary.completed).to.equal(50);
    expect(summary.p50).to.be.within(395, 600);
    expect(samples).to.have.length(1);
    expect(samples[0]?.p50).to.be.within(395, 600);
  });

  it('times out requests and counts them as timeout errors', async () => {
    server.handler = server.stall();
    const run = await createBuiltinDriver().start(
      makeProfile({ rate: 20, maxDurationMs: 500, maxInFlight: 50, requestTimeoutMs: 300 }),
      baseUrl,
      () => {},
    );
    const summary = await run.done;
    expect(summary.byError).to.deep.equal({ timeout: 10 });
    expect(summary.completed).to.equal(10);
    expect(summary.succeeded).to.equal(0);
    expect(summary.p50).to.be.within(295, 700);
  });

  it('classifies refused and reset connections', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await new Promise((resolve) => probe.once('listening', resolve));
    const address = probe.address();
    const freePort = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise((resolve) => probe.close(resolve));
    const refused = await createBuiltinDriver().start(
      makeProfile({ rate: 20, maxDurationMs: 250, maxInFlight: 10 }),
      `http://127.0.0.1:${freePort}`,
      () => {},
    );
    expect((await refused.done).byError).to.deep.equal({ refused: 5 });

    server.handler = (req) => req.socket.destroy();
    const reset = await createBuiltinDriver().start(
      makeProfile({ rate: 20, maxDurationMs: 250, maxInFlight: 10 }),
      baseUrl,
      () => {},
    );
    expect((await reset.done).byError).to.deep.equal({ reset: 5 });
  });

  it('ends on the AbortSignal like stop(), aborting what is in flight', async () => {
    server.handler = server.stall();
    const controller = new AbortController();
    const run = await createBuiltinDriver().start(
      makeProfile({ rate: 50, maxDurationMs: 10_000, maxInFlight: 10, requestTimeoutMs: 9000 }),
      baseUrl,
      () => {},
      controller.signal,
    );
    // Abort once the ten slots are taken by stalled requests (bounded poll on the server side).
    await waitFor(() => server.stalledCount() >= 10, 2000, 'ten stalled requests at the server');
    controller.abort();
    const summary = await run.done;
    expect(summary.endedAt - summary.startedAt).to.be.lessThan(2000);
    expect(summary.completed).to.equal(0);
    expect(summary.scheduled).to.be.at.least(10);
    expect(summary.dropped).to.equal(summary.scheduled - 10);
  });
});
