// When this instance starts its iterations: k6's arrival-rate executors (lib/executor/constant_arrival_rate.go,
// ramping_arrival_rate.go `cal`) over the instance's striped iteration indexes. Pure; times in ms from the start.

import type { ArrivalScenario } from './script-reader.js';
import { type ExecutionTuple, ownedIndexes, restripeByValue, scaleInt } from './segments.js';

export interface InstancePlan {
  /** The tuple re-striped by maxVUs, as the arrival-rate executors do; its stripes are this instance's share. */
  tuple: ExecutionTuple;
  preAllocatedVUs: number;
  maxVUs: number;
  /** When new iterations stop being started (the scenario's duration, or the sum of its stages). */
  durationMs: number;
  gracefulStopMs: number;
}

export function planInstance(scenario: ArrivalScenario, tuple: ExecutionTuple): InstancePlan {
  const durationMs =
    scenario.executor === 'constant-arrival-rate'
      ? scenario.durationMs
      : scenario.stages.reduce((sum, s) => sum + s.durationMs, 0);
  return {
    tuple: restripeByValue(tuple, scenario.maxVUs),
    // k6 scales the VUs by the instance's own (not re-striped) tuple.
    preAllocatedVUs: scaleInt(tuple, scenario.preAllocatedVUs),
    maxVUs: scaleInt(tuple, scenario.maxVUs),
    durationMs,
    gracefulStopMs: scenario.gracefulStopMs,
  };
}

export interface Arrival {
  /** The iteration's index in the whole test (`exec.scenario.iterationInTest` when it starts in order). */
  index: number;
  atMs: number;
}

/**
 * The instance's arrivals in time order, ending before the duration. Bounded: a scenario of rate r over d seconds
 * yields about r·d·(share) arrivals, and the generator stops at the duration.
 */
export function* arrivals(
  scenario: ArrivalScenario,
  plan: InstancePlan,
): Generator<Arrival, void, undefined> {
  const indexes = ownedIndexes(plan.tuple);
  if (scenario.executor === 'constant-arrival-rate') {
    // k6: t = period·gi with period = timeUnit/rate (not scaled: the instance keeps the whole test's clock).
    const periodMs = scenario.timeUnitMs / scenario.rate;
    for (;;) {
      const index = indexes.next().value;
      const atMs = periodMs * index;
      if (atMs >= plan.durationMs) return;
      yield { index, atMs };
    }
  }
  // Ramping: iteration i (counted from 1) starts when the area under the rate curve reaches i.
  let current = indexes.next().value;
  let i = current + 1;
  let stageStart = 0;
  let doneSoFar = 0;
  let endCount = 0;
  let from = scenario.startRate / scenario.timeUnitMs;
  for (const stage of scenario.stages) {
    const to = stage.target / scenario.timeUnitMs;
    const dur = stage.durationMs;
    endCount += from !== to ? dur * ((to - from) / 2 + from) : dur * to;
    while (i <= endCount) {
      const x =
        from !== to
          ? (from * dur -
              Math.sqrt(Math.max(0, dur * (from * from * dur + 2 * (i - doneSoFar) * (to - from))))) /
            (from - to)
          : (i - doneSoFar) / to;
      yield { index: current, atMs: x + stageStart };
      const next = indexes.next().value;
      i += next - current;
      current = next;
    }
    doneSoFar = endCount;
    from = to;
    stageStart += dur;
  }
}
