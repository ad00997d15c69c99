// steady state: the SLOs must hold and no signal may fire (a firing signal now is a false positive); a steady
// state that does not hold ends the variant before any fault.

import { evaluateCondition } from '../../signals/index.js';
import { judgeSlos } from '../../slo/index.js';
import { StopScenario, sleep } from '../phase-runner.js';
import { conditionContext, recordAssertion, type VariantContext } from './context.js';
import { quietAssertion, steadyStateAssertions } from './judge.js';
import type { VariantState } from './state.js';

export async function holdSteadyState(v: VariantContext, state: VariantState): Promise<void> {
  const { ctx, scenario, scope, runner } = v;
  const steadyFrom = Date.now();
  await runner.phase('steady-state', scenario.timeouts['steady-state'], async (signal) => {
    const end = steadyFrom + scenario.steadyState.durationMs;
    const falsePositives = await watchForFalsePositives(v, end, signal);
    // Let the last second's sample arrive before judging the window.
    await sleep(1100, signal);
    const results = judgeSlos(scenario.slos, state.samples, steadyFrom, end);
    ctx.journal.append({
      type: 'slo-window',
      ...scope,
      window: 'steady-state',
      from: steadyFrom,
      to: end,
      results,
    });
    for (const a of steadyStateAssertions(scenario.slos, results)) recordAssertion(v, state, a);
    journalFalsePositiveChecks(v, state, falsePositives);
    if (state.failed) throw new StopScenario('steady state did not hold; the fault was not injected');
  });
}

/** Polls every signal until `end`; returns what each one that fired fired on (its first evidence). */
async function watchForFalsePositives(
  v: VariantContext,
  end: number,
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const { signals } = v.scenario;
  const falsePositives = new Map<string, string>();
  const pollMs = Math.max(250, Math.min(...signals.map((s) => s.pollMs), 5000));
  while (Date.now() < end) {
    for (const s of signals) {
      if (falsePositives.has(s.name)) continue;
      const result = await evaluateCondition(s, conditionContext(v, signal));
      if (result.fired) falsePositives.set(s.name, result.evidence);
    }
    await sleep(Math.max(0, Math.min(pollMs, end - Date.now())), signal);
  }
  return falsePositives;
}

/** One `condition` event and one assertion per signal: it stayed quiet, or what it fired on. */
function journalFalsePositiveChecks(
  v: VariantContext,
  state: VariantState,
  falsePositives: ReadonlyMap<string, string>,
): void {
  const { ctx, scenario, scope } = v;
  for (const s of scenario.signals) {
    const evidence = falsePositives.get(s.name);
    ctx.journal.append({
      type: 'condition',
      ...scope,
      role: 'false-positive-check',
      name: s.name,
      kind: s.kind,
      fired: evidence !== undefined,
      budgetMs: scenario.steadyState.durationMs,
      evidence: evidence ?? 'quiet during steady state',
    });
    recordAssertion(v, state, quietAssertion(s, evidence));
  }
}
