// The journal is the contract between the engine and every report (STYLE.md §5): the engine appends these
// events to journal.jsonl as they happen; results.json, junit.xml and index.html are pure functions of them.

import type { LoadSample } from './load.js';
import type { PhaseName, ScenarioVariant, SloThreshold } from './scenario.js';

/**
 * Bumped on any incompatible change; readers refuse journals of a newer major version and upgrade older ones
 * (reports/journal-upgrade.ts). 2: scoped events name their execution (`iteration`), suite-level phases carry
 * `scope: 'suite'` instead of scenario and variant `'*'`, and the engine writes run-start.
 */
export const JOURNAL_VERSION = 2;

/**
 * One executed runbook step: what the runner returns, what the engine receives and what the journal's
 * `runbook-step` event carries — one record, declared once.
 */
export interface RunbookStepRecord {
  /** 0-based position in the runbook. */
  index: number;
  title: string;
  kind: 'command' | 'apply';
  /** What ran, as a human would read it: the script, or `kubectl apply -f -` followed by the manifest. */
  command: string;
  startedAt: number;
  durationMs: number;
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr interleaved, head and tail kept when long. */
  output: string;
}

/**
 * `inconclusive`: no judged assertion failed, but at least one could not be decided because the instrument itself
 * was degraded where it was judged (harness/slo/instrument.ts).
 */
export type Outcome =
  | 'passed'
  | 'inconclusive'
  | 'failed'
  | 'timed-out'
  | 'interrupted'
  | 'cleanup-failed'
  | 'error';

interface Base {
  /** Epoch milliseconds when the event happened. */
  t: number;
}

/**
 * The execution an event belongs to: one run of a scenario variant, `iteration` telling the repeats apart
 * (`--repeat`). Together they are the execution id, the results key `scenario/variant#iteration`, so a reader
 * never has to guess which repeat an event belongs to — drills side by side and merged shards interleave them.
 */
export interface ExecutionScope {
  scenario: string;
  variant: string;
  /** 1-based. */
  iteration: number;
  scope?: never;
}

/** Events of the suite itself, outside every execution (provisioning the shared target). */
export interface SuiteScope {
  scope: 'suite';
  // `never`: a suite event names no execution, and reading `e.scenario` off any phase event stays type-safe.
  scenario?: never;
  variant?: never;
  iteration?: never;
}

/** Events inside a scenario execution carry its id. */
interface Scoped extends Base, ExecutionScope {}

/** Phase events happen inside an execution or, for provisioning, at the suite's level. */
type PhaseScoped = Base & (ExecutionScope | SuiteScope);

