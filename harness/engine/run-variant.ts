// One execution of a scenario variant through every phase (DESIGN.md "One scenario, end to end"):
// deploy → load → steady state → inject → efficacy + detect → remediate → recover/verify → cleanup.
// Each undo is registered before its setup; the verdict comes from `assertion` events only. The phases live in
// ./phases/, one module each, and hand over what they share through one VariantState.

import type { Outcome, ResolvedScenario, ScenarioVariant } from '../model/index.js';
import { createVariantContext, type VariantContext } from './phases/context.js';
import { deploy } from './phases/deploy.js';
import { detect } from './phases/detect.js';
import { inject } from './phases/inject.js';
import { finalOutcome, outcomeOfAbort } from './phases/judge.js';
import { excuseOverrun } from './phases/overrun.js';
import { startLoad } from './phases/load.js';
import { recover } from './phases/recover.js';
import { remediate } from './phases/remediate.js';
import { announceVariant } from './phases/start.js';
import { createVariantState, type VariantState } from './phases/state.js';
import { holdSteadyState } from './phases/steady-state.js';
import { PhaseTimeout } from './phase-runner.js';
import type { EngineContext } from './ports.js';

export interface VariantResult {
  outcome: Outcome;
  /** Set when cleanup of this variant failed. */
  cleanupErrors: string[];
  error?: string;
}

export async function runVariant(
  ctx: EngineContext,
  written: ResolvedScenario,
  variant: ScenarioVariant,
  iteration: number,
): Promise<VariantResult> {
  const v = await createVariantContext(ctx, written, variant, iteration);
  const state = createVariantState();
  const lookbacks = await announceVariant(v);
  let ended: { outcome: Outcome; error?: string } = { outcome: 'passed' };
  try {
    await runPhases(v, state, lookbacks);
  } catch (caught) {
    ended = outcomeOfAbort(caught, ctx.interrupt.aborted);
    // Judged by the assertions' tally instead: inconclusive, unless something else failed.
    if (caught instanceof PhaseTimeout && !ctx.interrupt.aborted && excuseOverrun(v, state, caught))
      ended = { outcome: 'passed', error: caught.message };
  }
  // cleanup: every teardown the phases registered, newest first, whatever happened above.
  const cleanup = await v.runner.cleanup(v.scenario.timeouts.cleanup);
  const outcome = finalOutcome(ended.outcome, state, cleanup.ok);
  ctx.journal.append({ type: 'scenario-end', ...v.scope, outcome, durationMs: Date.now() - v.started });
  return { outcome, cleanupErrors: cleanup.errors, ...(ended.error ? { error: ended.error } : {}) };
}

/** The phases in order; the first that throws ends the variant (its verdict, timeout or interrupt). */
async function runPhases(
  v: VariantContext,
  state: VariantState,
  lookbacks: ReadonlyMap<string, number>,
): Promise<void> {
  await deploy(v, state);
  await startLoad(v, state, lookbacks);
  await holdSteadyState(v, state);
  await inject(v, state);
  await detect(v, state);
  await remediate(v, state);
  await recover(v, state);
}
