// The k6 stand-in's execution segments against k6's own documented tables (lib/execution_segment.go), the
// operator's segment flags (pkg/segmentation), and the arrival schedules they give each instance.

import { expect } from 'chai';
import { segmentFlags } from '../../../clusters/local/controllers/testrun-jobs.js';
import { arrivals, planInstance } from '../../../clusters/local/programs/k6/schedule.js';
import type { ArrivalScenario } from '../../../clusters/local/programs/k6/script-reader.js';
import {
  executionTuple,
  ownedIndexes,
  parseFraction,
  parseSegment,
  parseSequence,
  restripeByValue,
  scaleInt,
} from '../../../clusters/local/programs/k6/segments.js';

function take(tuple: ReturnType<typeof executionTuple>, n: number): number[] {
  const out: number[] = [];
  const it = ownedIndexes(tuple);
  for (let i = 0; i < n; i++) out.push(it.next().value);
  return out;
}

const constant = (rate: number, durationMs: number, maxVUs: number): ArrivalScenario => ({
  executor: 'constant-arrival-rate',
  name: 'load',
  rate,
  durationMs,
  timeUnitMs: 1000,
  preAllocatedVUs: 1,
  maxVUs,
  gracefulStopMs: 1000,
});

describe('k6 stand-in: execution segments', () => {
  const sequence = parseSequence('0,1/2,3/4,1');
  const tuples = ['0:1/2', '1/2:3/4', '3/4:1'].map((s) => executionTuple(parseSegment(s), sequence));

  it('parses fractions, decimals and percentages as k6 does, and refuses bad segments', () => {
    expect(parseFraction('1/3')).to.deep.equal({ n: 1, d: 3 });
    expect(parseFraction('0.25')).to.deep.equal({ n: 1, d: 4 });
    expect(parseFraction('50%')).to.deep.equal({ n: 1, d: 2 });
    expect(parseSegment('1/2')).to.deep.equal({ from: { n: 0, d: 1 }, to: { n: 1, d: 2 } });
    expect(() => parseSegment('1/2:1/4')).to.throw(/start must be before its end/);
    expect(() => parseFraction('3/2')).to.throw(/greater than 1/);
    expect(() => executionTuple(parseSegment('0:1/3'), parseSequence('0,1/2,1'))).to.throw(
      /couldn't find segment/,
    );
  });

  it('stripes iterations as k6 documents for 0:1/2, 1/2:3/4, 3/4:1', () => {
    expect(take(tuples[0] as never, 6)).to.deep.equal([0, 2, 4, 6, 8, 10]);
    expect(take(tuples[1] as never, 3)).to.deep.equal([1, 5, 9]);
    expect(take(tuples[2] as never, 3)).to.deep.equal([3, 7, 11]);
  });

  it('scales integers as k6 documents, and the shares always sum to the value', () => {
    const table = tuples.map((t) => Array.from({ length: 12 }, (_, i) => scaleInt(t, i + 1)));
    expect(table[0]).to.deep.equal([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    expect(table[1]).to.deep.equal([0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3]);
    expect(table[2]).to.deep.equal([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3]);
    for (let v = 1; v <= 12; v++) expect(tuples.reduce((s, t) => s + scaleInt(t, v), 0)).to.equal(v);
  });

  it("builds the operator's segment flags (pkg/segmentation)", () => {
    expect(segmentFlags(1, 2)).to.deep.equal([
      '--execution-segment=0:1/2',
      '--execution-segment-sequence=0,1/2,1',
    ]);
    expect(segmentFlags(2, 2)).to.deep.equal([
      '--execution-segment=1/2:1',
      '--execution-segment-sequence=0,1/2,1',
    ]);
    expect(segmentFlags(2, 3)).to.deep.equal([
      '--execution-segment=1/3:2/3',
      '--execution-segment-sequence=0,1/3,2/3,1',
    ]);
    expect(() => segmentFlags(3, 2)).to.throw(/exceeds/);
  });

  it('re-stripes an arrival-rate executor by maxVUs, as k6 does (odd maxVUs over two halves: 3/5 and 2/5)', () => {
    const halves = parseSequence('0,1/2,1');
    const first = executionTuple(parseSegment('0:1/2'), halves);
    const second = executionTuple(parseSegment('1/2:1'), halves);
    const count = (t: typeof first, maxVUs: number): number =>
      [...arrivals(constant(20, 5000, maxVUs), planInstance(constant(20, 5000, maxVUs), t))].length;
    expect([count(first, 10), count(second, 10)]).to.deep.equal([50, 50]);
    expect([count(first, 5), count(second, 5)]).to.deep.equal([60, 40]);
    expect(() => restripeByValue(second, 1)).to.throw(/isn't present in the new sequence/);
  });

  it('gives two runners disjoint halves of a constant-rate schedule that together are the whole one', () => {
    const halves = parseSequence('0,1/2,1');
    const scenario = constant(20, 8000, 10);
    const all = ['0:1/2', '1/2:1'].flatMap((s) => [
      ...arrivals(scenario, planInstance(scenario, executionTuple(parseSegment(s), halves))),
    ]);
    expect(all).to.have.length(160);
    const byIndex = new Map(all.map((a) => [a.index, a.atMs]));
    expect(byIndex.size).to.equal(160);
    for (let i = 0; i < 160; i++) expect(byIndex.get(i)).to.be.closeTo(i * 50, 1e-9);
  });

  it('places ramping-arrival-rate iterations where the area under the rate reaches each count', () => {
    const scenario: ArrivalScenario = {
      executor: 'ramping-arrival-rate',
      name: 'load',
      startRate: 0,
      stages: [
        { target: 10, durationMs: 10_000 },
        { target: 10, durationMs: 2000 },
      ],
      timeUnitMs: 1000,
      preAllocatedVUs: 1,
      maxVUs: 4,
      gracefulStopMs: 0,
    };
    const whole = [...arrivals(scenario, planInstance(scenario, executionTuple(undefined, [])))];
    // 0→10/s over 10 s is 50 iterations, then 10/s for 2 s is 20 more.
    expect(whole).to.have.length(70);
    // The rate is t/s², so the n-th of the ramp starts at area n: t = sqrt(2n) s (1.41 s, …, 10 s for the 50th).
    expect(whole[0]?.atMs).to.be.closeTo(Math.SQRT2 * 1000, 1e-6);
    expect(whole[49]?.atMs).to.be.closeTo(10_000, 1e-6);
    expect(whole[69]?.atMs).to.be.closeTo(12_000, 1e-6);
    const halves = parseSequence('0,1/2,1');
    const split = ['0:1/2', '1/2:1'].map((s) => [
      ...arrivals(scenario, planInstance(scenario, executionTuple(parseSegment(s), halves))),
    ]);
    expect(split.map((s) => s.length)).to.deep.equal([35, 35]);
  });
});
