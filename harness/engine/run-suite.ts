// A suite run: provision the target once, run every scenario variant (× repeats), prove cleanup by label, tear
// the target down, and decide the exit code (DESIGN.md "Exit codes"). Where the target makes clusters in seconds
// and drills may run at once, runs are spread over clusters of their own (planTurns).

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target, TargetEnvironment } from '../../clusters/target.js';
import type { Journal } from '../journal/index.js';
import { deleteRunObjects, type KubeClient } from '../kube/index.js';
import { formatDuration } from '../util/duration.js';
import {
  EXIT_CODES,
  allRecoveryConditions,
  clusterNeedsOf,
  routingsOf,
  exitCodeFor,
  JOURNAL_VERSION,
  MeshdrillError,
  type Outcome,
  worstOutcome,
  type ResolvedScenario,
  type ScenarioVariant,
  scenarioOfVariant,
} from '../model/index.js';
import { Interrupted } from './phase-runner.js';
import type { EngineContext } from './ports.js';
import { runVariant } from './run-variant.js';
import { planTurns, runScheduled, type Turn } from './schedule.js';
import { describeShard, holdsRun, pickShard, restrictToShard, type Shard, type ShardSpec } from './shard.js';

export interface SuiteOptions {
  runId: string;
  journal: Journal;
  target: Target;
  scenarios: ResolvedScenario[];
  repeat: number;
  /**
   * How many drills may run at once (default 1). `isolation: cluster` drills run alone, unless the target gives
   * each a cluster of its own (Target.sibling).
   */
  parallel?: number;
  workDir: string;
  ruleFiles: string[];
  settings: Record<string, string>;
  istioVersion?: string;
  interrupt: AbortSignal;
  /** Keep the target running after the suite (reuse on kind; inspection on local). */
  keepTarget?: boolean;
  /**
   * Builds the clients and ports once a cluster is up; `workDir` is the turn's own (runbook steps run there, so
   * drills running at once never share files).
   */
  connect(env: TargetEnvironment, workDir: string): Omit<EngineContext, 'runId' | 'journal' | 'interrupt'>;
  /** Told each step while the shared target provisions; the engine journals each as an info log already. */
  onProgress?: (message: string) => void;
  cleanupTimeoutMs?: number;
  /** `--shard i/n`: run only this machine's share of the suite's runs (suiteShard). */
  shard?: ShardSpec;
  /** What run-start records of the command that started the run (absent: `unknown`, no argv — engine tests). */
  invocation?: { meshdrillVersion: string; argv: readonly string[] };
  /** Info lines journaled right after run-start, e.g. why `--parallel auto` chose its figure. */
  notes?: readonly string[];
}

export interface SuiteResult {
  outcome: Outcome;
  exitCode: number;
  /** The target's environment when it is still up (kept with `keepTarget`). */
  keptEnvironment?: TargetEnvironment;
}

/**
 * `notification` signals are judged at an Alertmanager's receiver. On a target that runs none, or that does not run
 * the routing a drill ships, they cannot be judged: they are left out of the drills, and the journal (so the
 * report) says which and why — never a silent pass, never a failure the system under test did not cause.
 */
function judgeableOn(
  env: TargetEnvironment,
  scenarios: readonly ResolvedScenario[],
  target: string,
  journal: Journal,
): ResolvedScenario[] {
  const am = env.alertmanager;
  if (am?.receiverUrl === undefined && am) noteRoutedOnly(am.url, am.routingDelayMs, scenarios, journal);
  return scenarios.map((s) => {
    const dropped = notificationConditions(s);
    const why = unjudgeableBecause(env, s, target);
    if (dropped.length === 0 || why === undefined) return s;
    journal.append({
      type: 'log',
      level: 'warn',
      scenario: s.name,
      message: `${dropped.map((c) => c.name).join(', ')} not judged: ${why} (docs/targets.md)`,
    });
    return withoutNotifications(s);
  });
}

/** The scenario without its notification conditions: signals, efficacy, and the drill's and variants' recovery. */
function withoutNotifications(s: ResolvedScenario): ResolvedScenario {
  const kept = <T extends { kind: string }>(list: T[]) => list.filter((c) => c.kind !== 'notification');
  const keptRecovery = (r: ResolvedScenario['recovery']) => ({ ...r, conditions: kept(r.conditions) });
  return {
    ...s,
    signals: kept(s.signals),
    efficacy: kept(s.efficacy),
    recovery: keptRecovery(s.recovery),
    variants: s.variants.map((v) =>
      v.ownRecovery === undefined
        ? v
        : { ...v, ownRecovery: { ...v.ownRecovery, recovery: keptRecovery(v.ownRecovery.recovery) } },
    ),
  };
}

