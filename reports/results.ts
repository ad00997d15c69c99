// buildResults: the journal folded into the results.json model. Pure: the same events give the same results.

import {
  type EventOf,
  type ExecutionEvent,
  formatExecutionId,
  type JournalEvent,
  type LoadSample,
} from '../harness/model/index.js';
import { formatDuration } from '../harness/util/duration.js';
import { buildCoverage } from './coverage.js';
import { buildErrorsByPhase } from './errors-by-phase.js';
import { emptyTotals, summarizeLoad } from './load-totals.js';
import { buildRepeats } from './repeats.js';
import {
  type CleanupResult,
  type PhaseResult,
  RESULTS_SCHEMA_VERSION,
  type Results,
  type RunInfo,
  type RunOutcome,
  type RunShard,
  type ScenarioResult,
  type SliValue,
  type Verdict,
} from './results-types.js';

export interface BuildOptions {
  /** Problems the journal reader reported; carried into results.json so a torn journal is visible. */
  journalProblems?: { line: number; message: string }[];
}

/** One scenario execution while the journal is folded: the result plus what later steps need. */
interface Execution {
  result: ScenarioResult;
  samples: LoadSample[];
}

/** The key of a scenario execution, its execution id: unique within a run. */
export function formatScenarioKey(scenario: string, variant: string, iteration: number): string {
  return formatExecutionId({ scenario, variant, iteration });
}

function newExecution(e: EventOf<'scenario-start'>): Execution {
  return {
    samples: [],
    result: {
      key: formatScenarioKey(e.scenario, e.variant, e.iteration),
      scenario: e.scenario,
      variant: e.variant,
      iteration: e.iteration,
      title: e.title,
      file: e.file,
      expect: e.expect,
      negativeControl: e.expect === 'no-recovery',
      faultKind: e.faultKind,
      timeScale: e.timeScale,
      slos: e.slos,
      startedAt: e.t,
      endedAt: null,
      durationMs: null,
      outcome: 'incomplete',
      phases: [],
      fault: null,
      assertions: [],
      // Declared signals start as "did not fire"; condition events fill them in.
      detection: e.signals.map((s) => ({
        signal: s.name,
        kind: s.kind,
        budgetMs: s.withinMs,
        fired: false,
        ttdMs: null,
        floorMs: s.floorMs ?? null,
        withinBudget: false,
        informational: s.informational ?? false,
        silent: s.silent ?? false,
        evidence: '',
      })),
      efficacy: [],
      falsePositives: [],
      runbook: [],
      sloWindows: [],
      recovery: null,
      load: emptyTotals(),
      errorsByPhase: [],
      logs: [],
    },
  };
}

/** Folds a phase event into a list of phases (an execution's, or the suite's). */
function applyPhase(phases: PhaseResult[], e: EventOf<'phase-start'> | EventOf<'phase-end'>): void {
  if (e.type === 'phase-start') {
    phases.push({
      phase: e.phase,
      startedAt: e.t,
      endedAt: null,
      deadlineMs: e.deadlineMs,
      durationMs: null,
      outcome: null,
      error: null,
    });
    return;
  }
  const open = phases.findLast((p) => p.phase === e.phase && p.endedAt === null);
  const phase = open ?? {
    phase: e.phase,
    startedAt: e.t - e.durationMs,
    endedAt: null,
    deadlineMs: 0,
    durationMs: null,
    outcome: null,
    error: null,
  };
  if (!open) phases.push(phase);
  phase.endedAt = e.t;
  phase.durationMs = e.durationMs;
  phase.outcome = e.outcome;
  phase.error = e.error ?? null;
}

