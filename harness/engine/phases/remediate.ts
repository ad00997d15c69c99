// remediate: the runbook as written (or nothing, for an empty-runbook negative control). Before it starts, the
// during-fault window is judged; from its start, the recovery conditions are watched.

import { evaluateCondition } from '../../signals/index.js';
import { judgeSlos } from '../../slo/index.js';
import { formatDuration } from '../../util/duration.js';
import { sleep } from '../phase-runner.js';
import { watchRecoveryConditions } from '../recovery-watch.js';
import { conditionContext, recordAssertion, type VariantContext } from './context.js';
import { duringFaultAssertions } from './judge.js';
import type { VariantState } from './state.js';
import { waitForSample } from './wait-for-sample.js';

export async function remediate(v: VariantContext, state: VariantState): Promise<void> {
  const { ctx, scenario, variant, scope, runner, tuning } = v;
  await holdTheFault(v, state);
  await judgeDuringFault(v, state);
  state.remediationStart = Date.now();
  // Recovery conditions are polled from the runbook's start (a verification window may start then) until the
  // recover phase has decided; the watch's teardown is registered before it starts.
  runner.onCleanup('stop watching the recovery conditions', async () => {
    await state.watch?.stop();
  });
  if (scenario.recovery.conditions.length > 0) watchConditions(v, state);
  await runner.phase('remediate', scenario.timeouts.remediate, async (signal) => {
    if (!variant.runbook) return;
    await ctx.runbooks.run(variant.runbook.steps, {
      signal,
      stepTimeoutMs: tuning.runbookStepTimeoutMs,
      onStepStart: () => undefined,
      onStepEnd: (result) => {
        state.steps.push(result);
        ctx.journal.append({ type: 'runbook-step', ...scope, ...result });
      },
    });
  });
}

/**
 * duringFault.holdFor: the runbook waits until that long after the injection, however soon the fault was
 * detected — a long outage, or a gradual failure that must run its course before anyone acts.
 */
async function holdTheFault(v: VariantContext, state: VariantState): Promise<void> {
  const holdForMs = v.scenario.duringFault.holdForMs;
  if (holdForMs === undefined) return;
  const leftMs = state.injectedAt + holdForMs - Date.now();
  if (leftMs <= 0) return;
  v.ctx.journal.append({
    type: 'log',
    level: 'info',
    ...v.scope,
    message: `the fault is held ${formatDuration(leftMs)} more before the runbook (duringFault.holdFor ${formatDuration(holdForMs)} from the injection)`,
  });
  await sleep(leftMs, v.ctx.interrupt);
}

/** Journals the SLOs over injection → now, and asserts them when the scenario says they hold during the fault. */
async function judgeDuringFault(v: VariantContext, state: VariantState): Promise<void> {
  const { ctx, scenario, scope } = v;
  const duringFaultTo = Date.now();
  const hold = scenario.duringFault.slos === 'hold';
  // An asserted window is judged on complete data: the sample of its last second arrives after that second.
  if (hold) await waitForSample(state.samples, duringFaultTo, ctx.interrupt);
  state.duringFault = judgeSlos(scenario.slos, state.samples, state.injectedAt, duringFaultTo);
  ctx.journal.append({
    type: 'slo-window',
    ...scope,
    window: 'during-fault',
    from: state.injectedAt,
    to: duringFaultTo,
    results: state.duringFault,
  });
  if (!hold) return;
  const windowMs = duringFaultTo - state.injectedAt;
  for (const a of duringFaultAssertions(scenario.slos, state.duringFault, windowMs))
    recordAssertion(v, state, a);
}

/** Starts polling the recovery conditions, each observation journaled (computeRecovery judges by them all). */
function watchConditions(v: VariantContext, state: VariantState): void {
  const { ctx, scenario, scope } = v;
  state.watch = watchRecoveryConditions(
    scenario.recovery.conditions,
    (c, signal) => evaluateCondition(c, conditionContext(v, signal)),
    (c, observation) =>
      ctx.journal.append({
        type: 'condition',
        ...scope,
        role: 'recovery',
        name: c.name,
        kind: c.kind,
        fired: observation.fired,
        afterMs: observation.t - state.injectedAt,
        observedAt: observation.t,
        budgetMs: scenario.recovery.budgetMs,
        evidence: observation.evidence,
      }),
    ctx.interrupt,
  );
}
