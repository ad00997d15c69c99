// compareRuns: the change between two runs (e.g. two Istio versions) per scenario and assertion — TTD, TTR,
// SLIs and verdicts — and a regression verdict under configurable tolerances. Pure; rendering is separate.

import type { SloThreshold } from '../harness/model/index.js';
import type { RepeatGroup, Results, RunOutcome, ScenarioResult } from './results-types.js';
import { computeSpread } from './stats.js';

export interface Tolerance {
  /** Allowed growth as a fraction of run A's value (0.2 = 20 %). */
  relative: number;
  /** Allowed growth in absolute terms (ms). The larger of the two allowances applies. */
  absoluteMs: number;
}

export interface Tolerances {
  ttd: Tolerance;
  ttr: Tolerance;
  latency: Tolerance;
  /** Allowed drop of a success ratio (or rise of an error ratio), as a ratio: 0.005 = half a percentage point. */
  ratio: number;
  /** Allowed drop of an assertion's pass rate across repeats; a drop from 100 % is always a regression. */
  passRate: number;
}

export const DEFAULT_TOLERANCES: Tolerances = {
  ttd: { relative: 0.2, absoluteMs: 5000 },
  ttr: { relative: 0.2, absoluteMs: 5000 },
  latency: { relative: 0.2, absoluteMs: 50 },
  ratio: 0.005,
  passRate: 0,
};

export type TolerancesInput = {
  ttd?: Partial<Tolerance>;
  ttr?: Partial<Tolerance>;
  latency?: Partial<Tolerance>;
  ratio?: number;
  passRate?: number;
};

export function resolveTolerances(input: TolerancesInput = {}): Tolerances {
  const d = DEFAULT_TOLERANCES;
  return {
    ttd: { ...d.ttd, ...input.ttd },
    ttr: { ...d.ttr, ...input.ttr },
    latency: { ...d.latency, ...input.latency },
    ratio: input.ratio ?? d.ratio,
    passRate: input.passRate ?? d.passRate,
  };
}

/** regression: worse beyond tolerance; worse: worse but within it; informational: not judged. */
/** inconclusive: one side never decided it (the instrument was degraded), so the two are not compared. */
export type ChangeVerdict =
  | 'regression'
  | 'worse'
  | 'same'
  | 'better'
  | 'new'
  | 'missing'
  | 'informational'
  | 'inconclusive';

export interface MetricChange {
  /** What is compared, e.g. "TTD istio-5xx-ratio" or "SLI after-recovery success_rate >= 99%". */
  what: string;
  unit: 'ms' | 'ratio';
  a: number | null;
  b: number | null;
  delta: number | null;
  /** The allowed worsening in the metric's unit; null when not judged. */
  allowed: number | null;
  verdict: ChangeVerdict;
}

export interface AssertionChange {
  id: string;
  name: string;
  a: { passed: number; runs: number; passRate: number; measured: number | null } | null;
  b: { passed: number; runs: number; passRate: number; measured: number | null } | null;
  verdict: ChangeVerdict;
  reason: string;
}

export interface ScenarioComparison {
  scenario: string;
  variant: string;
  outcomeA: RunOutcome | null;
  outcomeB: RunOutcome | null;
  regression: boolean;
  assertions: AssertionChange[];
  detection: MetricChange[];
  recovery: MetricChange[];
  slis: MetricChange[];
  /** Why this scenario regressed, one line each. */
  regressions: string[];
}

export interface RunSide {
  runId: string;
  target: string;
  versions: Record<string, string>;
  outcome: RunOutcome;
}

export interface Comparison {
  a: RunSide;
  b: RunSide;
  tolerances: Tolerances;
  regression: boolean;
  scenarios: ScenarioComparison[];
  /** Every regression in the comparison, `scenario/variant: reason`. */
  regressions: string[];
}

/** The allowed growth for a value: the larger of the relative and absolute allowances. */
export function computeAllowance(a: number, tolerance: Tolerance): number {
  return Math.max(Math.abs(a) * tolerance.relative, tolerance.absoluteMs);
}

/** Compares a "lower is better" duration. */
export function compareDuration(
  what: string,
  a: number | null,
  b: number | null,
  tolerance: Tolerance,
): MetricChange {
  if (a === null && b === null)
    return { what, unit: 'ms', a, b, delta: null, allowed: null, verdict: 'same' };
  if (a === null) return { what, unit: 'ms', a, b, delta: null, allowed: null, verdict: 'new' };
  if (b === null) return { what, unit: 'ms', a, b, delta: null, allowed: null, verdict: 'missing' };
  const allowed = computeAllowance(a, tolerance);
  const delta = b - a;
  const verdict: ChangeVerdict =
    delta > allowed ? 'regression' : delta > 0 ? 'worse' : delta < 0 ? 'better' : 'same';
  return { what, unit: 'ms', a, b, delta, allowed, verdict };
}