function applyScoped(x: Execution, e: ExecutionEvent): void {
  const r = x.result;
  switch (e.type) {
    case 'phase-start':
    case 'phase-end':
      applyPhase(r.phases, e);
      return;
    case 'load-sample':
      x.samples.push(e.sample);
      return;
    case 'fault-injected':
      r.fault = {
        kind: e.kind,
        description: e.description,
        objects: e.objects,
        injectedAt: e.t,
        removedAt: null,
        removed: null,
        removeError: null,
      };
      return;
    case 'fault-removed':
      if (r.fault) {
        r.fault.removedAt = e.t;
        r.fault.removed = e.ok;
        r.fault.removeError = e.error ?? null;
      }
      return;
    case 'condition':
      applyCondition(r, e);
      return;
    case 'runbook-step':
      applyRunbookStep(r, e);
      return;
    case 'slo-window': {
      if (e.window !== 'after-step') {
        r.sloWindows.push({ window: e.window, from: e.from, to: e.to, results: e.results });
        return;
      }
      const step = r.runbook.find((s) => s.index === e.step);
      if (step) step.slisAfter = e.results.map(toSliValue);
      return;
    }
    case 'recovery':
      r.recovery = {
        recovered: e.recovered,
        ttrFromInjectionMs: e.fromInjectionMs ?? null,
        ttrFromRunbookStartMs: e.fromRunbookStartMs ?? null,
        restoredBy: e.restoredBy,
        at: e.t,
      };
      return;
    case 'assertion':
      applyAssertion(r, e);
      return;
    case 'scenario-end':
      r.outcome = e.outcome;
      r.endedAt = e.t;
      r.durationMs = e.durationMs;
      return;
    default:
      return;
  }
}

function applyRunbookStep(r: ScenarioResult, e: EventOf<'runbook-step'>): void {
  const injectedAt = r.fault?.injectedAt;
  r.runbook.push({
    index: e.index,
    title: e.title,
    kind: e.kind,
    command: e.command,
    startedAt: e.startedAt,
    offsetMs: injectedAt === undefined ? null : e.startedAt - injectedAt,
    durationMs: e.durationMs,
    exitCode: e.exitCode,
    timedOut: e.timedOut,
    ok: e.exitCode === 0 && !e.timedOut,
    output: e.output,
    slisAfter: [],
    restored: [],
  });
}

function applyAssertion(r: ScenarioResult, e: EventOf<'assertion'>): void {
  r.assertions.push({
    id: e.id,
    name: e.name,
    passed: e.passed,
    informational: e.informational ?? false,
    inconclusive: e.inconclusive ?? false,
    message: e.message,
    measured: e.measured ?? null,
    limit: e.limit ?? null,
    at: e.t,
  });
}

function applyCondition(r: ScenarioResult, e: EventOf<'condition'>): void {
  if (e.role === 'efficacy') {
    r.efficacy.push({
      name: e.name,
      kind: e.kind,
      proven: e.fired,
      afterMs: e.afterMs ?? null,
      budgetMs: e.budgetMs,
      evidence: e.evidence,
    });
    return;
  }
  if (e.role === 'false-positive-check') {
    r.falsePositives.push({ signal: e.name, kind: e.kind, fired: e.fired, evidence: e.evidence });
    return;
  }
  // Observations of recovery conditions (one per poll) are no detection signal; the recover assertion and the
  // recovery event already say which condition held or blocked.
  if (e.role !== 'signal') return;
  let row = r.detection.find((d) => d.signal === e.name);
  if (!row) {
    // A signal the scenario-start did not list (an older engine): keep it rather than drop evidence.
    row = {
      signal: e.name,
      kind: e.kind,
      budgetMs: e.budgetMs,
      fired: false,
      ttdMs: null,
      floorMs: null,
      withinBudget: false,
      informational: false,
      silent: false,
      evidence: '',
    };
    r.detection.push(row);
  }
  row.fired = e.fired;
  row.ttdMs = e.fired ? (e.afterMs ?? null) : null;
  row.budgetMs = e.budgetMs;
  row.withinBudget = e.fired && row.ttdMs !== null && row.ttdMs <= e.budgetMs;
  row.evidence = e.evidence;
}

/** After folding: the steps that restored each SLO, load totals, errors per phase window. */
function finishExecution(x: Execution): ScenarioResult {
  const r = x.result;
  r.load = summarizeLoad(x.samples);
  r.errorsByPhase = buildErrorsByPhase(r, x.samples);
  for (const step of r.runbook) {
    step.restored = (r.recovery?.restoredBy ?? []).filter((b) => b.step === step.index).map((b) => b.source);
  }
  return r;
}

