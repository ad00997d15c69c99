// Polls a condition until it fires or its budget runs out; the time-to-detect is measured from a given origin
// (the injection time), not from when polling began.

import type { ConditionSpec } from '../model/index.js';
import { type ConditionContext, evaluateCondition } from './conditions.js';

export interface WatchOutcome {
  fired: boolean;
  /** ms from `origin` to the poll that saw it fire. */
  afterMs?: number;
  evidence: string;
}

export async function waitForCondition(
  spec: ConditionSpec,
  ctx: ConditionContext,
  options: { origin: number; withinMs: number; pollMs: number; now?: () => number },
): Promise<WatchOutcome> {
  const now = options.now ?? Date.now;
  const deadline = options.origin + options.withinMs;
  let last = 'not evaluated';
  for (let attempt = 0; attempt < 100_000; attempt++) {
    const checkedAt = now();
    const result = await evaluateCondition(spec, ctx);
    last = result.evidence;
    if (result.fired) {
      // A delivery's arrival time is when it happened; the poll only noticed it later.
      const at = Math.min(result.at ?? checkedAt, checkedAt);
      return { fired: true, afterMs: Math.max(0, at - options.origin), evidence: last };
    }
    const wait = Math.min(options.pollMs, deadline - now());
    if (wait <= 0) break;
    await abortableDelay(wait, ctx.signal);
  }
  return { fired: false, evidence: last };
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
