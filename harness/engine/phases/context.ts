// What the phases of one variant read and never change: the engine's ports, the scenario as paced, the variant,
// its phase runner; and the few helpers every phase uses to reach the world and the journal through them.

import type { FaultContext } from '../../faults/index.js';
import { type ResolvedScenario, type ScenarioVariant, scenarioOfVariant } from '../../model/index.js';
import type { ConditionContext, NotificationPort } from '../../signals/index.js';
import { paceToPrometheus } from '../detection-floors.js';
import { PhaseRunner, type PhaseScope } from '../phase-runner.js';
import { DEFAULT_TUNING, type EngineContext, type EngineTuning } from '../ports.js';
import { type AssertionFields, countAssertion } from './judge.js';
import type { VariantState } from './state.js';

export interface VariantContext {
  readonly ctx: EngineContext;
  /** The scenario as this variant runs it (its own recovery, if any), polls paced to the target's Prometheus. */
  readonly scenario: ResolvedScenario;
  readonly variant: ScenarioVariant;
  readonly scope: PhaseScope;
  readonly tuning: EngineTuning;
  /** Runs each phase under its deadline and holds the teardowns cleanup runs. */
  readonly runner: PhaseRunner;
  /** When the variant began (epoch ms): a notification counts only for an alert episode since. */
  readonly started: number;
  /**
   * The Alertmanager this variant's notifications go through: its routing's (variant.routing), else the
   * target's. Absent where there is none (the suite left its notification signals out and said why).
   */
  readonly notifications: NotificationPort | undefined;
}

/** The variant's own routing's port where it ships one, else the target's. */
function notificationsOf(ctx: EngineContext, variant: ScenarioVariant): NotificationPort | undefined {
  return variant.routing ? ctx.routedNotifications?.get(variant.routing.id) : ctx.notifications;
}

export async function createVariantContext(
  ctx: EngineContext,
  written: ResolvedScenario,
  variant: ScenarioVariant,
  iteration: number,
): Promise<VariantContext> {
  // Polls paced to what the target's Prometheus can show (no timing readable: as written).
  const timing = await ctx.prometheus.ruleTiming(ctx.interrupt).catch(() => undefined);
  const scenario = paceToPrometheus(scenarioOfVariant(written, variant), timing);
  const scope = { scenario: scenario.name, variant: variant.name, iteration };
  return {
    ctx,
    scenario,
    variant,
    scope,
    tuning: { ...DEFAULT_TUNING, ...ctx.tuning },
    runner: new PhaseRunner(ctx.journal, scope, ctx.interrupt),
    started: Date.now(),
    notifications: notificationsOf(ctx, variant),
  };
}

/** What a signal, efficacy check or recovery condition is evaluated with. */
export function conditionContext(v: VariantContext, signal: AbortSignal): ConditionContext {
  const { ctx } = v;
  return {
    kube: ctx.kube,
    prometheus: ctx.prometheus,
    ingressUrl: ctx.ingressUrl,
    runCommand: ctx.runCommand,
    ...(v.notifications ? { notifications: v.notifications } : {}),
    since: v.started,
    signal,
  };
}

/** What the fault and the workload's setup actions run with. */
export function faultContext(v: VariantContext, signal?: AbortSignal): FaultContext {
  return {
    kube: v.ctx.kube,
    runId: v.ctx.runId,
    scenario: v.scenario.name,
    defaultNamespace: v.scenario.namespace,
    runCommand: v.ctx.runCommand,
    ...(v.ctx.recordPendingUndo ? { recordUndo: undoRecorder(v, v.ctx.recordPendingUndo) } : {}),
    ...(signal ? { signal } : {}),
  };
}

/** Records a setup or fault step's undo under the variant's scenario name. */
function undoRecorder(
  v: VariantContext,
  record: NonNullable<VariantContext['ctx']['recordPendingUndo']>,
): NonNullable<FaultContext['recordUndo']> {
  return (step) => record({ scenario: v.scenario.name, ...step });
}

/** Journals an assertion and counts it into the verdict: the verdict comes from `assertion` events only. */
export function recordAssertion(v: VariantContext, state: VariantState, a: AssertionFields): void {
  const tally = countAssertion(state, a);
  state.failed = tally.failed;
  state.inconclusive = tally.inconclusive;
  v.ctx.journal.append({ type: 'assertion', ...v.scope, ...a });
}
