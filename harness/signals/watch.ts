// Polls a condition until it fires or its budget runs out; the time-to-detect is measured from a given origin
// (the injection time), not from when polling began.
//
// A poll is cut off shortly after the budget ends: a source that stops answering (an Alertmanager or API server
// starved of CPU) must not carry the watch, and so its phase, past the budget. When polls stopped answering
// before the end of the budget, "did not fire" would be a guess about seconds nobody observed: the outcome says
// `unobserved` instead, and the verdict built on it is inconclusive.
//
// Probes that sample the data plane themselves (`http`, `command`) wait a random 0.5–1.5 poll intervals between
// requests. A sequential probe at a fixed interval locks onto anything periodic in what it samples: against a
// CPU-throttled proxy, whose queue moves once per CFS period, each answer comes back at a period's start, the next
// request lands at the same early phase, and early arrivals are the ones served — the probe saw only 200s for its
// whole budget while half the users' requests got 504 (gateway-overload, 2026-12-06). Jitter samples every phase.
// Sources that store samples (Prometheus, Alertmanager, the API server) have no phase to lock onto: fixed pace.

import type { ConditionSpec } from '../model/index.js';
import { type ConditionContext, evaluateCondition } from './conditions.js';
import { abortableSleep } from '../util/abortable-sleep.js';

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
  options: {
    origin: number;
    withinMs: number;
    pollMs: number;
    now?: () => number;
    /** The pause between polls (a test's fake clock advances here). */
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    /** Uniform in [0, 1): the probes' jitter. */
    random?: () => number;
  },
): Promise<WatchOutcome> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const pause = pollPause(spec.kind, options.pollMs, options.random ?? Math.random);
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
    const wait = Math.min(pause(), deadline - now());
    if (wait <= 0) break;
    await sleep(wait, ctx.signal);
  }
  return { fired: false, evidence: last, ...unobserved(answeredAt, deadline, options) };
}

/** Kinds that send their own request into the mesh each poll, and so can lock onto its rhythm. */
const DATA_PLANE_PROBES: ReadonlySet<ConditionSpec['kind']> = new Set(['http', 'command']);

/** The pause before the next poll: the interval itself, or for a data-plane probe 0.5–1.5 of it. */
export function pollPause(kind: ConditionSpec['kind'], pollMs: number, random: () => number): () => number {
  if (!DATA_PLANE_PROBES.has(kind)) return () => pollMs;
  return () => Math.round(pollMs * (0.5 + random()));
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
