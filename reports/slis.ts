// SLIs over a window of load samples, evaluated against the scenario's SLO thresholds.
// Latency uses the worst per-second percentile in the window: per-sample p50/p95/p99 cannot be merged
// exactly, and the worst second is the conservative reading (merging the HDR histograms is a later refinement).

import type { LoadSample, SloThreshold } from '../harness/model/index.js';
import { thresholdHolds } from '../harness/slo/threshold.js';
import type { SliValue } from './results-types.js';

/** The per-sample field that stands for a latency percentile. */
export function pickPercentileField(percentile: number | undefined): 'p50' | 'p95' | 'p99' {
  if (percentile === undefined || percentile > 95) return 'p99';
  return percentile > 50 ? 'p95' : 'p50';
}

/** Measures one SLO over the samples; null when no request completed in them. */
export function measureSli(slo: SloThreshold, samples: readonly LoadSample[]): number | null {
  let completed = 0;
  let succeeded = 0;
  let worst = Number.NEGATIVE_INFINITY;
  const field = pickPercentileField(slo.percentile);
  for (const s of samples) {
    completed += s.completed;
    succeeded += s.succeeded;
    if (s.completed > 0 && Number.isFinite(s[field])) worst = Math.max(worst, s[field]);
  }
  if (completed === 0) return null;
  if (slo.metric === 'success_rate') return succeeded / completed;
  if (slo.metric === 'error_rate') return 1 - succeeded / completed;
  return Number.isFinite(worst) ? worst : null;
}

/** Every SLO measured and judged over the samples. */
export function computeSlis(slos: readonly SloThreshold[], samples: readonly LoadSample[]): SliValue[] {
  return slos.map((slo) => {
    const measured = measureSli(slo, samples);
    return { source: slo.source, measured, passed: measured === null ? null : thresholdHolds(slo, measured) };
  });
}
