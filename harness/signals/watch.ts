// Polls a condition until it fires or its budget runs out; the time-to-detect is measured from a given origin
// (the injection time), not from when polling began.
//
// A poll is cut off shortly after the budget ends: a source that stops answering (an Alertmanager or API server
// starved of CPU) must not carry the watch, and so its phase, past the budget. When polls stopped answering
// before the end of the budget, "did not fire" would be a guess about seconds nobody observed: the outcome says
// `unobserved` instead, and the verdict built on it is inconclusive.

import type { ConditionSpec } from '../model/index.js';
import { type ConditionContext, evaluateCondition } from './conditions.js';

export interface WatchOutcome {
  fired: boolean;
  /** ms from `origin` to the poll that saw it fire. */
  afterMs?: number;
  evidence: string;
  /** Set when it did not fire but the end of its budget went unobserved: why (no poll answered since when). */
  unobserved?: string;
}

/** How long a poll may run past the budget's end before it is cut off. */
export const POLL_GRACE_MS = 1000;

/** The last poll that answered must have begun this close to the budget's end for a miss to be a miss. */
export function observationGapMs(pollMs: number): number {
  return 2 * pollMs + POLL_GRACE_MS;
}

export async function waitForCondition(
  spec: ConditionSpec,
  ctx: ConditionContext,
  options: { origin: number; withinMs: number; pollMs: number; now?: () => number },
): Promise<WatchOutcome> {
  const now = options.now ?? Date.now;
  const deadline = options.origin + options.withinMs;
  let last = 'not evaluated';
  let answeredAt: number | undefined;
  for (let attempt = 0; attempt < 100_000; attempt++) {
    const checkedAt = now();
    const result = await evaluateBounded(spec, ctx, deadline + POLL_GRACE_MS - checkedAt);
    if (result !== undefined) {
      answeredAt = checkedAt;
      last = result.evidence;
      if (result.fired) {
        // A delivery's arrival time is when it happened; the poll only noticed it later.
        const at = Math.min(result.at ?? checkedAt, checkedAt);
        return { fired: true, afterMs: Math.max(0, at - options.origin), evidence: last };
      }
    }
    const wait = Math.min(options.pollMs, deadline - now());
    if (wait <= 0) break;
    await abortableDelay(wait, ctx.signal);
  }
  return { fired: false, evidence: last, ...unobserved(answeredAt, deadline, options) };
}

/** The condition evaluated, or undefined when it had not answered by `limitMs` (the poll is aborted). */
async function evaluateBounded(spec: ConditionSpec, ctx: ConditionContext, limitMs: number) {
  const cutOff = AbortSignal.timeout(Math.max(1, limitMs));
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, cutOff]) : cutOff;
  try {
    const result = await evaluateCondition(spec, { ...ctx, signal });
    // Some probes report their own abort as a non-firing answer (http): that is no observation.
    return result.fired || !cutOff.aborted ? result : undefined;
  } catch (error) {
    if (ctx.signal?.aborted || !cutOff.aborted) throw error;
    return undefined;
  }
}

function unobserved(
  answeredAt: number | undefined,
  deadline: number,
  options: { origin: number; withinMs: number; pollMs: number },
): Pick<WatchOutcome, 'unobserved'> {
  if (answeredAt !== undefined && deadline - answeredAt <= observationGapMs(options.pollMs)) return {};
  const since =
    answeredAt === undefined
      ? 'no poll answered within the budget'
      : `no poll begun after +${((answeredAt - options.origin) / 1000).toFixed(1)}s answered`;
  return {
    unobserved: `${since} (the source did not answer in time), so the rest of the budget went unobserved`,
  };
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason ?? new Error('aborted'));
      },
      { once: true },
    );
  });
}
