// efficacy + detect: efficacy and detection are watched together from the injection time; each has its own
// budget (and phase). A fault that did not take effect ends the variant: detection and recovery would prove nothing.

import type { SignalSpec } from '../../model/index.js';
import { waitForCondition } from '../../signals/index.js';
import { StopScenario } from '../phase-runner.js';
import { conditionContext, recordAssertion, type VariantContext } from './context.js';
import { silentAssertion, watchedAssertion } from './judge.js';
import type { VariantState } from './state.js';

export async function detect(v: VariantContext, state: VariantState): Promise<void> {
  const { scenario, runner } = v;
  const efficacyDone = runner.phase('efficacy', scenario.timeouts.efficacy, async (signal) => {
    const fired = await watchAll(v, state, 'efficacy', scenario.efficacy, signal);
    if (fired.includes(false))
      throw new StopScenario('the fault did not take effect; detection and recovery would prove nothing');
  });
  const detectDone = runner.phase('detect', scenario.timeouts.detect, (signal) =>
    watchAll(v, state, 'signal', scenario.signals, signal),
  );
  const [efficacy, detected] = await Promise.allSettled([efficacyDone, detectDone]);
  for (const settled of [efficacy, detected]) if (settled.status === 'rejected') throw settled.reason;
}

/** Waits for every item at once, each within its budget from the injection; journals and asserts each. */
async function watchAll(
  v: VariantContext,
  state: VariantState,
  role: 'efficacy' | 'signal',
  items: readonly SignalSpec[],
  signal: AbortSignal,
): Promise<boolean[]> {
  return Promise.all(items.map((item) => watchOne(v, state, role, item, signal)));
}

async function watchOne(
  v: VariantContext,
  state: VariantState,
  role: 'efficacy' | 'signal',
  item: SignalSpec,
  signal: AbortSignal,
): Promise<boolean> {
  const { ctx, scope } = v;
  const outcome = await waitForCondition(item, conditionContext(v, signal), {
    origin: state.injectedAt,
    withinMs: item.withinMs,
    pollMs: item.pollMs,
  });
  ctx.journal.append({
    type: 'condition',
    ...scope,
    role,
    name: item.name,
    kind: item.kind,
    fired: outcome.fired,
    ...(outcome.afterMs === undefined ? {} : { afterMs: outcome.afterMs }),
    budgetMs: item.withinMs,
    evidence:
      outcome.unobserved === undefined ? outcome.evidence : `${outcome.evidence}; ${outcome.unobserved}`,
  });
  // A signal this variant requires silent is judged the other way round (judge.ts silentAssertion).
  const silent = role === 'signal' && (v.variant.silent ?? []).includes(item.name);
  recordAssertion(v, state, silent ? silentAssertion(item, outcome) : watchedAssertion(role, item, outcome));
  return outcome.fired;
}
