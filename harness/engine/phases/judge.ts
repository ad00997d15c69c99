// The verdicts of a variant as pure functions (STYLE.md §13, functional core): assertions, the recovery record,
// the after-step windows and the outcome, built from what the phases measured. No I/O: the phases journal them.

import type {
  ExecutionScope,
  EventOf,
  LoadSample,
  Outcome,
  ScenarioVariant,
  SignalSpec,
  SloThreshold,
} from '../../model/index.js';
import type { WatchOutcome } from '../../signals/index.js';
import { describeDegradation, explainedSeconds, judgeSlos, type SloVerdict } from '../../slo/index.js';
import type { RecoveryOutcome } from '../../slo/index.js';
import { formatMeasured } from '../../slo/index.js';
import { formatDuration } from '../../util/duration.js';
import { Interrupted, StopScenario, outcomeOf } from '../phase-runner.js';
import type { RunbookStepResult } from '../ports.js';

/** An `assertion` event without what the journal and the variant's scope add. */
export type AssertionFields = Omit<EventOf<'assertion'>, 't' | 'type' | keyof ExecutionScope>;

/** A `recovery` event without what the journal and the variant's scope add. */
export type RecoveryRecord = Omit<EventOf<'recovery'>, 't' | 'type' | keyof ExecutionScope>;

/** An `after-step` SLO window, as the recover phase journals it. */
export interface StepWindow {
  step: number;
  from: number;
  to: number;
  results: SloVerdict[];
}

/** What the assertions so far add up to: a judged one failed, or one could not be judged. */
export interface Tally {
  failed: boolean;
  inconclusive: boolean;
}

/** The tally with one more assertion counted; informational and passed assertions change nothing. */
export function countAssertion(tally: Tally, a: AssertionFields): Tally {
  if (a.passed || a.informational) return tally;
  return a.inconclusive ? { ...tally, inconclusive: true } : { ...tally, failed: true };
}

/** An SLO verdict as assertion fields: passed, or inconclusive with the instrument's evidence. */
export function verdictFields(r: SloVerdict): { passed: boolean; inconclusive?: true } {
  return r.inconclusive === undefined ? { passed: r.passed } : { passed: false, inconclusive: true };
}

/** The assertion message, with the instrument's evidence when the verdict is inconclusive. */
export function withEvidence(r: SloVerdict, message: string): string {
  return r.inconclusive === undefined ? message : `INCONCLUSIVE — ${message}; ${r.inconclusive}`;
}

/** The measured value as the SLO's own unit reads it (the raw number when the SLO is unknown). */
function measuredText(slo: SloThreshold | undefined, r: SloVerdict): string {
  return slo ? formatMeasured(slo, r.measured) : String(r.measured);
}

/** One assertion per SLO: it held over the steady-state window. */
export function steadyStateAssertions(
  slos: readonly SloThreshold[],
  results: readonly SloVerdict[],
): AssertionFields[] {
  return results.map((r, i) => ({
    id: `steady-state:slo:${r.source}`,
    name: `steady state holds ${r.source}`,
    ...verdictFields(r),
    message: withEvidence(
      r,
      `${r.source} over the steady-state window: measured ${measuredText(slos[i], r)}`,
    ),
    measured: r.measured,
  }));
}

/** A signal stayed quiet before the fault; `evidence` is what it fired on, if it did (a false positive). */
export function quietAssertion(signal: SignalSpec, evidence: string | undefined): AssertionFields {
  return {
    id: `steady-state:quiet:${signal.name}`,
    name: `signal ${signal.name} stays quiet before the fault`,
    passed: evidence === undefined,
    message: evidence === undefined ? 'no false positive' : `FALSE POSITIVE before any fault: ${evidence}`,
    ...(signal.informational ? { informational: true } : {}),
  };
}

/** An efficacy check (the fault bit) or a signal (it detected the fault) fired within its budget. */
export function watchedAssertion(
  role: 'efficacy' | 'signal',
  item: Pick<SignalSpec, 'name' | 'withinMs' | 'informational'>,
  outcome: WatchOutcome,
): AssertionFields {
  const label = role === 'efficacy' ? 'efficacy' : 'detect';
  return {
    id: `${label}:${item.name}`,
    name:
      role === 'efficacy'
        ? `the fault bit: ${item.name}`
        : `signal ${item.name} fires within ${formatDuration(item.withinMs)}`,
    passed: outcome.fired,
    message: outcome.fired
      ? `fired after ${formatDuration(outcome.afterMs ?? 0)} (budget ${formatDuration(item.withinMs)}): ${outcome.evidence}`
      : unsure(
          outcome,
          `did not fire within ${formatDuration(item.withinMs)}; last observation: ${outcome.evidence}`,
        ),
    ...unobservedFields(outcome),
    ...(outcome.afterMs === undefined ? {} : { measured: outcome.afterMs }),
    limit: item.withinMs,
    ...('informational' in item && item.informational ? { informational: true } : {}),
  };
}

