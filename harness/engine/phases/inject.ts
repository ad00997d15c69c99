// inject: the fault goes in; its undo is registered first, so removal is unconditional.

import { injectFault } from '../../faults/index.js';
import { faultContext, type VariantContext } from './context.js';
import type { VariantState } from './state.js';

export async function inject(v: VariantContext, state: VariantState): Promise<void> {
  const { ctx, scenario, scope, runner } = v;
  runner.onCleanup('remove the fault', () => removeFault(v, state));
  await runner.phase('inject', scenario.timeouts.inject, async (signal) => {
    state.injectedAt = Date.now();
    const fault = await injectFault(scenario.fault, faultContext(v, signal));
    // A fault that waits for its moment (a certificate running out) says when it began.
    if (fault.injectedAt !== undefined) state.injectedAt = fault.injectedAt;
    state.revert = fault.revert;
    ctx.journal.append({
      type: 'fault-injected',
      ...scope,
      kind: scenario.fault.kind,
      description: fault.description,
      objects: fault.objects,
    });
  });
}

/** Reverts the fault, if it went in, and journals whether that worked; a failed removal fails the cleanup. */
async function removeFault(v: VariantContext, state: VariantState): Promise<void> {
  const { ctx, scope } = v;
  if (!state.revert) return;
  try {
    await state.revert();
    ctx.journal.append({ type: 'fault-removed', ...scope, description: 'fault removed', ok: true });
  } catch (e) {
    ctx.journal.append({
      type: 'fault-removed',
      ...scope,
      description: 'fault removal failed',
      ok: false,
      error: String(e),
    });
    throw e;
  }
}
