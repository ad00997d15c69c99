// The results.json model (documented in docs/results-schema.md): what a run proved, derived from the journal.
// Versioned with RESULTS_SCHEMA_VERSION; additive changes keep the number, anything else bumps it.

import type { EventOf, Outcome, SloThreshold } from '../harness/model/index.js';

/** 2: the inconclusive outcome (assertions, SLO windows, counts); SLIs after each step from the journal. */
export const RESULTS_SCHEMA_VERSION = 2;

/** A run that never wrote run-end (crash, kill -9) is reported as incomplete rather than guessed. */
export type RunOutcome = Outcome | 'incomplete';

export interface Results {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  journalVersion: number | null;
  run: RunInfo;
  verdict: Verdict;
  /** What happened at the suite's level, outside every execution: provisioning the shared target. */
  suite: SuiteLevel;
  /** One entry per scenario × variant × iteration, in journal order. */
  scenarios: ScenarioResult[];
  /** One entry per scenario × variant: pass rates and spreads across iterations (`--repeat N`). */
  repeats: RepeatGroup[];
  coverage: CoverageMatrix;
  cleanup: CleanupResult | null;
  /** Journal lines that could not be read (a torn last line after a crash). */
  journalProblems: { line: number; message: string }[];
  /** Run-level log events at warn or error level. */
  logs: LogEntry[];
}

export interface RunInfo {
  runId: string;
  meshdrillVersion: string;
  argv: string[];
  target: string;
  repeat: number;
  /** How many namespace-isolated drills could run at once (`--parallel`; 1 for older journals). */
  parallel: number;
  /**
   * `--shard i/n`: which shard of its suite this run was; for a run merged by `report --merge`, the count and the
   * shards it was merged from (run id, outcome, exit code). Absent: a run of the whole suite.
   */
  shard?: RunShard;
  /** Component versions from target-ready (kubernetes, istio, prometheus…). */
  versions: Record<string, string>;
  /** Provisioning step durations in ms (cluster create, Istio install…). */
  timings: Record<string, number>;
  prometheusUrl: string | null;
  ingressUrl: string | null;
  startedAt: number | null;
  endedAt: number | null;
  durationMs: number | null;
  outcome: RunOutcome;
  exitCode: number | null;
}

/** A shard (`{index, count}`) or a merged run (`{count, merged}`), as run-start records it. */
export type RunShard = NonNullable<EventOf<'run-start'>['shard']>;

export interface Verdict {
  outcome: RunOutcome;
  passed: boolean;
  counts: {
    scenarios: number;
    passed: number;
    /** Scenario executions neither passed nor inconclusive. */
    failed: number;
    /** Scenario executions with no failed judged assertion but at least one inconclusive. */
    inconclusive: number;
    assertions: number;
    assertionsFailed: number;
    assertionsInconclusive: number;
  };
  /** What failed, most important first: one line each, pointing at a scenario key when there is one. */
  failures: { key: string | null; what: string }[];
  /** What could not be decided because the instrument was degraded, with its evidence. */
  inconclusive: { key: string; what: string }[];
}

export interface ScenarioResult {
  /** `scenario/variant#iteration`: unique within a run, used as the anchor in HTML and JUnit. */
  key: string;
  scenario: string;
  variant: string;
  iteration: number;
  title: string;
  file: string;
  expect: 'recovery' | 'no-recovery' | 'measure';
  /** true for variants that must NOT recover (a wrong or empty runbook). */
  negativeControl: boolean;
  faultKind: string;
  timeScale: number;
  slos: SloThreshold[];
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
  /** scenario-end's outcome, or incomplete when the journal stops before it. */
  outcome: RunOutcome;
  phases: PhaseResult[];
  fault: FaultResult | null;
  assertions: AssertionResult[];
  detection: DetectionRow[];
  efficacy: EfficacyRow[];
  /** Signals checked during steady state: any that fired is a false positive. */
  falsePositives: FalsePositiveRow[];
  runbook: RunbookStepResult[];
  sloWindows: SloWindowResult[];
  recovery: RecoveryResult | null;
  load: LoadTotals;
  /**
   * M4 of the SRE guide: the load's outcomes per phase window (steady state, during the fault, remediation,
   * recovery verification), one entry per window the execution reached, in that order. Absent from results.json
   * files written before it existed.
   */
  errorsByPhase: ErrorWindow[];
  logs: LogEntry[];
}

/** The suite's own events (journal scope `suite`); absent from results.json files written before it existed. */
export interface SuiteLevel {
  /** The suite's phases (provision), in order. */
  phases: PhaseResult[];
}

export interface PhaseResult {
  phase: string;
  startedAt: number;
  endedAt: number | null;
  deadlineMs: number;
  durationMs: number | null;
  outcome: Outcome | null;
  error: string | null;
}

export interface FaultResult {
  kind: string;
  description: string;
  objects: string[];
  injectedAt: number;
  removedAt: number | null;
  removed: boolean | null;
  removeError: string | null;
}

export interface AssertionResult {
  id: string;
  name: string;
  /** false for an inconclusive assertion too: it did not pass. */
  passed: boolean;
  informational: boolean;
  /** Neither passed nor failed: the instrument was degraded where it was judged (the message says how). */
  inconclusive: boolean;
  message: string;
  measured: number | null;
  limit: number | null;
  at: number;
}