/** An SLI judged by its SLO's direction: success ratio higher is better; error ratio and latency lower is better. */
function compareSli(
  what: string,
  slo: SloThreshold | undefined,
  a: number | null,
  b: number | null,
  t: Tolerances,
  judged: boolean,
): MetricChange {
  const unit = slo?.metric === 'latency' ? 'ms' : 'ratio';
  if (a === null || b === null) {
    return {
      what,
      unit,
      a,
      b,
      delta: null,
      allowed: null,
      verdict: a === null ? (b === null ? 'same' : 'new') : 'missing',
    };
  }
  const delta = b - a;
  if (!judged || slo === undefined)
    return { what, unit, a, b, delta, allowed: null, verdict: 'informational' };
  const higherIsBetter = slo.metric === 'success_rate';
  const worsening = higherIsBetter ? -delta : delta;
  const allowed = slo.metric === 'latency' ? computeAllowance(a, t.latency) : t.ratio;
  const verdict: ChangeVerdict =
    worsening > allowed + 1e-12 ? 'regression' : worsening > 0 ? 'worse' : worsening < 0 ? 'better' : 'same';
  return { what, unit, a, b, delta, allowed, verdict };
}

function median(values: readonly (number | null | undefined)[]): number | null {
  return computeSpread(values)?.median ?? null;
}

function compareAssertions(
  ga: RepeatGroup | undefined,
  gb: RepeatGroup | undefined,
  t: Tolerances,
): AssertionChange[] {
  const ids = [
    ...new Set([...(ga?.assertions ?? []).map((x) => x.id), ...(gb?.assertions ?? []).map((x) => x.id)]),
  ];
  return ids.map((id) => {
    const a = ga?.assertions.find((x) => x.id === id);
    const b = gb?.assertions.find((x) => x.id === id);
    const side = (x: typeof a) =>
      x
        ? { passed: x.passed, runs: x.runs, passRate: x.passRate, measured: x.measured?.median ?? null }
        : null;
    const name = b?.name ?? a?.name ?? id;
    if (!a || !b) {
      return {
        id,
        name,
        a: side(a),
        b: side(b),
        verdict: a ? 'missing' : 'new',
        reason: a ? 'not evaluated in run B' : 'new in run B',
      } satisfies AssertionChange;
    }
    const informational = a.informational || b.informational;
    let verdict: ChangeVerdict;
    let reason: string;
    const undecided = [a, b].filter((x) => x.runs - x.inconclusive === 0);
    if (informational) {
      verdict = 'informational';
      reason = 'informational assertion, not judged';
    } else if (undecided.length > 0) {
      // An inconclusive run is neither a regression nor a pass: there is nothing to compare against.
      verdict = 'inconclusive';
      reason = `inconclusive in ${undecided.map((x) => (x === a ? 'A' : 'B')).join(' and ')} (the instrument was degraded there); not compared`;
    } else if (a.passRate === 1 && b.passRate < 1) {
      verdict = 'regression';
      reason =
        b.runs === 1 && a.runs === 1
          ? 'verdict passed → failed'
          : `pass rate ${Math.round(a.passRate * 100)}% → ${Math.round(b.passRate * 100)}%`;
    } else if (a.passRate - b.passRate > t.passRate) {
      verdict = 'regression';
      reason = `pass rate ${Math.round(a.passRate * 100)}% → ${Math.round(b.passRate * 100)}%`;
    } else if (b.passRate > a.passRate) {
      verdict = 'better';
      reason = a.runs === 1 && b.runs === 1 ? 'verdict failed → passed' : 'pass rate improved';
    } else {
      verdict = 'same';
      reason = b.passRate === 1 ? 'passes in both' : a.passRate === 0 ? 'fails in both' : 'same pass rate';
    }
    return { id, name, a: side(a), b: side(b), verdict, reason };
  });
}

/** The median SLI over the runs that decided it: a run whose window was inconclusive measured its instrument too. */
function sliValue(runs: readonly ScenarioResult[], window: string, source: string): number | null {
  return median(
    runs.map((r) => {
      const result = r.sloWindows
        .findLast((w) => w.window === window)
        ?.results.find((x) => x.source === source);
      return result?.inconclusive === undefined ? result?.measured : null;
    }),
  );
}

