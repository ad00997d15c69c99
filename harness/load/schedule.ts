// The arrival schedule of an open-model load: when each request is meant to start, as an offset in ms from the
// start of the run. Pure. Constant-arrival-rate starts `rate` requests per second evenly; ramping-arrival-rate
// starts at `rate` and moves linearly to each stage's target over the stage, like k6's executor of that name.

import type { LoadProfile } from '../model/index.js';

export interface RateSegment {
  /** Offset of the segment start, ms. */
  from: number;
  durationMs: number;
  /** Requests per second at the segment start and end (linear in between). */
  startRate: number;
  endRate: number;
}

/** How long the schedule runs: maxDurationMs for a constant rate; the stages (capped by it) when ramping. */
export function scheduleDurationMs(profile: LoadProfile): number {
  if (profile.executor === 'constant-arrival-rate') return profile.maxDurationMs;
  const stages = profile.stages.reduce((sum, stage) => sum + stage.durationMs, 0);
  return Math.min(stages, profile.maxDurationMs);
}

/** The profile as rate segments covering [0, scheduleDurationMs). */
export function rateSegments(profile: LoadProfile): RateSegment[] {
  const total = scheduleDurationMs(profile);
  if (profile.executor === 'constant-arrival-rate') {
    return [{ from: 0, durationMs: total, startRate: profile.rate, endRate: profile.rate }];
  }
  const segments: RateSegment[] = [];
  let from = 0;
  let rate = profile.rate;
  for (const stage of profile.stages) {
    if (from >= total) break;
    const durationMs = Math.min(stage.durationMs, total - from);
    // A stage cut short by maxDurationMs ends at the rate it had reached by then.
    const endRate =
      rate + (stage.target - rate) * (stage.durationMs === 0 ? 1 : durationMs / stage.durationMs);
    if (durationMs > 0) segments.push({ from, durationMs, startRate: rate, endRate });
    from += durationMs;
    rate = stage.target;
  }
  return segments;
}

/** The arrival rate (requests/s) at an offset; 0 outside the schedule. */
export function rateAt(segments: readonly RateSegment[], offsetMs: number): number {
  for (const s of segments) {
    if (offsetMs >= s.from && offsetMs < s.from + s.durationMs) {
      return s.startRate + ((s.endRate - s.startRate) * (offsetMs - s.from)) / s.durationMs;
    }
  }
  return 0;
}

/** Arrivals expected in one segment: the area under its rate line. */
function segmentArrivals(s: RateSegment): number {
  return ((s.startRate + s.endRate) / 2) * (s.durationMs / 1000);
}

/**
 * Iterates the intended start offsets (ms): the n-th request (from 0) starts when the cumulative arrivals reach
 * n, so the first starts at 0 and a 100/s rate starts one every 10 ms. Returns undefined when the schedule ends.
 */
export function createArrivalSchedule(profile: LoadProfile): () => number | undefined {
  const segments = rateSegments(profile);
  let index = 0;
  let before = 0; // arrivals owed by the segments before `index`
  let n = 0;
  return () => {
    while (index < segments.length) {
      const s = segments[index] as RateSegment;
      const inSegment = segmentArrivals(s);
      const k = n - before; // arrivals into this segment, fractional position
      if (k < inSegment - 1e-9) {
        const offset = s.from + solveOffsetMs(s, k);
        n += 1;
        return offset;
      }
      before += inSegment;
      index += 1;
    }
    return undefined;
  };
}

/** The time into a segment (ms) at which `k` arrivals have accumulated: solves r0·τ + (r1−r0)·τ²/(2D) = k. */
function solveOffsetMs(s: RateSegment, k: number): number {
  const d = s.durationMs / 1000;
  const r0 = s.startRate;
  const slope = (s.endRate - s.startRate) / d;
  let tau: number;
  if (k <= 0) {
    tau = 0;
  } else if (Math.abs(slope) < 1e-12) {
    tau = r0 === 0 ? d : k / r0;
  } else {
    // (slope/2)·τ² + r0·τ − k = 0, the positive root; written to stay accurate when slope is small.
    const disc = r0 * r0 + 2 * slope * k;
    tau = (2 * k) / (r0 + Math.sqrt(Math.max(0, disc)));
  }
  return Math.min(s.durationMs, tau * 1000);
}
