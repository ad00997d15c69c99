// Tests of the latency histogram wrapper: percentiles and merges against a sorted-array reference.

import { expect } from 'chai';
import { createHistogram, decodeHistogram, encodeHistogram, mergeEncoded } from './histogram.js';

/** A deterministic pseudo-random sequence (mulberry32), so failures reproduce. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The nearest-rank percentile of a sorted array, at µs resolution like the histogram. */
function referencePercentile(sorted: number[], p: number): number {
  // The small epsilon keeps float noise (0.999 * 20000 = 19980.000000000004) from skipping a rank.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9));
  return sorted[rank - 1] as number;
}

function expectClose(actual: number, expected: number, what: string): void {
  // 3 significant digits: the bucket holding a value is at most 0.1 % wide, plus 1 µs of rounding to µs.
  const tolerance = expected * 0.001 + 0.001;
  expect(
    Math.abs(actual - expected),
    `${what}: got ${actual}, expected ${expected} ± ${tolerance}`,
  ).to.be.at.most(tolerance);
}

describe('slo/histogram', () => {
  it('reports NaN percentiles and a zero count when empty', () => {
    const h = createHistogram();
    expect(h.count).to.equal(0);
    expect(h.percentile(99)).to.be.NaN;
    expect(h.max).to.be.NaN;
  });

  it('keeps sub-millisecond resolution', () => {
    const h = createHistogram();
    h.record(0.25);
    h.record(0.75);
    expectClose(h.percentile(50), 0.25, 'p50');
    expectClose(h.percentile(100), 0.75, 'p100');
  });

  it('merges shards to the same percentiles as one sorted array of all values', () => {
    const random = seeded(42);
    const all: number[] = [];
    const shards = Array.from({ length: 7 }, () => createHistogram());
    for (let i = 0; i < 20_000; i++) {
      // A long-tailed mix: mostly ~2 ms, some ~50 ms, a few seconds.
      const r = random();
      const ms = r < 0.9 ? 1 + random() * 2 : r < 0.99 ? 20 + random() * 60 : 1000 + random() * 4000;
      const micros = Math.round(ms * 1000) / 1000;
      all.push(micros);
      shards[i % shards.length]?.record(micros);
    }
    all.sort((a, b) => a - b);
    const merged = mergeEncoded(shards.map(encodeHistogram));
    expect(merged.count).to.equal(all.length);
    for (const p of [1, 10, 50, 90, 95, 99, 99.9, 100]) {
      expectClose(merged.percentile(p), referencePercentile(all, p), `p${p}`);
    }
  });

  it('counts values at or below a latency', () => {
    const h = createHistogram();
    for (let i = 1; i <= 100; i++) h.record(i);
    expect(h.countAtOrBelow(30)).to.equal(30);
    expect(h.countAtOrBelow(0.5)).to.equal(0);
    expect(h.countAtOrBelow(1000)).to.equal(100);
  });

  it('round-trips through the compressed base64 form', () => {
    const h = createHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10);
    const back = decodeHistogram(encodeHistogram(h));
    expect(back.count).to.equal(1000);
    expect(back.percentile(95)).to.equal(h.percentile(95));
    // The exact max is not encoded: the decoded one is the top of its bucket.
    expectClose(back.max, h.max, 'max');
  });

  it('treats an empty string as an empty histogram and rejects garbage with a clear message', () => {
    expect(decodeHistogram('').count).to.equal(0);
    expect(() => decodeHistogram('not-a-histogram')).to.throw(/cannot decode latency histogram/);
  });

  it('clamps values beyond one hour instead of throwing', () => {
    const h = createHistogram();
    h.record(5 * 3_600_000);
    h.recordMany(10, 3);
    expect(h.count).to.equal(4);
    expectClose(h.max, 3_600_000, 'max');
  });
});
