// Time-to-recover: the earliest instant t (at one-second granularity, t ≥ the search start) from which every SLO
// holds over the whole verification window [t, t + verify), judged on the window's aggregate, and in the first
// second of that window too — and every recovery condition is true at t and at t + verify, each instant judged by
// the condition's first observation at or after it (so the resolution is one poll interval). TTR is reported
// from injection and from runbook start; `restoredBy` names, per SLO, the runbook step after which it came back.
//
// "Came back" for one SLO uses the same windowed test with that SLO alone. A step gets the credit when it started
// no later than the end of the first second of the good window: requests of a second are scheduled across the
// whole second, so a fix at 12.3 s can already show in the second that starts at 12 s.

import type { LoadSample } from '../model/index.js';
import type { SloThreshold } from '../model/index.js';
import { formatDuration } from '../util/duration.js';
import { createHistogram } from './histogram.js';
import {
  aggregateWindow,
  evaluateWindow,
  sampleHistogram,
  type SloResult,
  type WindowAggregate,
} from './sli.js';

export interface RecoveryInput {
  slos: readonly SloThreshold[];
  samples: readonly LoadSample[];
  injectedAt: number;
  /** When the first runbook step started; undefined with an empty runbook. */
  runbookStartedAt?: number;
  /** Earliest start of a verification window; defaults to the injection time. */
  searchFrom?: number;
  verifyMs: number;
  /** Latest start of a verification window that still counts as recovered within budget (epoch ms). */
  deadline: number;
  /** Start times of the runbook steps, in order. */
  steps: readonly { startedAt: number }[];
  /** End of the observed data (epoch ms); defaults to the end of the last sample's second. */
  observedUntil?: number;
  /** Recovery conditions and every observation of each (none: the SLOs alone decide). */
  conditions?: readonly ObservedCondition[];
}

/** One poll of a recovery condition. */
export interface ConditionObservation {
  /** When the probe started (epoch ms). */
  t: number;
  fired: boolean;
  evidence: string;
}

export interface ObservedCondition {
  name: string;
  observations: readonly ConditionObservation[];
}

/** A recovery condition that kept recovery from counting. */
export interface ConditionBlock {
  name: string;
  /** Whether any observation from the search start on was true. */
  everTrue: boolean;
  /** The evidence of the latest observation ('not observed' without any). */
  evidence: string;
}

export interface RestoredBy {
  source: string;
  /** Index of the last runbook step started by the time the SLO came back; null: back before any step. */
  step: number | null;
  /** Start of the first window in which this SLO held throughout; null if it never did. */
  at: number | null;
}

export type RecoveryOutcome =
  | {
      recovered: true;
      /** Start of the verification window that held. */
      at: number;
      fromInjectionMs: number;
      /** Negative when the SLOs were back before the runbook started. Absent without a runbook. */
      fromRunbookStartMs?: number;
      restoredBy: RestoredBy[];
      /** The verdicts over the verification window that held. */
      results: SloResult[];
    }
  | {
      recovered: false;
      /**
       * never-within-budget: every window starting by the deadline was observed and none held.
       * insufficient-data: the load data ends before a window starting at the deadline could be verified.
       */
      reason: 'never-within-budget' | 'insufficient-data';
      /** A window that held, but started after the deadline (recovered too late), if any. */
      lateAt?: number;
      restoredBy: RestoredBy[];
      /** Whether the SLOs held over some judged window starting by the deadline (a condition then blocked). */
      slosHeld: boolean;
      /**
       * The recovery conditions to blame. When the SLOs held: those false at the start or end of every such
       * window. When they never held: those never observed true (they would have blocked as well).
       */
      blockedBy: ConditionBlock[];
    };

const SECOND_MS = 1000;

/** A window aggregate that slides one sample at a time: add on the right, subtract on the left. */
class SlidingWindow {
  readonly aggregate: WindowAggregate;

  constructor(from: number, to: number) {
    this.aggregate = {
      from,
      to,
      samples: 0,
      scheduled: 0,
      completed: 0,
      succeeded: 0,
      dropped: 0,
      histogram: createHistogram(),
    };
  }

  add(sample: LoadSample, sign: 1 | -1): void {
    const a = this.aggregate;
    a.samples += sign;
    a.scheduled += sign * sample.scheduled;
    a.completed += sign * sample.completed;
    a.succeeded += sign * sample.succeeded;
    a.dropped += sign * sample.dropped;
    if (sample.histogram === '') return;
    const h = sampleHistogram(sample);
    if (sign === 1) a.histogram.merge(h);
    else a.histogram.raw.subtract(h.raw);
  }
}

/**
 * For each window start t (the bucket starts of the samples at or after `from`, as long as [t, t + verify) lies
 * within the observed data), the verdict of every SLO over that window. Linear in the number of samples.
 */
