// Before the first phase: the detection floors of the scenario's alerts, and the `scenario-start` event that
// tells the report what this variant will be judged on.

import type { ResolvedScenario, SignalSpec } from '../../model/index.js';
import { alertSignalFloors, signalFloorMs } from '../detection-floors.js';
import type { VariantContext } from './context.js';

/** Journals the variant's start; returns each alert's look-back (how long an earlier fault keeps it firing). */
export async function announceVariant(v: VariantContext): Promise<ReadonlyMap<string, number>> {
  const { ctx, scenario, variant, scope } = v;
  const routingDelayMs = v.notifications?.routingDelayMs;
  const { floors, lookbacks, problems } = await alertSignalFloors(
    scenario,
    ctx.prometheus,
    ctx.interrupt,
    routingDelayMs,
  );
  ctx.journal.append({
    type: 'scenario-start',
    ...scope,
    title: scenario.title,
    file: scenario.file,
    expect: variant.expect,
    faultKind: scenario.fault.kind,
    slos: scenario.slos,
    signals: announcedSignals(scenario.signals, floors, routingDelayMs, new Set(variant.silent)),
    recovery: announcedRecovery(scenario.recovery),
    ...(scenario.duringFault.slos === 'hold' ? { duringFault: { slos: 'hold' as const } } : {}),
    timeScale: scenario.timeScale,
  });
  // After scenario-start and naming the execution, so the report files each under the run it is about.
  for (const problem of problems)
    ctx.journal.append({ type: 'log', level: 'warn', message: problem, ...scope });
  return lookbacks;
}

/** The signals as the report lists them: each with its detection floor, where its alert has one. */
function announcedSignals(
  signals: readonly SignalSpec[],
  floors: ReadonlyMap<string, number>,
  routingDelayMs: number | undefined,
  silent: ReadonlySet<string>,
) {
  return signals.map((s) => {
    const floorMs = signalFloorMs(s, floors, routingDelayMs);
    return {
      name: s.name,
      kind: s.kind,
      withinMs: s.withinMs,
      ...(floorMs === undefined ? {} : { floorMs }),
      ...(s.informational ? { informational: true } : {}),
      ...(silent.has(s.name) ? { silent: true } : {}),
    };
  });
}

/** The recovery budget and window, and the recovery conditions when there are any. */
function announcedRecovery({ budgetMs, verifyMs, conditions }: ResolvedScenario['recovery']) {
  return {
    budgetMs,
    verifyMs,
    ...(conditions.length === 0
      ? {}
      : { conditions: conditions.map((c) => ({ name: c.name, kind: c.kind })) }),
  };
}