export type JournalEvent =
  | (Base & {
      type: 'run-start';
      /** The version the journal was written in (readers upgrade older journals' events, never this field). */
      version: number;
      runId: string;
      meshdrillVersion: string;
      argv: string[];
      target: string;
      repeat: number;
      /** `--parallel`: how many namespace-isolated drills could run at once (absent in older journals: 1). */
      parallel?: number;
      /**
       * `--shard i/n`: this run is shard `index` (1-based) of `count` of its suite (absent: the whole suite). A run
       * merged from all its shards by `meshdrill report --merge` has no index: `merged` lists the shards, each
       * with its run id (its objects' label) and how it ended (null: its journal has no run-end).
       */
      shard?:
        | { index: number; count: number }
        | {
            count: number;
            merged: { index: number; runId: string; outcome: Outcome | null; exitCode: number | null }[];
          };
    })
  | (Base & {
      type: 'target-ready';
      target: string;
      versions: Record<string, string>;
      /** Provisioning steps and how long each took (cluster create, Istio install, add-ons). */
      timings: Record<string, number>;
      prometheusUrl: string;
      ingressUrl: string;
    })
  | (Scoped & {
      type: 'scenario-start';
      title: string;
      file: string;
      expect: ScenarioVariant['expect'];
      faultKind: string;
      slos: SloThreshold[];
      /**
       * `informational`: measured and reported, never judged (absent: judged). `silent`: this variant requires it
       * NOT to fire (a negative control of the signal itself, e.g. a page its routing inhibits).
       */
      signals: {
        name: string;
        kind: string;
        withinMs: number;
        floorMs?: number;
        informational?: boolean;
        silent?: boolean;
      }[];
      recovery: {
        budgetMs: number;
        verifyMs: number;
        /** Recovery conditions besides the SLOs (absent when none are declared). */
        conditions?: { name: string; kind: string }[];
      };
      /** `hold`: each SLO is asserted over the during-fault window (absent: not asserted). */
      duringFault?: { slos: 'hold' };
      timeScale: number;
    })
  | (PhaseScoped & { type: 'phase-start'; phase: PhaseName; deadlineMs: number })
  | (PhaseScoped & {
      type: 'phase-end';
      phase: PhaseName;
      outcome: Outcome;
      durationMs: number;
      error?: string;
    })
  | (Scoped & { type: 'load-sample'; sample: LoadSample })
  | (Scoped & { type: 'fault-injected'; kind: string; description: string; objects: string[] })
  | (Scoped & { type: 'fault-removed'; description: string; ok: boolean; error?: string })
  | (Scoped & {
      type: 'condition';
      /**
       * Which role this condition played. `recovery`: one observation of a recovery condition (one event per
       * poll, from the runbook's start until recovery is decided; `observedAt` says when).
       */
      role: 'efficacy' | 'signal' | 'false-positive-check' | 'recovery';
      name: string;
      kind: string;
      fired: boolean;
      /** Time from injection until it fired (efficacy/signal), when it fired; for recovery, until this observation. */
      afterMs?: number;
      /** Recovery observations: when the probe started (epoch ms); the verdict judges windows by it. */
      observedAt?: number;
      budgetMs: number;
      /** What was observed: a query result, a log line, a field value. */
      evidence: string;
    })
  | (Scoped & {
      type: 'runbook-step';
    } & RunbookStepRecord)
  | (Scoped & {
      type: 'slo-window';
      /**
       * steady-state, during-fault, after-recovery; after-step: the seconds a runbook step settled into (the
       * last five before the next step or the recovery verdict), one per step.
       */
      window: 'steady-state' | 'during-fault' | 'after-recovery' | 'after-step';
      /** after-step: the runbook step's index. */
      step?: number;
      from: number;
      to: number;
      /** `inconclusive`: the breach may be the instrument's; why (absent: judged as `passed` says). */
      results: { source: string; measured: number; passed: boolean; inconclusive?: string }[];
    })
  | (Scoped & {
      type: 'recovery';
      recovered: boolean;
      /** From injection to the start of the verification window that held. */
      fromInjectionMs?: number;
      fromRunbookStartMs?: number;
      /** For each SLO, the runbook step index after which it came back (null: before any step). */
      restoredBy: { source: string; step: number | null }[];
      /**
       * When not recovered: why, e.g. `condition config-converges never true` or `SLOs did not hold for a whole
       * 1m00s window within 4m00s`.
       */
      reason?: string;
    })
  | (Scoped & {
      type: 'assertion';
      /** Stable id such as `detect:istio-5xx` or `recover:slo`. */
      id: string;
      name: string;
      passed: boolean;
      /** Not counted in the verdict (variants with expect=measure). */
      informational?: boolean;
      /**
       * Neither passed nor failed: the instrument was degraded enough where this was judged to explain the
       * outcome (`passed` is false; the message gives the evidence).
       */
      inconclusive?: boolean;
      message: string;
      measured?: number;
      limit?: number;
    })
  | (Scoped & { type: 'scenario-end'; outcome: Outcome; durationMs: number })
  | (Base & {
      type: 'cleanup';
      ok: boolean;
      removed: string[];
      leftover: string[];
      /** Objects the run changed but did not create, put back as they were (absent in older journals). */
      restored?: string[];
      error?: string;
    })
  | (Base & {
      type: 'log';
      level: 'info' | 'warn' | 'error';
      message: string;
      scenario?: string;
      /** With `scenario`: the variant it is about (drills side by side may run several variants at once). */
      variant?: string;
      /** With `variant`: the execution it is about (absent: the scenario's, or the variant's, latest execution). */
      iteration?: number;
    })
  | (Base & { type: 'run-end'; outcome: Outcome; exitCode: number });

export type JournalEventType = JournalEvent['type'];
/** Events that belong to one execution: they carry its id. */
export type ExecutionEvent = Extract<JournalEvent, ExecutionScope>;
export type EventOf<T extends JournalEventType> = Extract<JournalEvent, { type: T }>;

/** An execution's id, `scenario/variant#iteration`: the key of its results (ScenarioResult.key). */
export function formatExecutionId(scope: ExecutionScope): string {
  return `${scope.scenario}/${scope.variant}#${scope.iteration}`;
}
