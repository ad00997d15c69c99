// A phase that ran past its deadline while the instrument itself was starved (docs/load.md): the overrun cannot
// be told from a mesh or a runbook that hung, so the variant is not "timed out" but inconclusive, with the
// instrument's evidence in an assertion of its own. An overrun in mostly clean seconds stays a time-out.

import { describeDegradation, isDegraded } from '../../slo/index.js';
import type { PhaseTimeout } from '../phase-runner.js';
import { recordAssertion, type VariantContext } from './context.js';
import type { VariantState } from './state.js';

/** At least this share of the phase's seconds degraded makes its overrun the instrument's doing, possibly. */
export const OVERRUN_DEGRADED_SHARE = 0.5;

/**
 * Records the overrun as inconclusive and returns true when the instrument was degraded in at least half of
 * the timed-out phase's seconds; false (nothing recorded) otherwise, or without instrument data (k6).
 */
export function excuseOverrun(
  v: VariantContext,
  state: VariantState,
  timeout: PhaseTimeout,
  now = Date.now(),
): boolean {
  const from = now - timeout.timeoutMs;
  const window = state.samples.filter((s) => s.t >= from && s.t < now && s.instrument !== undefined);
  const degraded = window.filter(isDegraded);
  if (window.length === 0 || degraded.length < window.length * OVERRUN_DEGRADED_SHARE) return false;
  recordAssertion(v, state, {
    id: `phase:${timeout.phase}`,
    name: `phase ${timeout.phase} finishes within its deadline`,
    passed: false,
    inconclusive: true,
    message: `INCONCLUSIVE — ${timeout.message}; but ${describeDegradation(window, degraded)} of the phase`,
  });
  return true;
}
