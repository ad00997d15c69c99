// Tests of the arrival schedule (constant and ramping like k6) and of the weighted request mix.

import { expect } from 'chai';
import { createRequestPicker } from '../../harness/load/mix.js';
import {
  createArrivalSchedule,
  rateAt,
  rateSegments,
  scheduleDurationMs,
} from '../../harness/load/schedule.js';
import type { LoadProfile } from '../../harness/model/load.js';
import { makeProfile } from './support.js';

function drain(profile: LoadProfile): number[] {
  const next = createArrivalSchedule(profile);
  const out: number[] = [];
  for (let o = next(); o !== undefined; o = next()) out.push(o);
  return out;
}

function perSecond(offsets: number[], seconds: number): number[] {
  const counts = Array.from({ length: seconds }, () => 0);
  for (const o of offsets) counts[Math.floor(o / 1000)] = (counts[Math.floor(o / 1000)] ?? 0) + 1;
  return counts;
}

describe('load/schedule', () => {
  it('spaces a constant rate evenly from 0 for the whole duration', () => {
    const offsets = drain(makeProfile({ rate: 50, maxDurationMs: 3000 }));
    expect(offsets.length).to.equal(150);
    expect(offsets[0]).to.equal(0);
    expect(offsets[1]).to.be.closeTo(20, 1e-9);
    expect(offsets.at(-1)).to.be.closeTo(2980, 1e-6);
  });

  it('ramps linearly between stages like k6 ramping-arrival-rate', () => {
    const profile = makeProfile({
      executor: 'ramping-arrival-rate',
      rate: 0,
      stages: [
        { durationMs: 4000, target: 400 },
        { durationMs: 2000, target: 400 },
        { durationMs: 2000, target: 0 },
      ],
      maxDurationMs: 60_000,
    });
    expect(scheduleDurationMs(profile)).to.equal(8000);
    expect(rateAt(rateSegments(profile), 1000)).to.equal(100);
    // Per second: the area under the rate line (50, 150, 250, 350, 400, 400, 300, 100).
    expect(perSecond(drain(profile), 8)).to.deep.equal([50, 150, 250, 350, 400, 400, 300, 100]);
  });

  it('cuts the ramp at maxDurationMs at the rate reached by then', () => {
    const profile = makeProfile({
      executor: 'ramping-arrival-rate',
      rate: 100,
      stages: [{ durationMs: 10_000, target: 1100 }],
      maxDurationMs: 2000,
    });
    const segments = rateSegments(profile);
    expect(segments).to.deep.equal([{ from: 0, durationMs: 2000, startRate: 100, endRate: 300 }]);
    expect(drain(profile).length).to.equal(400);
  });

  it('spreads a weighted mix exactly and deterministically', () => {
    const pick = createRequestPicker([
      { method: 'GET', path: '/a', headers: {}, weight: 3 },
      { method: 'POST', path: '/b', headers: {}, weight: 1 },
      { method: 'GET', path: '/never', headers: {}, weight: 0 },
    ]);
    const paths = Array.from({ length: 8 }, () => pick().path);
    expect(paths.filter((p) => p === '/a').length).to.equal(6);
    expect(paths.filter((p) => p === '/b').length).to.equal(2);
    expect(paths).to.not.include('/never');
    // Spread out, not bunched: /b never twice in a row.
    expect(paths.join(',')).to.not.match(/\/b,\/b/);
  });

  it('refuses a mix without a positive weight, saying how to fix it', () => {
    expect(() => createRequestPicker([{ method: 'GET', path: '/', headers: {}, weight: 0 }])).to.throw(
      /no request with a positive weight.*add at least one/,
    );
  });
});
