// Several k6 runners (a k6-operator TestRun with parallelism N) feed one parser, each its own stream. The merge
// must give the samples one generator at the same total rate gives: a request in the second it started in even
// when its runner's log is read seconds after the others', counts added, and latency percentiles of all requests
// (one histogram per second), never an average of the runners' percentiles.

import { expect } from 'chai';
import { K6OutputParser } from '../../harness/load/k6/output.js';
import type { LoadSample } from '../../harness/model/load.js';

const T0 = Date.parse('2026-12-06T10:00:00Z');
const SECONDS = 6;
const LATE_MS = 2000;

/** A k6 request point (http_req_duration) that started at `start` and took `ms`. */
function requestLine(start: number, ms: number, status = 200): { end: number; line: string } {
  const end = start + ms;
  const time = new Date(end).toISOString().replace('Z', '000000Z');
  const line = JSON.stringify({
    metric: 'http_req_duration',
    type: 'Point',
    data: { time, value: ms, tags: { status: String(status), name: '/echo', scenario: 'load' } },
  });
  return { end, line };
}

/**
 * Two runners sharing 20 requests per second as execution segments do: runner A the even slots (fast, 5 ms,
 * every 7th a 503), runner B the odd ones (slow, 50 ms).
 */
function runnerOutputs(): { a: { end: number; line: string }[]; b: { end: number; line: string }[] } {
  const a: { end: number; line: string }[] = [];
  const b: { end: number; line: string }[] = [];
  for (let slot = 0; slot < SECONDS * 20; slot++) {
    const start = T0 + slot * 50;
    if (slot % 2 === 0) a.push(requestLine(start, 5, slot % 7 === 0 ? 503 : 200));
    else b.push(requestLine(start, 50));
  }
  return { a, b };
}

/** The reference: one generator at the same total rate, its points in the order they ended. */
function oneGenerator(): LoadSample[] {
  const { a, b } = runnerOutputs();
  const all = [...a, ...b].sort((x, y) => x.end - y.end);
  const parser = new K6OutputParser({ lateMs: LATE_MS });
  const early = parser.push(`${all.map((p) => p.line).join('\n')}\n`);
  return [...early, ...parser.finish().samples];
}

/**
 * Feeds the runners as the in-cluster driver reads their logs, polling once a second, with runner B's log
 * lagging 3 s behind A's (a slow log read, a runner on a busier node).
 */
function polled(parser: K6OutputParser, streams: [string, string]): LoadSample[] {
  const { a, b } = runnerOutputs();
  const out: LoadSample[] = [];
  for (let poll = 1; poll <= SECONDS + 4; poll++) {
    const now = T0 + poll * 1000;
    const due = (points: { end: number; line: string }[], upTo: number) =>
      points.filter((p) => p.end <= upTo && p.end > upTo - 1000).map((p) => `${p.line}\n`);
    out.push(...parser.push(due(a, now).join(''), streams[0]));
    out.push(...parser.push(due(b, now - 3000).join(''), streams[1]));
  }
  out.push(...parser.finish().samples);
  return out;
}

const view = (samples: LoadSample[]) =>
  samples.map((s) => ({ t: s.t, completed: s.completed, byStatus: s.byStatus, p95: s.p95 }));

describe('load/k6 merging several runners', () => {
  it('gives the samples of one generator at the same total rate, whatever order the logs are read in', () => {
    const reference = oneGenerator();
    expect(reference.map((s) => s.completed)).to.deep.equal(Array(SECONDS).fill(20));
    const merged = polled(new K6OutputParser({ lateMs: LATE_MS, streams: 2 }), ['runner-1', 'runner-2']);
    expect(view(merged)).to.deep.equal(view(reference));
  });

  it('takes percentiles over all requests of a second, not the mean of the runners’ percentiles', () => {
    const merged = polled(new K6OutputParser({ lateMs: LATE_MS, streams: 2 }), ['runner-1', 'runner-2']);
    // Half the requests take 5 ms and half 50 ms: p95 of the union is 50 ms; the mean of p95s would be 27.5.
    for (const s of merged) expect(s.p95).to.be.closeTo(50, 1);
  });

  it('negative control: read as one stream, the lagging runner’s requests land in the wrong seconds', () => {
    const reference = oneGenerator();
    const asOne = polled(new K6OutputParser({ lateMs: LATE_MS }), ['k6', 'k6']);
    expect(view(asOne)).to.not.deep.equal(view(reference));
    // Every request is still counted: it is the seconds that are wrong.
    const total = (samples: LoadSample[]) => samples.reduce((n, s) => n + s.completed, 0);
    expect(total(asOne)).to.equal(total(reference));
  });

  it('starts the first second at the earliest request, though a slow first request ends after quicker ones', () => {
    // Points arrive in the order requests end: the 900 ms request that started first comes second.
    const slow = requestLine(T0, 900);
    const quick = requestLine(T0 + 500, 5);
    const later = Array.from({ length: 40 }, (_, i) => requestLine(T0 + 1000 + i * 100, 5));
    const parser = new K6OutputParser({ lateMs: LATE_MS });
    const samples = [
      ...parser.push(`${[quick, slow, ...later].map((p) => p.line).join('\n')}\n`),
      ...parser.finish().samples,
    ];
    expect(samples[0]?.t).to.equal(T0);
    expect(samples[0]?.completed).to.equal(2);
    expect(samples[0]?.p95).to.be.closeTo(900, 5);
  });

  it('does not hold the seconds back for a runner that has ended', () => {
    const parser = new K6OutputParser({ lateMs: LATE_MS, streams: 2 });
    const { a } = runnerOutputs();
    parser.endStream('runner-2');
    const closed = parser.push(`${a.map((p) => p.line).join('\n')}\n`, 'runner-1');
    expect(closed.length).to.be.greaterThan(0);
  });

  it('holds every second while a runner has not been heard from', () => {
    const parser = new K6OutputParser({ lateMs: LATE_MS, streams: 2 });
    const { a } = runnerOutputs();
    expect(parser.push(`${a.map((p) => p.line).join('\n')}\n`, 'runner-1')).to.deep.equal([]);
    expect(parser.finish().samples.length).to.equal(SECONDS);
  });
});