function notificationConditions(s: ResolvedScenario): { kind: string; name: string }[] {
  const all = [...s.signals, ...s.efficacy, ...allRecoveryConditions(s)];
  return [...new Map(all.filter((c) => c.kind === 'notification').map((c) => [c.name, c])).values()];
}

/** Why this target cannot judge the scenario's notification signals; undefined when it can. */
function unjudgeableBecause(env: TargetEnvironment, s: ResolvedScenario, target: string): string | undefined {
  if (!env.alertmanager)
    return `this ${target} target runs no Alertmanager (notification signals need an Alertmanager)`;
  const unserved = routingsOf(s.variants).filter((r) => !env.alertmanager?.routings?.[r.id]);
  if (unserved.length === 0) return undefined;
  return `this ${target} target does not run the drill's own Alertmanager routing (${unserved.map((r) => r.file).join(', ')}); only the local target does`;
}

/** The user's own Alertmanager: its deliveries are not observable, so the report must not read as if they were. */
function noteRoutedOnly(
  url: string,
  routingDelayMs: number,
  scenarios: readonly ResolvedScenario[],
  journal: Journal,
): void {
  for (const s of scenarios) {
    const judged = notificationConditions(s);
    if (judged.length === 0) continue;
    journal.append({
      type: 'log',
      level: 'info',
      scenario: s.name,
      message: `${judged.map((c) => c.name).join(', ')} judged from Alertmanager's routing at ${url}: an alert it holds active for a receiver counts as routed once its routing delay (${routingDelayMs / 1000}s) passed; delivery to the pager is not observed`,
    });
  }
}

/**
 * This machine's share of the suite under `--shard i/n` (harness/engine/shard.ts), balanced by expectedVariantMs.
 * Decided from the scenarios as loaded — never from what a target later leaves out (judgeableOn) — so every
 * machine of the suite computes the same shards.
 */
export function suiteShard(
  scenarios: readonly ResolvedScenario[],
  spec: ShardSpec,
  repeat: number,
): Shard<ResolvedScenario, ScenarioVariant> & { suiteRuns: number; suiteExpectedMs: number } {
  return pickShard<ResolvedScenario, ScenarioVariant>(scenarios, spec, {
    repeat,
    expectedMs: expectedVariantMs,
  });
}

/** The line that says what a shard holds (journal, progress, plan). */
export function describeSuiteShard(shard: ReturnType<typeof suiteShard>): string {
  return describeShard(shard, formatDuration);
}

export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const { journal } = options;
  announceRun(options);
  const shard = options.shard ? suiteShard(options.scenarios, options.shard, options.repeat) : undefined;
  if (shard) {
    journal.append({ type: 'log', level: 'info', message: describeSuiteShard(shard) });
    if (shard.runs.length === 0) {
      // Nothing to run: no cluster is made; the journal still says so, for the merge to find this shard.
      journal.append({ type: 'run-end', outcome: 'passed', exitCode: EXIT_CODES.passed });
      return { outcome: 'passed', exitCode: EXIT_CODES.passed };
    }
  }
  const outcomes: Outcome[] = [];
  const up: SharedCluster = {};
  try {
    await runOnShared(options, shard, up, outcomes);
  } catch (error) {
    recordSuiteError(options, error, outcomes);
  } finally {
    await finishSuite(options, up.kube, outcomes);
  }
  const outcome = worstOutcome(outcomes);
  const exitCode = exitCodeFor(outcome);
  journal.append({ type: 'run-end', outcome, exitCode });
  return { outcome, exitCode, ...(options.keepTarget && up.env ? { keptEnvironment: up.env } : {}) };
}

/** The journal's first event, written here so the engine owns every event; then the caller's notes. */
function announceRun(options: SuiteOptions): void {
  const { journal } = options;
  journal.append({
    type: 'run-start',
    version: JOURNAL_VERSION,
    runId: options.runId,
    meshdrillVersion: options.invocation?.meshdrillVersion ?? 'unknown',
    argv: [...(options.invocation?.argv ?? [])],
    target: options.target.name,
    repeat: options.repeat,
    parallel: options.parallel ?? 1,
    ...(options.shard ? { shard: options.shard } : {}),
  });
  for (const message of options.notes ?? []) journal.append({ type: 'log', level: 'info', message });
}

/** The shared cluster as far as it came up: what the run-wide cleanup and `keepTarget` need. */
interface SharedCluster {
  env?: TargetEnvironment;
  kube?: KubeClient;
}

