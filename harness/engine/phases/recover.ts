// recover: the SLOs (and the recovery conditions) must hold for a whole verification window, starting within the
// budget; then the windows and the recovery are journaled and the recovery assertion made.

import { correctExplainedSeconds, judgeSlos } from '../../slo/index.js';
import {
  computeRecovery,
  describeRecovery,
  type RecoveryInput,
  type RecoveryOutcome,
} from '../../slo/index.js';
import { sleep } from '../phase-runner.js';
import { recordAssertion, type VariantContext } from './context.js';
import { describeSecondLook, recoveryAssertion, recoveryRecord, stepWindows } from './judge.js';
import type { VariantState } from './state.js';
import { waitForSample } from './wait-for-sample.js';

export async function recover(v: VariantContext, state: VariantState): Promise<void> {
  const { scenario, variant } = v;
  const outcome = await awaitRecovery(v, state);
  await state.watch?.stop();
  // A second look with the seconds the instrument explains corrected: where it decides otherwise, the
  // instrument, not the mesh, may have decided the first (recoveryAssertion makes that inconclusive).
  const aside = computeRecovery({
    ...recoveryInput(v, state),
    samples: correctExplainedSeconds(scenario.slos, state.samples),
  });
  const how = describeRecovery(outcome, describeContext(v, state));
  await journalRecovery(v, state, outcome, how);
  const secondLook = !outcome.recovered && aside.recovered ? describeAside(v, state, aside) : undefined;
  recordAssertion(
    v,
    state,
    recoveryAssertion(variant.expect, {
      how,
      recoveredAt: outcome.recovered ? outcome.at : undefined,
      remediationStart: state.remediationStart,
      budgetMs: scenario.recovery.budgetMs,
      hasConditions: scenario.recovery.conditions.length > 0,
      ...(secondLook === undefined ? {} : { secondLook }),
    }),
  );
}

/** The recover phase: polls the recovery verdict until it is decided, or the phase's deadline. */
async function awaitRecovery(v: VariantContext, state: VariantState): Promise<RecoveryOutcome> {
  let outcome = computeRecovery(recoveryInput(v, state));
  await v.runner.phase('recover', v.scenario.timeouts.recover, async (signal) => {
    // Poll until a window holds or every window starting within the budget has been observed. A negative
    // control that never recovers waits out the whole budget: that wait is its evidence.
    for (let i = 0; i < 100_000; i++) {
      outcome = computeRecovery(recoveryInput(v, state));
      if (outcome.recovered || outcome.reason === 'never-within-budget') return;
      await sleep(v.tuning.recoverPollMs, signal);
    }
  });
  return outcome;
}

/** Everything measured so far, as computeRecovery reads it (samples and observations keep growing). */
function recoveryInput(v: VariantContext, state: VariantState): RecoveryInput {
  const { slos, recovery } = v.scenario;
  return {
    slos,
    samples: state.samples,
    injectedAt: state.injectedAt,
    ...(state.steps[0] ? { runbookStartedAt: state.steps[0].startedAt } : {}),
    searchFrom: state.remediationStart,
    verifyMs: recovery.verifyMs,
    deadline: state.remediationStart + recovery.budgetMs,
    steps: state.steps,
    conditions: state.watch?.observed ?? [],
  };
}

/** The recovery with the instrument's part set aside, in words (read after the last samples came in). */
function describeAside(v: VariantContext, state: VariantState, aside: RecoveryOutcome): string {
  const recovery = describeRecovery(aside, describeContext(v, state));
  return describeSecondLook(v.scenario.slos, state.samples, state.remediationStart, recovery);
}

function describeContext(v: VariantContext, state: VariantState): Parameters<typeof describeRecovery>[1] {
  const { budgetMs, verifyMs, conditions } = v.scenario.recovery;
  return {
    verifyMs,
    budgetMs,
    conditions: conditions.map((c) => c.name),
    remediationStart: state.remediationStart,
  };
}

/** Journals the SLOs after recovery (or since the runbook, without one) and after each step, then the recovery. */
async function journalRecovery(
  v: VariantContext,
  state: VariantState,
  outcome: RecoveryOutcome,
  how: string,
): Promise<void> {
  const { ctx, scenario, scope } = v;
  const { samples, steps, remediationStart } = state;
  const recoveredAt = outcome.recovered ? outcome.at : undefined;
  const windowFrom = recoveredAt ?? remediationStart;
  const windowTo = recoveredAt !== undefined ? recoveredAt + scenario.recovery.verifyMs : Date.now();
  await waitForSample(samples, windowTo, ctx.interrupt);
  ctx.journal.append({
    type: 'slo-window',
    ...scope,
    window: 'after-recovery',
    from: windowFrom,
    to: windowTo,
    results: judgeSlos(scenario.slos, samples, windowFrom, windowTo),
  });
  for (const stepWindow of stepWindows(scenario.slos, samples, steps, windowTo))
    ctx.journal.append({ type: 'slo-window', ...scope, window: 'after-step', ...stepWindow });
  ctx.journal.append({
    type: 'recovery',
    ...scope,
    ...recoveryRecord(outcome, how, remediationStart, state.duringFault, steps),
  });
}