/** A miss (or a silence) whose budget's end went unobserved is no verdict: the message says why. */
function unsure(outcome: WatchOutcome, message: string): string {
  return outcome.unobserved === undefined ? message : `INCONCLUSIVE — ${message}; but ${outcome.unobserved}`;
}

function unobservedFields(outcome: WatchOutcome): { inconclusive?: true } {
  return !outcome.fired && outcome.unobserved !== undefined ? { inconclusive: true } : {};
}

/**
 * A signal the variant lists as `silent` (a page its routing inhibits, a route that must not page): its detect
 * assertion is inverted — it passes when the signal did not fire within its budget and fails when it did, so a
 * routing that lets the page through fails the variant. Same id as the signal's detect assertion: one per signal.
 */
export function silentAssertion(
  item: Pick<SignalSpec, 'name' | 'withinMs'>,
  outcome: WatchOutcome,
): AssertionFields {
  return {
    id: `detect:${item.name}`,
    name: `signal ${item.name} stays silent for ${formatDuration(item.withinMs)} (silent in this variant)`,
    passed: !outcome.fired && outcome.unobserved === undefined,
    message: outcome.fired
      ? `fired though it must stay silent in this variant: ${outcome.evidence}`
      : unsure(outcome, `stayed silent as expected: ${outcome.evidence}`),
    ...unobservedFields(outcome),
    ...(outcome.afterMs === undefined ? {} : { measured: outcome.afterMs }),
    limit: item.withinMs,
  };
}

/**
 * duringFault: { slos: hold } — the fault must not break the SLOs (a data plane that rides out a control-plane
 * outage). Judged like steady state, over injection → runbook start; negative controls share the fault.
 */
export function duringFaultAssertions(
  slos: readonly SloThreshold[],
  results: readonly SloVerdict[],
  windowMs: number,
): AssertionFields[] {
  const window = `the during-fault window (${formatDuration(windowMs)} from injection to the runbook)`;
  return results.map((r, i) => ({
    id: `during-fault:slo:${r.source}`,
    name: `SLO holds during the fault: ${r.source}`,
    ...verdictFields(r),
    message: Number.isNaN(r.measured)
      ? `${r.source}: no load data over ${window}, so it cannot show the SLO held`
      : withEvidence(r, `${r.source} over ${window}: measured ${measuredText(slos[i], r)}`),
    measured: r.measured,
  }));
}

/** What the recovery verdict is built from. */
export interface RecoveryJudgement {
  /** What held or what blocked (describeRecovery). */
  how: string;
  /** Set when the variant recovered. */
  recoveredAt: number | undefined;
  remediationStart: number;
  budgetMs: number;
  hasConditions: boolean;
  /**
   * Set when the SLOs did not recover as judged, but did with the seconds the instrument explains set aside: the
   * instrument may have decided the outcome, so neither "recovered" nor "did not" can be claimed.
   */
  secondLook?: string;
}

/** The recovery assertion the variant's `expect` asks for: must recover, must not (negative control), measured. */
export function recoveryAssertion(expect: ScenarioVariant['expect'], j: RecoveryJudgement): AssertionFields {
  if (expect === 'recovery') return mustRecover(j);
  if (expect === 'no-recovery') return mustNotRecover(j);
  return measuredRecovery(j);
}

/** What every recovery assertion reports: whether it recovered, the time to recover, and any doubt. */
function recoveryFacts(j: RecoveryJudgement) {
  const ttr = j.recoveredAt === undefined ? undefined : j.recoveredAt - j.remediationStart;
  return {
    recovered: j.recoveredAt !== undefined,
    measured: ttr === undefined ? {} : { measured: ttr },
    unsure:
      j.secondLook === undefined
        ? {}
        : { inconclusive: true, message: `INCONCLUSIVE — ${j.how}; but ${j.secondLook}` },
  };
}

function mustRecover(j: RecoveryJudgement): AssertionFields {
  const { recovered, measured, unsure } = recoveryFacts(j);
  const what = j.hasConditions ? 'the SLOs and the recovery conditions' : 'the SLOs';
  return {
    id: 'recover',
    name: `the runbook restores ${what} within budget`,
    passed: recovered,
    message: j.how,
    ...measured,
    limit: j.budgetMs,
    ...unsure,
  };
}