/** Provisions the shared target and runs every turn of the suite (or of this shard) on it or beside it. */
async function runOnShared(
  options: SuiteOptions,
  shard: ReturnType<typeof suiteShard> | undefined,
  up: SharedCluster,
  outcomes: Outcome[],
): Promise<void> {
  const { journal, target } = options;
  const suiteScenarios = shard ? restrictToShard(options.scenarios, shard) : options.scenarios;
  const shared = await provisionShared(options, suiteScenarios);
  up.env = shared;
  if (!shared.faultsAllowed) {
    throw new MeshdrillError('environment', `faults are not allowed on this ${target.name} target`, {
      hint: 'allow the context explicitly (see docs/targets.md) before injecting faults into a shared cluster',
    });
  }
  const scenarios = judgeableOn(shared, suiteScenarios, target.name, journal);
  up.kube = options.connect(shared, options.workDir).kube;
  const contextFor = (environment: TargetEnvironment, workDir: string): EngineContext => ({
    ...options.connect(environment, workDir),
    runId: options.runId,
    journal,
    interrupt: options.interrupt,
  });
  const runRuns = async (ctx: EngineContext, turn: SuiteTurn): Promise<void> => {
    for (const { variant, iteration } of turn.runs) {
      if (options.interrupt.aborted) throw new Interrupted();
      const result = await runVariant(ctx, turn.scenario, variant, iteration);
      outcomes.push(result.outcome);
      if (result.outcome === 'interrupted') throw new Interrupted();
    }
  };
  const parallel = options.parallel ?? 1;
  const turns = planTurns(scenarios, {
    repeat: options.repeat,
    parallel,
    ownClusters: target.sibling !== undefined,
    expectedMs: expectedVariantMs,
    ...(shard ? { includes: holdsRun(shard) } : {}),
  });
  await runScheduled(
    turns,
    { parallel, shares: (turn) => turn.shares, stopped: () => options.interrupt.aborted },
    async (turn) => {
      const workDir = join(options.workDir, 'turns', turnName(turn));
      if (!turn.ownCluster) return runRuns(contextFor(shared, workDir), turn);
      await onOwnCluster(options, turn, workDir, outcomes, (own) => runRuns(contextFor(own, workDir), turn));
    },
  );
  if (options.interrupt.aborted) throw new Interrupted();
}

/**
 * The suite's provision phase, journaled at the suite's scope (it belongs to no execution), then the target's
 * versions and timings. A failure is journaled as the phase's end and rethrown.
 */
