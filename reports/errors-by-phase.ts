// M4 of the SRE guide ("error rate by code": failures counted by HTTP status, under 1 % 5xx per service), per
// phase window of an execution. The totals of a whole execution mix the steady state with the fault, so they
// cannot say which codes and Envoy response flags the fault produced, nor whether they were gone after recovery.

import type { LoadSample } from '../harness/model/index.js';
import { summarizeLoad } from './load-totals.js';
import type { ErrorWindow, ErrorWindowName, PhaseResult, ScenarioResult } from './results-types.js';

/** The guide's target for M4: at most 1 % of completed requests answered 5xx. Above it is highlighted. */
export const SHARE_5XX_LIMIT = 0.01;

interface Bounds {
  window: ErrorWindowName;
  from: number;
  to: number | null;
}

/** The phase as the other per-phase figures read it (JUnit times, timeline bands): its latest run. */
function lastPhase(r: ScenarioResult, phase: string): PhaseResult | undefined {
  return r.phases.findLast((p) => p.phase === phase);
}

/** A phase's own span; one that never ended (a torn journal) runs to the execution's end, or to the last sample. */
function spanOf(window: ErrorWindowName, r: ScenarioResult, p: PhaseResult): Bounds {
  return { window, from: p.startedAt, to: p.endedAt ?? r.endedAt };
}

/**
 * The windows an execution reached, from its phase events. During the fault runs from the inject phase's start
 * (where the engine's own during-fault SLO window starts) to the runbook's start, the remediate phase; a drill
 * stopped before its runbook kept the fault in until its cleanup began.
 */
function phaseWindows(r: ScenarioResult): Bounds[] {
  const windows: Bounds[] = [];
  const steady = lastPhase(r, 'steady-state');
  if (steady) windows.push(spanOf('steady-state', r, steady));
  const inject = lastPhase(r, 'inject');
  const remediate = lastPhase(r, 'remediate');
  if (inject) {
    const to = remediate?.startedAt ?? lastPhase(r, 'cleanup')?.startedAt ?? r.endedAt;
    windows.push({ window: 'during-fault', from: inject.startedAt, to });
  }
  if (remediate) windows.push(spanOf('remediation', r, remediate));
  const recover = lastPhase(r, 'recover');
  if (recover) windows.push(spanOf('recovery-verification', r, recover));
  return windows;
}

/** Whether a status code (as journaled, a string) is a server error. */
export function is5xx(status: string): boolean {
  return /^5\d\d$/.test(status);
}

function countWindow(b: Bounds, samples: readonly LoadSample[]): ErrorWindow {
  // Bucket start in [from, to): the rule of every SLO window (harness/slo aggregateWindow), so a second on a
  // boundary is counted once, in the later window.
  const inside = samples.filter((s) => s.t >= b.from && (b.to === null || s.t < b.to));
  const t = summarizeLoad(inside);
  const served5xx = Object.entries(t.byStatus)
    .filter(([status]) => is5xx(status))
    .reduce((sum, [, n]) => sum + n, 0);
  return {
    window: b.window,
    from: b.from,
    to: b.to,
    samples: t.samples,
    completed: t.completed,
    dropped: t.dropped,
    byStatus: t.byStatus,
    byFlag: t.byFlag,
    byError: t.byError,
    share5xx: t.completed > 0 ? served5xx / t.completed : null,
  };
}

/** results.json `errorsByPhase`: one entry per phase window the execution reached. */
export function buildErrorsByPhase(r: ScenarioResult, samples: readonly LoadSample[]): ErrorWindow[] {
  return phaseWindows(r).map((b) => countWindow(b, samples));
}