/** Whether every run that judged this SLI over the window found it inconclusive. */
function sliUndecided(runs: readonly ScenarioResult[], window: string, source: string): boolean {
  const results = runs.flatMap((r) => {
    const result = r.sloWindows
      .findLast((w) => w.window === window)
      ?.results.find((x) => x.source === source);
    return result === undefined ? [] : [result];
  });
  return results.length > 0 && results.every((x) => x.inconclusive !== undefined);
}

function worstOutcome(runs: readonly ScenarioResult[]): RunOutcome | null {
  if (runs.length === 0) return null;
  return runs.find((r) => r.outcome !== 'passed')?.outcome ?? 'passed';
}

function compareScenario(
  key: { scenario: string; variant: string },
  a: Results,
  b: Results,
  t: Tolerances,
): ScenarioComparison {
  const pick = (x: Results) =>
    x.scenarios.filter((r) => r.scenario === key.scenario && r.variant === key.variant);
  const runsA = pick(a);
  const runsB = pick(b);
  const groupOf = (x: Results) =>
    x.repeats.find((g) => g.scenario === key.scenario && g.variant === key.variant);
  const ga = groupOf(a);
  const gb = groupOf(b);
  const assertions = compareAssertions(ga, gb, t);
  const signals = [...new Set([...(ga?.ttd ?? []), ...(gb?.ttd ?? [])].map((x) => x.signal))];
  const detection = signals.map((signal) =>
    compareDuration(
      `TTD ${signal}`,
      ga?.ttd.find((x) => x.signal === signal)?.spread?.median ?? null,
      gb?.ttd.find((x) => x.signal === signal)?.spread?.median ?? null,
      t.ttd,
    ),
  );
  const recovery = [
    compareDuration(
      'TTR from injection',
      ga?.ttrFromInjection?.median ?? null,
      gb?.ttrFromInjection?.median ?? null,
      t.ttr,
    ),
    compareDuration(
      'TTR from runbook start',
      ga?.ttrFromRunbookStart?.median ?? null,
      gb?.ttrFromRunbookStart?.median ?? null,
      t.ttr,
    ),
  ];
  const slos = runsB[0]?.slos ?? runsA[0]?.slos ?? [];
  const slis = (['steady-state', 'during-fault', 'after-recovery'] as const).flatMap((window) =>
    slos.map((slo) => {
      // During the fault the SLIs are expected to break; how badly is reported, not judged.
      const change = compareSli(
        `SLI ${window} ${slo.source}`,
        slo,
        sliValue(runsA, window, slo.source),
        sliValue(runsB, window, slo.source),
        t,
        window !== 'during-fault',
      );
      const undecided = [runsA, runsB].some((runs) => sliUndecided(runs, window, slo.source));
      return undecided ? { ...change, verdict: 'inconclusive' as const } : change;
    }),
  );
  const regressions: string[] = [];
  if (runsA.length > 0 && runsB.length === 0) regressions.push('not run in B (coverage lost)');
  for (const x of assertions) if (x.verdict === 'regression') regressions.push(`${x.name}: ${x.reason}`);
  for (const m of [...detection, ...recovery, ...slis]) {
    if (m.verdict === 'regression') regressions.push(`${m.what} grew beyond tolerance`);
    // A signal that fired in A and never in B lost detection; a verdict change usually says so too.
    if (m.verdict === 'missing' && m.what.startsWith('TTD ') && runsB.length > 0)
      regressions.push(`${m.what}: fired in A, never in B`);
  }
  return {
    ...key,
    outcomeA: worstOutcome(runsA),
    outcomeB: worstOutcome(runsB),
    regression: regressions.length > 0,
    assertions,
    detection,
    recovery,
    slis,
    regressions,
  };
}

function describeSide(r: Results): RunSide {
  return { runId: r.run.runId, target: r.run.target, versions: r.run.versions, outcome: r.run.outcome };
}

/** Compares run B against baseline run A; `regression` is what `meshdrill compare` turns into exit code 1. */
export function compareRuns(a: Results, b: Results, tolerances: TolerancesInput = {}): Comparison {
  const t = resolveTolerances(tolerances);
  const keys: { scenario: string; variant: string }[] = [];
  const seen = new Set<string>();
  for (const r of [...a.scenarios, ...b.scenarios]) {
    const id = `${r.scenario}\u0000${r.variant}`;
    if (!seen.has(id)) {
      seen.add(id);
      keys.push({ scenario: r.scenario, variant: r.variant });
    }
  }
  const scenarios = keys.map((k) => compareScenario(k, a, b, t));
  const regressions = scenarios.flatMap((s) =>
    s.regressions.map((why) => `${s.scenario}/${s.variant}: ${why}`),
  );
  return {
    a: describeSide(a),
    b: describeSide(b),
    tolerances: t,
    regression: regressions.length > 0,
    scenarios,
    regressions,
  };
}
