// Watches a scenario's recovery conditions from the runbook's start until recovery is decided. Every poll is kept
// (computeRecovery judges each verification window by them) and handed to `onObservation` for the journal.
// Polling starts with the runbook, not with the recover phase, because a window may start as early as the
// runbook does: judging it by an observation taken after a long runbook would date recovery before the fix.
// Data-plane probes are paced with jitter, as detection's are (harness/signals/watch.ts says why).

import type { RecoveryCondition } from '../model/index.js';
import { type ConditionResult, pollPause } from '../signals/index.js';
import type { ConditionObservation, ObservedCondition } from '../slo/index.js';
import { sleep } from './phase-runner.js';

export interface RecoveryWatch {
  /** One entry per condition, in declaration order; observations grow while the watch runs. */
  readonly observed: readonly ObservedCondition[];
  /** Stops polling and waits for probes in flight to end. Idempotent. */
  stop(): Promise<void>;
}

export function watchRecoveryConditions(
  conditions: readonly RecoveryCondition[],
  evaluate: (condition: RecoveryCondition, signal: AbortSignal) => Promise<ConditionResult>,
  onObservation: (condition: RecoveryCondition, observation: ConditionObservation) => void,
  interrupt: AbortSignal,
  now: () => number = Date.now,
): RecoveryWatch {
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, interrupt]);
  const lists = conditions.map(() => [] as ConditionObservation[]);
  const loops = conditions.map(async (condition, i) => {
    const list = lists[i] as ConditionObservation[];
    const pause = pollPause(condition.kind, condition.pollMs, Math.random);
    while (!signal.aborted) {
      const t = now();
      let result: ConditionResult;
      try {
        result = await evaluate(condition, signal);
      } catch {
        // Only an abort gets here (evaluateCondition turns probe errors into evidence): the watch is over.
        return;
      }
      if (signal.aborted) return;
      const observation = { t, fired: result.fired, evidence: result.evidence };
      list.push(observation);
      onObservation(condition, observation);
      try {
        await sleep(Math.max(0, pause() - (now() - t)), signal);
      } catch {
        return;
      }
    }
  });
  const all = Promise.all(loops);
  return {
    observed: conditions.map((c, i) => ({ name: c.name, observations: lists[i] as ConditionObservation[] })),
    stop: async () => {
      controller.abort();
      await all;
    },
  };
}
