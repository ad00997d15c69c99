// Live recovery detection while the recover phase runs: the earliest start t ≥ from such that every SLO holds
// over the whole verification window [t, t + verify). "Recovered" never means one good second.

import type { LoadSample, SloThreshold } from '../model/index.js';
import { evaluateSlos } from '../slo/sli.js';

export const BUCKET_MS = 1000;

/**
 * Scans candidate starts on 1 s boundaries from `from` while a full window of samples exists (samples up to
 * `now`). Returns the first holding start, or undefined if none holds yet.
 */
export function findHoldingWindow(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
  from: number,
  verifyMs: number,
  now: number,
): number | undefined {
  const first = Math.ceil(from / BUCKET_MS) * BUCKET_MS;
  const lastSampleEnd = samples.length > 0 ? (samples[samples.length - 1] as LoadSample).t + BUCKET_MS : 0;
  const horizon = Math.min(now, lastSampleEnd);
  for (let start = first; start + verifyMs <= horizon; start += BUCKET_MS) {
    const results = evaluateSlos(slos, samples, start, start + verifyMs);
    if (results.every((r) => r.passed)) return start;
  }
  return undefined;
}

/** For each SLO, the first second ≥ from from which it held for the rest of the window [t, t + verify). */
export function restoredAt(
  slo: SloThreshold,
  samples: readonly LoadSample[],
  from: number,
  verifyMs: number,
  horizon: number,
): number | undefined {
  return findHoldingWindow([slo], samples, from, verifyMs, horizon);
}
