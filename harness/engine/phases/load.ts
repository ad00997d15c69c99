// load: starts the load, which runs for the rest of the variant (stopped at cleanup), then warms up and settles.

import { evaluateCondition } from '../../signals/index.js';
import { loadWarmupMs, settleBudgetMs } from '../detection-floors.js';
import { sleep } from '../phase-runner.js';
import { conditionContext, type VariantContext } from './context.js';
import type { VariantState } from './state.js';

/** Settling never waits longer than this, whatever the signals' look-back (production rules reach hours). */
const MAX_SETTLE_MS = 5 * 60_000;

export async function startLoad(
  v: VariantContext,
  state: VariantState,
  lookbacks: ReadonlyMap<string, number>,
): Promise<void> {
  const { ctx, scenario, scope, runner } = v;
  runner.onCleanup('stop the load', async () => {
    await state.stopLoad?.();
  });
  // The load phase starts the load, then settles; its deadline grows by the settle budget.
  const settleMs = settleBudgetMs(scenario, lookbacks, MAX_SETTLE_MS);
  const warmupMs = loadWarmupMs(scenario);
  await runner.phase('load', scenario.timeouts.load + Math.max(settleMs, warmupMs), async (signal) => {
    const driver = ctx.loadDriver(scenario.load.driver, {
      scenario: scenario.name,
      namespace: scenario.namespace,
    });
    const run = await driver.start(scenario.load, ctx.ingressUrl, (sample) => {
      state.samples.push(sample);
      ctx.journal.append({ type: 'load-sample', ...scope, sample });
    });
    state.stopLoad = () => run.stop();
    await warmUpAndSettle(v, state, signal, warmupMs, settleMs);
  });
}

// Warm up, then settle: rate windows must first cover load-time data only (loadWarmupMs), and signals
// over them may still see an earlier variant's fault (same workload, same series). The steady-state
// window starts once the warm-up is over and every signal is quiet, or after the settle budget — a
// signal still firing then is judged a false positive by the steady-state phase.
async function warmUpAndSettle(
  v: VariantContext,
  state: VariantState,
  signal: AbortSignal,
  warmupMs: number,
  settleMs: number,
): Promise<void> {
  const loadStarted = Date.now();
  // The warm-up counts from the load's first second: a driver that starts in the cluster (k6 as a TestRun:
  // initializer, runner pods, starter) sends its first request seconds after start() returned.
  // (never before the load started: a driver's first second may be its floor).
  const firstSecond = await firstSampleAt(state, signal);
  const warmedAt = Math.max(loadStarted, firstSecond) + warmupMs;
  const settleUntil = Math.max(loadStarted + settleMs, warmedAt);
  await sleep(Math.max(0, warmedAt - Date.now()), signal);
  while (Date.now() < settleUntil) {
    if (!(await anySignalFiring(v, signal))) break;
    await sleep(Math.min(1000, Math.max(0, settleUntil - Date.now())), signal);
  }
}

/** The start of the load's first second, once its sample is in (bounded by the load phase's deadline). */
async function firstSampleAt(state: VariantState, signal: AbortSignal): Promise<number> {
  while (state.samples.length === 0) await sleep(100, signal);
  return Math.min(...state.samples.map((s) => s.t));
}

/** Whether some signal fires now (evaluated in order, stopping at the first that does). */
async function anySignalFiring(v: VariantContext, signal: AbortSignal): Promise<boolean> {
  for (const s of v.scenario.signals) {
    if ((await evaluateCondition(s, conditionContext(v, signal))).fired) return true;
  }
  return false;
}