export function scanWindows(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
  from: number,
  verifyMs: number,
  observedUntil: number,
): { t: number; results: SloResult[] }[] {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const out: { t: number; results: SloResult[] }[] = [];
  const window = new SlidingWindow(from, from + verifyMs);
  let right = 0;
  let left = 0;
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]?.t as number;
    if (start < from) continue;
    const end = start + verifyMs;
    if (end > observedUntil) break;
    while (left < sorted.length && (sorted[left] as LoadSample).t < start) {
      if (left < right) window.add(sorted[left] as LoadSample, -1);
      left++;
    }
    if (right < left) right = left;
    while (right < sorted.length && (sorted[right] as LoadSample).t < end) {
      window.add(sorted[right] as LoadSample, 1);
      right++;
    }
    window.aggregate.from = start;
    window.aggregate.to = end;
    // The window must also start on a good second: an aggregate over the whole window would otherwise let a
    // window that opens during the fault "hold" (a few bad seconds diluted by many good ones), and recovery would
    // be dated — and credited to a runbook step — before the fix took effect.
    const first = evaluateWindow(slos, aggregateWindow([sorted[i] as LoadSample], start, start + SECOND_MS));
    const results = evaluateWindow(slos, window.aggregate).map((r, k) => ({
      ...r,
      passed: r.passed && first[k]?.passed === true,
    }));
    out.push({ t: start, results });
  }
  return out;
}

/** Whether every second starting in (`scannedUntil`, `deadline`] (and at or after `from`) fails an SLO. */
function openingsFail(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
  from: number,
  deadline: number,
  scannedUntil: number,
): boolean {
  return samples.every((sample) => {
    if (sample.t < from || sample.t > deadline || sample.t <= scannedUntil) return true;
    const first = evaluateWindow(slos, aggregateWindow([sample], sample.t, sample.t + SECOND_MS));
    return first.some((r) => !r.passed);
  });
}

/** The last step started before `at + 1 s` (see the file comment); null when none had. */
export function findRestoringStep(steps: readonly { startedAt: number }[], at: number): number | null {
  let found: number | null = null;
  steps.forEach((step, index) => {
    if (step.startedAt < at + SECOND_MS) found = index;
  });
  return found;
}

type ScannedWindow = ReturnType<typeof scanWindows>[number];

/** A recovery condition with its observations sorted by time. */
interface SortedCondition {
  name: string;
  observations: ConditionObservation[];
}

/** Where the walk over the windows in which the SLOs held stopped, and what it judged on the way. */
interface HeldSearch {
  /** The first window in which the SLOs and every condition held. */
  held: ScannedWindow | undefined;
  /** The start of the first window whose conditions were not observed yet at its end. */
  pendingAt: number | undefined;
  /** Each window judged before the walk stopped, with every condition's state over it. */
  judged: { t: number; states: boolean[] }[];
}

/** Time-to-recover, restoredBy, or why there was no recovery. Pure: the engine passes everything in. */
export function computeRecovery(input: RecoveryInput): RecoveryOutcome {
  const from = input.searchFrom ?? input.injectedAt;
  const lastSampleEnd = input.samples.reduce(
    (end, s) => Math.max(end, s.t + SECOND_MS),
    Number.NEGATIVE_INFINITY,
  );
  const observedUntil = input.observedUntil ?? lastSampleEnd;
  const windows = scanWindows(input.slos, input.samples, from, input.verifyMs, observedUntil);
  const conditions: SortedCondition[] = (input.conditions ?? []).map((c) => ({
    name: c.name,
    observations: [...c.observations].sort((a, b) => a.t - b.t),
  }));
  const restoredBy = restoredByOf(input, windows);
  const search = findHeldWindow(windows, conditions, input.verifyMs);
  const { held } = search;
  if (held !== undefined && held.t <= input.deadline) {
    return {
      recovered: true,
      at: held.t,
      fromInjectionMs: held.t - input.injectedAt,
      ...(input.runbookStartedAt === undefined
        ? {}
        : { fromRunbookStartMs: held.t - input.runbookStartedAt }),
      restoredBy,
      results: held.results,
    };
  }
  const fullyObserved = isFullyObserved(input, from, observedUntil, search.pendingAt);
  const inBudget = search.judged.filter((j) => j.t <= input.deadline);
  const slosHeld = inBudget.length > 0;
  return {
    recovered: false,
    reason: held !== undefined || fullyObserved ? 'never-within-budget' : 'insufficient-data',
    ...(held === undefined ? {} : { lateAt: held.t }),
    restoredBy,
    slosHeld,
    blockedBy: blockingConditions(conditions, inBudget, slosHeld, from),
  };
}

/** Per SLO, the first window in which it held and the step credited with it. */
function restoredByOf(input: RecoveryInput, windows: readonly ScannedWindow[]): RestoredBy[] {
  return input.slos.map((slo, index) => {
    const back = windows.find((w) => w.results[index]?.passed === true);
    return {
      source: slo.source,
      at: back === undefined ? null : back.t,
      step: back === undefined ? null : findRestoringStep(input.steps, back.t),
    };
  });
}