async function provisionShared(
  options: SuiteOptions,
  scenarios: readonly ResolvedScenario[],
): Promise<TargetEnvironment> {
  const { journal, target } = options;
  const started = Date.now();
  journal.append({ type: 'phase-start', scope: 'suite', phase: 'provision', deadlineMs: 0 });
  let env: TargetEnvironment;
  try {
    env = await target.provision({
      workDir: options.workDir,
      ruleFiles: options.ruleFiles,
      settings: options.settings,
      needs: clusterNeedsOf(scenarios),
      routings: routingsOf(scenarios.flatMap((s) => s.variants)),
      ...(options.istioVersion ? { istioVersion: options.istioVersion } : {}),
      // Each provisioning step is journaled as an info log (the live progress shows it from there).
      onProgress: (message) => {
        journal.append({ type: 'log', level: 'info', message });
        options.onProgress?.(message);
      },
      signal: options.interrupt,
    });
  } catch (error) {
    journal.append({
      type: 'phase-end',
      scope: 'suite',
      phase: 'provision',
      outcome: suiteErrorOutcome(options, error),
      durationMs: Date.now() - started,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
  journal.append({
    type: 'phase-end',
    scope: 'suite',
    phase: 'provision',
    outcome: 'passed',
    durationMs: Date.now() - started,
  });
  journal.append({
    type: 'target-ready',
    target: target.name,
    versions: env.versions,
    timings: env.timings,
    prometheusUrl: env.prometheusUrl,
    ingressUrl: env.ingressUrl,
  });
  return env;
}

function suiteErrorOutcome(options: SuiteOptions, error: unknown): Outcome {
  return error instanceof Interrupted || options.interrupt.aborted ? 'interrupted' : 'error';
}

/** What ended the suite early counts in its outcome; anything but an interrupt is logged with its hint. */
function recordSuiteError(options: SuiteOptions, error: unknown, outcomes: Outcome[]): void {
  outcomes.push(suiteErrorOutcome(options, error));
  if (error instanceof Interrupted) return;
  const hint = error instanceof MeshdrillError && error.hint ? ` (${error.hint})` : '';
  options.journal.append({
    type: 'log',
    level: 'error',
    message: `${error instanceof Error ? error.message : String(error)}${hint}`,
  });
}

/** Proof of cleanup on the shared cluster, then its teardown unless kept; each failure is a cleanup failure. */
async function finishSuite(
  options: SuiteOptions,
  kube: KubeClient | undefined,
  outcomes: Outcome[],
): Promise<void> {
  const { journal } = options;
  // Proof of cleanup: whatever carries this run's label is deleted and confirmed gone.
  if (kube) {
    try {
      const result = await deleteRunObjects(kube, options.runId, {
        timeoutMs: options.cleanupTimeoutMs ?? 60_000,
      });
      const ok = result.leftover.length === 0;
      journal.append({
        type: 'cleanup',
        ok,
        removed: result.removed,
        leftover: result.leftover,
        ...(result.restored.length > 0 ? { restored: result.restored } : {}),
      });
      if (!ok) outcomes.push('cleanup-failed');
    } catch (error) {
      journal.append({ type: 'cleanup', ok: false, removed: [], leftover: [], error: String(error) });
      outcomes.push('cleanup-failed');
    }
  }
  if (options.keepTarget) return;
  try {
    await options.target.teardown();
  } catch (error) {
    journal.append({ type: 'log', level: 'error', message: `target teardown failed: ${String(error)}` });
    outcomes.push('cleanup-failed');
  }
}

type SuiteTurn = Turn<ResolvedScenario, ScenarioVariant>;

/** A directory name for the turn: its scenario, and the variant and iteration when it runs a single one. */
function turnName(turn: SuiteTurn): string {
  const only = turn.runs.length === 1 ? turn.runs[0] : undefined;
  return only ? `${turn.scenario.name}-${only.variant.name}-${only.iteration}` : turn.scenario.name;
}

/**
 * A variant run's rough length, to start long turns first: steady state and the longest detection budget, then
 * the whole recovery budget and a verification window for a variant that may not recover (a negative control, a
 * measured runbook: they wait the budget out), a quarter of the budget for one expected to recover.
 */
export function expectedVariantMs(scenario: ResolvedScenario, variant: ScenarioVariant): number {
  const detection = Math.max(
    0,
    scenario.duringFault.holdForMs ?? 0,
    ...scenario.signals.map((s) => s.withinMs),
  );
  const { budgetMs, verifyMs } = scenarioOfVariant(scenario, variant).recovery;
  const recovery = variant.expect === 'recovery' ? budgetMs / 4 + verifyMs : budgetMs + verifyMs;
  return scenario.steadyState.durationMs + detection + recovery;
}

/**
 * Provisions a cluster of the target's kind for this turn alone, runs `work` on it, and tears it down whatever
 * happened. What the turn's variants created dies with the cluster (its teardown proves no process survives),
 * so no label sweep is needed there; a failed teardown is a cleanup failure of the run.
 */
async function onOwnCluster(
  options: SuiteOptions,
  turn: SuiteTurn,
  workDir: string,
  outcomes: Outcome[],
  work: (env: TargetEnvironment) => Promise<void>,
): Promise<void> {
  const { journal } = options;
  const own = (options.target.sibling as () => Target)();
  // As progress lines name a drill running beside others: scenario/variant (and the iteration of a repeat).
  const only = turn.runs[0];
  const label = `${turn.scenario.name}/${only?.variant.name ?? '*'}${options.repeat > 1 ? ` #${only?.iteration}` : ''}`;
  const started = Date.now();
  try {
    const env = await own
      .provision({
        workDir,
        ruleFiles: options.ruleFiles,
        settings: options.settings,
        needs: clusterNeedsOf([turn.scenario]),
        routings: routingsOf(turn.runs.map((r) => r.variant)),
        ...(options.istioVersion ? { istioVersion: options.istioVersion } : {}),
        signal: options.interrupt,
      })
      .catch((error: unknown) => {
        // The run ends with an environment error; the journal (and so the reports) must say which cluster and why.
        journal.append({
          type: 'log',
          level: 'error',
          message: `${label}: its own ${options.target.name} cluster did not come up after ${Date.now() - started} ms: ${error instanceof Error ? error.message : String(error)}`,
        });
        throw error;
      });
    journal.append({
      type: 'log',
      level: 'info',
      message: `${label}: a ${options.target.name} cluster of its own, ready in ${Date.now() - started} ms (Prometheus ${env.prometheusUrl}, ingress ${env.ingressUrl})`,
    });
    await work(env);
  } finally {
    try {
      await own.teardown();
      journal.append({ type: 'log', level: 'info', message: `${label}: its own cluster torn down` });
    } catch (error) {
      outcomes.push('cleanup-failed');
      journal.append({
        type: 'log',
        level: 'error',
        message: `${label}: tearing down its own cluster failed: ${String(error)}`,
      });
    }
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
