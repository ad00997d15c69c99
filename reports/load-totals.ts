// Adding up load samples: the execution's totals (results.json `load`) and its per-phase error windows
// (`errorsByPhase`) are both counted here, so the two can never disagree on what a sample contributes.

import type { LoadSample } from '../harness/model/index.js';
import type { LoadTotals } from './results-types.js';

export function emptyTotals(): LoadTotals {
  return {
    samples: 0,
    scheduled: 0,
    completed: 0,
    succeeded: 0,
    dropped: 0,
    successRatio: null,
    worstP99Ms: null,
    byStatus: {},
    byFlag: {},
    byError: {},
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number> | undefined): void {
  for (const [k, v] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + v;
}

export function summarizeLoad(samples: readonly LoadSample[]): LoadTotals {
  const totals = emptyTotals();
  for (const s of samples) {
    totals.samples++;
    totals.scheduled += s.scheduled;
    totals.completed += s.completed;
    totals.succeeded += s.succeeded;
    totals.dropped += s.dropped;
    if (s.completed > 0 && Number.isFinite(s.p99))
      totals.worstP99Ms = Math.max(totals.worstP99Ms ?? 0, s.p99);
    addCounts(totals.byStatus, s.byStatus);
    addCounts(totals.byFlag, s.byFlag);
    addCounts(totals.byError, s.byError);
  }
  totals.successRatio = totals.completed > 0 ? totals.succeeded / totals.completed : null;
  return totals;
}