/**
 * Windows in which the SLOs held, in order, each with every condition's state at its start and end. A window
 * whose conditions are not observed yet at its end is pending, and so is every later one: stop there.
 */
function findHeldWindow(
  windows: readonly ScannedWindow[],
  conditions: readonly SortedCondition[],
  verifyMs: number,
): HeldSearch {
  const judged: HeldSearch['judged'] = [];
  for (const w of windows) {
    if (!w.results.every((r) => r.passed)) continue;
    const states = conditions.map((c) => conditionHeld(c.observations, w.t, w.t + verifyMs));
    if (states.includes(undefined)) return { held: undefined, pendingAt: w.t, judged };
    const decided = states as boolean[];
    judged.push({ t: w.t, states: decided });
    if (decided.every(Boolean)) return { held: w, pendingAt: undefined, judged };
  }
  return { held: undefined, pendingAt: undefined, judged };
}

/**
 * Every window starting by the deadline is decided once the data reaches deadline + verify — or, earlier, once
 * it reaches deadline + 1 s and each such window not yet fully observed opens on a failing second (a window must
 * start on a good second, and an emitted second never changes: it can no longer hold). A negative control whose
 * fault persists is thus judged at its budget, not a verification window later. Either way, no window by the
 * deadline may still wait for a condition's observation.
 */
function isFullyObserved(
  input: RecoveryInput,
  from: number,
  observedUntil: number,
  pendingAt: number | undefined,
): boolean {
  const decided =
    observedUntil >= input.deadline + input.verifyMs ||
    (observedUntil >= input.deadline + SECOND_MS &&
      openingsFail(input.slos, input.samples, from, input.deadline, observedUntil - input.verifyMs));
  return decided && (pendingAt === undefined || pendingAt > input.deadline);
}

/**
 * The conditions to blame: when the SLOs held, those false over every window judged within the budget; when they
 * never held, those never observed true.
 */
function blockingConditions(
  conditions: readonly SortedCondition[],
  inBudget: readonly { states: boolean[] }[],
  slosHeld: boolean,
  from: number,
): ConditionBlock[] {
  return conditions.flatMap((c, k): ConditionBlock[] => {
    const blocking = slosHeld
      ? inBudget.every((j) => j.states[k] === false)
      : !c.observations.some((o) => o.fired && o.t >= from);
    if (!blocking) return [];
    return [
      {
        name: c.name,
        everTrue: c.observations.some((o) => o.fired && o.t >= from),
        evidence: c.observations.at(-1)?.evidence ?? 'not observed',
      },
    ];
  });
}

/** The first observation at or after `t` (observations sorted by time). */
export function observationAt(
  observations: readonly ConditionObservation[],
  t: number,
): ConditionObservation | undefined {
  let lo = 0;
  let hi = observations.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((observations[mid] as ConditionObservation).t < t) lo = mid + 1;
    else hi = mid;
  }
  return observations[lo];
}

/** True at both instants, false if not, undefined while either is not observed yet. */
function conditionHeld(
  observations: readonly ConditionObservation[],
  start: number,
  end: number,
): boolean | undefined {
  const first = observationAt(observations, start);
  const last = observationAt(observations, end);
  if (first === undefined || last === undefined) return undefined;
  return first.fired && last.fired;
}

/** One line for the journal and the `recover` assertion: how the SLOs and conditions did. */
export function describeRecovery(
  outcome: RecoveryOutcome,
  context: { verifyMs: number; budgetMs: number; conditions: readonly string[]; remediationStart: number },
): string {
  const window = formatDuration(context.verifyMs);
  if (outcome.recovered) {
    const ttr = formatDuration(outcome.at - context.remediationStart);
    const conditions =
      context.conditions.length === 0
        ? ''
        : `; ${plural(context.conditions, 'condition')} true at its start and end`;
    return `SLOs held for ${window} from ${ttr} after the runbook started${conditions}`;
  }
  if (outcome.reason === 'insufficient-data')
    return `not judged: the load data or a condition's observations end before every ${window} window starting within ${formatDuration(context.budgetMs)} could be judged`;
  const blocks = outcome.blockedBy.map((b) =>
    b.everTrue
      ? `condition ${b.name} not true at both the start and the end of any ${window} window in which the SLOs held (last: ${b.evidence})`
      : `condition ${b.name} never true (last: ${b.evidence})`,
  );
  if (outcome.slosHeld) {
    if (blocks.length > 0) return blocks.join('; ');
    return `${plural(context.conditions, 'condition')} never all true at both the start and the end of a ${window} window in which the SLOs held`;
  }
  const slos = `SLOs did not hold for a whole ${window} window within ${formatDuration(context.budgetMs)}`;
  return [slos, ...blocks].join('; ');
}

function plural(names: readonly string[], noun: string): string {
  return `${noun}${names.length === 1 ? '' : 's'} ${names.join(', ')}`;
}