export interface DetectionRow {
  signal: string;
  kind: string;
  budgetMs: number;
  fired: boolean;
  /** Time from injection to firing; null when it did not fire. */
  ttdMs: number | null;
  /** Fastest the signal could fire (alerts: scrape + evaluation + for + range); null when unknown. */
  floorMs: number | null;
  withinBudget: boolean;
  /** Measured and reported, not judged (`informational: true` in the scenario). */
  informational: boolean;
  /** This variant required it NOT to fire (`silent` in the scenario): firing is its failure. */
  silent: boolean;
  evidence: string;
}

export interface EfficacyRow {
  name: string;
  kind: string;
  proven: boolean;
  afterMs: number | null;
  budgetMs: number;
  evidence: string;
}

export interface FalsePositiveRow {
  signal: string;
  kind: string;
  fired: boolean;
  evidence: string;
}

export interface SliValue {
  source: string;
  measured: number | null;
  passed: boolean | null;
  /** Why the breach may be the instrument's (absent: judged as `passed` says). */
  inconclusive?: string;
}

export interface RunbookStepResult {
  index: number;
  title: string;
  kind: 'command' | 'apply';
  command: string;
  startedAt: number;
  /** Start of the step relative to injection (ms); null when no injection was recorded. */
  offsetMs: number | null;
  durationMs: number;
  exitCode: number | null;
  timedOut: boolean;
  ok: boolean;
  output: string;
  /**
   * The SLOs as the engine judged them over the seconds this step settled into (the journal's `after-step`
   * window: the last five before the next step or the recovery verdict); empty when none was journaled.
   */
  slisAfter: SliValue[];
  /** SLO sources the recovery event says came back after this step. */
  restored: string[];
}

export interface SloWindowResult {
  window: 'steady-state' | 'during-fault' | 'after-recovery';
  from: number;
  to: number;
  /** `inconclusive`: why the breach may be the instrument's. */
  results: { source: string; measured: number; passed: boolean; inconclusive?: string }[];
}

export interface RecoveryResult {
  recovered: boolean;
  ttrFromInjectionMs: number | null;
  ttrFromRunbookStartMs: number | null;
  restoredBy: { source: string; step: number | null }[];
  at: number;
}

export interface LoadTotals {
  samples: number;
  scheduled: number;
  completed: number;
  succeeded: number;
  dropped: number;
  successRatio: number | null;
  /** Worst per-second p99 seen (ms). */
  worstP99Ms: number | null;
  byStatus: Record<string, number>;
  byFlag: Record<string, number>;
  byError: Record<string, number>;
}

/** The phase windows of `errorsByPhase`, in the order an execution goes through them. */
export type ErrorWindowName = 'steady-state' | 'during-fault' | 'remediation' | 'recovery-verification';

/**
 * The load's outcomes over one phase window of an execution: the samples whose one-second bucket starts in
 * [from, to), as every SLO window counts them, so a second on a boundary belongs to the later window only.
 */
export interface ErrorWindow
  extends Pick<LoadTotals, 'samples' | 'completed' | 'dropped' | 'byStatus' | 'byFlag' | 'byError'> {
  window: ErrorWindowName;
  /** Epoch ms: the start of the phase that opens the window. */
  from: number;
  /** Epoch ms: where the window ends; null when the journal ends inside it (every later sample counted). */
  to: number | null;
  /** Completed requests answered with a status in [500, 600), over completed; null when none completed. */
  share5xx: number | null;
}

export interface LogEntry {
  t: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface Spread {
  n: number;
  min: number;
  median: number;
  max: number;
}

export interface RepeatGroup {
  scenario: string;
  variant: string;
  iterations: number;
  passed: number;
  passRate: number;
  assertions: AssertionStats[];
  /** TTD per signal across iterations (only iterations where it fired). */
  ttd: { signal: string; fired: number; spread: Spread | null }[];
  ttrFromInjection: Spread | null;
  ttrFromRunbookStart: Spread | null;
}

export interface AssertionStats {
  id: string;
  name: string;
  informational: boolean;
  runs: number;
  passed: number;
  /** Runs in which it was inconclusive; they count in neither `passed` nor `passRate`. */
  inconclusive: number;
  /** passed / (runs − inconclusive); 0 when no run decided. */
  passRate: number;
  /** Passed in some iterations and failed in others. */
  flaky: boolean;
  measured: Spread | null;
}

export interface CoverageMatrix {
  /** Signal names in first-seen order (columns). */
  signals: string[];
  /** One row per scenario (its fault), in first-seen order. */
  rows: CoverageRow[];
}

export interface CoverageRow {
  scenario: string;
  title: string;
  faultKind: string;
  cells: CoverageCell[];
}

export interface CoverageCell {
  signal: string;
  /** false: the scenario does not declare this signal. */
  declared: boolean;
  /** Executions (iterations × variants) in which the signal was checked after injection. */
  checked: number;
  fired: number;
  ttd: Spread | null;
  budgetMs: number | null;
  /** Steady-state checks in which the signal fired without a fault. */
  falsePositives: number;
}

export interface CleanupResult {
  ok: boolean;
  removed: string[];
  /** Objects the run changed but did not create, put back as they were. */
  restored: string[];
  leftover: string[];
  error: string | null;
  at: number;
}