function buildRunInfo(events: readonly JournalEvent[]): RunInfo {
  const start = events.find((e): e is EventOf<'run-start'> => e.type === 'run-start');
  const ready = events.findLast((e): e is EventOf<'target-ready'> => e.type === 'target-ready');
  const end = events.findLast((e): e is EventOf<'run-end'> => e.type === 'run-end');
  const startedAt = start?.t ?? events[0]?.t ?? null;
  const endedAt = end?.t ?? null;
  return {
    runId: start?.runId ?? 'unknown',
    meshdrillVersion: start?.meshdrillVersion ?? 'unknown',
    argv: start?.argv ?? [],
    target: ready?.target ?? start?.target ?? 'unknown',
    repeat: start?.repeat ?? 1,
    parallel: start?.parallel ?? 1,
    ...(start?.shard ? { shard: start.shard } : {}),
    versions: ready?.versions ?? {},
    timings: ready?.timings ?? {},
    prometheusUrl: ready?.prometheusUrl ?? null,
    ingressUrl: ready?.ingressUrl ?? null,
    startedAt,
    endedAt,
    durationMs: startedAt !== null && endedAt !== null ? endedAt - startedAt : null,
    outcome: end?.outcome ?? 'incomplete',
    exitCode: end?.exitCode ?? null,
  };
}

/** A journaled SLO result as the report shows it (NaN, no data, becomes null: JSON has no NaN). */
function toSliValue(x: {
  source: string;
  measured: number;
  passed: boolean;
  inconclusive?: string;
}): SliValue {
  const measured = Number.isNaN(x.measured) ? null : x.measured;
  return {
    source: x.source,
    measured,
    passed: measured === null ? null : x.passed,
    ...(x.inconclusive === undefined ? {} : { inconclusive: x.inconclusive }),
  };
}

function describeFailure(r: ScenarioResult): string[] {
  const lines: string[] = [];
  for (const a of r.assertions) {
    if (!a.passed && !a.informational && !a.inconclusive) lines.push(`${r.key}: ${a.name} — ${a.message}`);
  }
  for (const p of r.phases) {
    if (p.outcome !== null && p.outcome !== 'passed' && p.error)
      lines.push(`${r.key}: phase ${p.phase} ${p.outcome} — ${p.error}`);
  }
  if (lines.length === 0) lines.push(`${r.key}: scenario ${r.outcome}`);
  return lines;
}

function buildVerdict(
  run: RunInfo,
  scenarios: readonly ScenarioResult[],
  cleanup: CleanupResult | null,
): Verdict {
  const failures: Verdict['failures'] = [];
  if (cleanup && !cleanup.ok) {
    failures.push({
      key: null,
      what: `cleanup failed: ${cleanup.leftover.length} object(s) left behind${cleanup.error ? ` — ${cleanup.error}` : ''}; a fault may still be active`,
    });
  }
  const inconclusive: Verdict['inconclusive'] = [];
  for (const r of scenarios) {
    for (const a of r.assertions) {
      if (a.inconclusive && !a.informational)
        inconclusive.push({ key: r.key, what: `${a.name} — ${a.message}` });
    }
    if (r.outcome === 'passed' || r.outcome === 'inconclusive') continue;
    for (const what of describeFailure(r)) failures.push({ key: r.key, what });
  }
  if (run.outcome === 'incomplete') {
    failures.push({ key: null, what: 'the journal ends before run-end: the run crashed or was killed' });
  }
  const counted = scenarios.flatMap((r) => r.assertions.filter((a) => !a.informational));
  const outcome = run.outcome;
  return {
    outcome,
    passed: outcome === 'passed',
    counts: {
      scenarios: scenarios.length,
      passed: scenarios.filter((r) => r.outcome === 'passed').length,
      failed: scenarios.filter((r) => r.outcome !== 'passed' && r.outcome !== 'inconclusive').length,
      inconclusive: scenarios.filter((r) => r.outcome === 'inconclusive').length,
      assertions: counted.length,
      assertionsFailed: counted.filter((a) => !a.passed && !a.inconclusive).length,
      assertionsInconclusive: counted.filter((a) => a.inconclusive).length,
    },
    failures,
    inconclusive,
  };
}