function mustNotRecover(j: RecoveryJudgement): AssertionFields {
  const { recovered, measured, unsure } = recoveryFacts(j);
  return {
    id: 'recover:negative-control',
    name: 'negative control: no recovery without the real fix',
    passed: !recovered && j.secondLook === undefined,
    message: recovered
      ? `NEGATIVE CONTROL RECOVERED — the recovery assertion cannot fail as configured (${j.how}); fix the scenario's SLOs${j.hasConditions ? ', recovery conditions' : ''}, fault or budget`
      : `as expected, no recovery: ${j.how}`,
    ...measured,
    limit: j.budgetMs,
    ...unsure,
  };
}

function measuredRecovery(j: RecoveryJudgement): AssertionFields {
  const { recovered, measured } = recoveryFacts(j);
  return {
    id: 'recover',
    name: 'recovery (measured, not asserted)',
    passed: recovered,
    informational: true,
    message: j.how,
    ...measured,
    limit: j.budgetMs,
  };
}

/** The second look at recovery in words: what the instrument went through, and what recovery then shows. */
export function describeSecondLook(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
  from: number,
  recovery: string,
): string {
  const after = samples.filter((s) => s.t >= from);
  return `with the instrument's part taken off the seconds it explains (${describeDegradation(after, explainedSeconds(slos, after))}): ${recovery}`;
}

/** The `recovery` event's fields: whether and when the variant recovered, and which step restored each SLO. */
export function recoveryRecord(
  outcome: RecoveryOutcome,
  how: string,
  remediationStart: number,
  duringFault: readonly SloVerdict[],
  steps: readonly RunbookStepResult[],
): RecoveryRecord {
  return {
    recovered: outcome.recovered,
    ...(outcome.recovered
      ? {
          fromInjectionMs: outcome.fromInjectionMs,
          fromRunbookStartMs: outcome.at - remediationStart,
        }
      : {}),
    // An SLO that held throughout the fault was not restored by anything: no step gets the credit.
    restoredBy: outcome.restoredBy.map((r, i) => ({
      source: r.source,
      step: r.step === null || duringFault[i]?.passed ? null : (steps[r.step]?.index ?? r.step),
    })),
    ...(outcome.recovered ? {} : { reason: how }),
  };
}

/**
 * The SLOs after each runbook step, as the report shows them: over the last SETTLED_SECONDS seconds before the
 * next step started (or the recovery was decided) — the state the step settled into, not its transition.
 */
const SETTLED_SECONDS = 5;
export function stepWindows(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
  steps: readonly RunbookStepResult[],
  decidedAt: number,
): StepWindow[] {
  const ordered = [...steps].sort((a, b) => a.startedAt - b.startedAt);
  return ordered.flatMap((step, i) => {
    const ended = step.startedAt + step.durationMs;
    const until = Math.max(ended, ordered[i + 1]?.startedAt ?? decidedAt);
    const seconds = samples.filter((s) => s.t < until && s.t + 1000 > ended);
    const settled = seconds.slice(-SETTLED_SECONDS);
    // A step followed at once by the next gets the first second after it.
    const first = settled[0] ?? samples.find((s) => s.t >= ended);
    if (first === undefined) return [];
    const last = settled[settled.length - 1] ?? first;
    const to = last.t + 1000;
    return [{ step: step.index, from: first.t, to, results: judgeSlos(slos, samples, first.t, to) }];
  });
}

/** How a variant ended early: the outcome its error stands for, and the error's text unless it was a verdict. */
export function outcomeOfAbort(caught: unknown, interrupted: boolean): { outcome: Outcome; error?: string } {
  let outcome = outcomeOf(caught);
  if (caught instanceof StopScenario) outcome = 'failed';
  const error =
    caught instanceof StopScenario ? undefined : caught instanceof Error ? caught.message : String(caught);
  if (caught instanceof Interrupted || interrupted) outcome = 'interrupted';
  return { outcome, ...(error === undefined ? {} : { error }) };
}

/** The variant's outcome once cleanup ran: a clean run takes the assertions' tally; a failed cleanup overrides. */
export function finalOutcome(outcome: Outcome, tally: Tally, cleanupOk: boolean): Outcome {
  let final = outcome;
  if (final === 'passed' && tally.failed) final = 'failed';
  else if (final === 'passed' && tally.inconclusive) final = 'inconclusive';
  if (!cleanupOk && (final === 'passed' || final === 'failed')) final = 'cleanup-failed';
  return final;
}