/** The executions of a run while its journal is folded, found by their id. */
interface Fold {
  executions: Execution[];
  byId: Map<string, Execution>;
  suite: Results['suite'];
  cleanup: CleanupResult | null;
  runLogs: Results['logs'];
}

/**
 * A log's execution: the one it names; a log naming only a scenario (and maybe a variant) is about the latest
 * execution of it started before the log.
 */
function ownerOfLog(fold: Fold, e: EventOf<'log'>): Execution | undefined {
  if (e.scenario === undefined) return undefined;
  if (e.variant !== undefined && e.iteration !== undefined) {
    return fold.byId.get(formatScenarioKey(e.scenario, e.variant, e.iteration));
  }
  return fold.executions.findLast(
    (x) => x.result.scenario === e.scenario && (e.variant === undefined || x.result.variant === e.variant),
  );
}

function foldEvent(fold: Fold, e: JournalEvent): void {
  switch (e.type) {
    case 'scenario-start': {
      const x = newExecution(e);
      fold.executions.push(x);
      fold.byId.set(x.result.key, x);
      return;
    }
    case 'cleanup':
      fold.cleanup = {
        ok: e.ok,
        removed: e.removed,
        restored: e.restored ?? [],
        leftover: e.leftover,
        error: e.error ?? null,
        at: e.t,
      };
      return;
    case 'log': {
      const entry = { t: e.t, level: e.level, message: e.message };
      const owner = ownerOfLog(fold, e);
      if (owner) owner.result.logs.push(entry);
      else if (e.level !== 'info') fold.runLogs.push(entry);
      return;
    }
    default:
      break;
  }
  if ((e.type === 'phase-start' || e.type === 'phase-end') && e.scope === 'suite') {
    applyPhase(fold.suite.phases, e);
    return;
  }
  // Every scoped event names its execution; one whose scenario-start is missing has nothing to fold into.
  if ('iteration' in e && e.iteration !== undefined) {
    const x = fold.byId.get(formatScenarioKey(e.scenario, e.variant, e.iteration));
    if (x) applyScoped(x, e);
  }
}

/** Folds journal events into the results model. Events after a torn line are simply absent; nothing throws. */
export function buildResults(events: readonly JournalEvent[], options: BuildOptions = {}): Results {
  const fold: Fold = { executions: [], byId: new Map(), suite: { phases: [] }, cleanup: null, runLogs: [] };
  for (const e of events) foldEvent(fold, e);
  const scenarios = fold.executions.map(finishExecution);
  const run = buildRunInfo(events);
  const start = events.find((e): e is EventOf<'run-start'> => e.type === 'run-start');
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    journalVersion: start?.version ?? null,
    run,
    verdict: buildVerdict(run, scenarios, fold.cleanup),
    suite: fold.suite,
    scenarios,
    repeats: buildRepeats(scenarios),
    coverage: buildCoverage(scenarios),
    cleanup: fold.cleanup,
    journalProblems: options.journalProblems ?? [],
    logs: fold.runLogs,
  };
}

/** The run's outcome in words, for headings: "passed", "failed (exit 1)", "incomplete". */
export function formatOutcome(outcome: RunOutcome, exitCode: number | null = null): string {
  return exitCode === null || exitCode === 0 ? outcome : `${outcome} (exit ${exitCode})`;
}

/** A run's place among shards in words: "shard 2/3", "merged from 3 shards" (undefined: a whole-suite run). */
export function formatShard(shard: RunShard | undefined): string | undefined {
  if (!shard) return undefined;
  return 'index' in shard ? `shard ${shard.index}/${shard.count}` : `merged from ${shard.count} shards`;
}

/** A duration for tables, or an em dash when absent. */
export function formatMaybeDuration(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : formatDuration(ms);
}
