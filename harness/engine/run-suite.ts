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
  clusterNeedsOf,
  MeshdrillError,
  type Outcome,
  type ResolvedScenario,
  type ScenarioVariant,
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
  onProgress?: (message: string) => void;
  cleanupTimeoutMs?: number;
  /** `--shard i/n`: run only this machine's share of the suite's runs (suiteShard). */
  shard?: ShardSpec;
}

export interface SuiteResult {
  outcome: Outcome;
  exitCode: number;
  /** The target's environment when it is still up (kept with `keepTarget`). */
  keptEnvironment?: TargetEnvironment;
}

/** Worst outcome wins: interrupted > cleanup failed > error > failed/timed out > inconclusive > passed. */
export function worstOutcome(outcomes: Outcome[]): Outcome {
  const rank: Record<Outcome, number> = {
    passed: 0,
    inconclusive: 1,
    failed: 2,
    'timed-out': 2,
    error: 3,
    'cleanup-failed': 4,
    interrupted: 5,
  };
  return outcomes.reduce<Outcome>((worst, o) => (rank[o] > rank[worst] ? o : worst), 'passed');
}

export function exitCodeFor(outcome: Outcome): number {
  switch (outcome) {
    case 'passed':
      return EXIT_CODES.passed;
    case 'inconclusive':
      return EXIT_CODES.inconclusive;
    case 'failed':
    case 'timed-out':
      return EXIT_CODES.assertionFailed;
    case 'error':
      return EXIT_CODES.environment;
    case 'cleanup-failed':
      return EXIT_CODES.cleanupFailed;
    case 'interrupted':
      return EXIT_CODES.interrupted;
  }
}

/**
 * `notification` signals are judged at an Alertmanager's receiver. On a target that runs none they cannot be
 * judged: they are left out of the drills, and the journal (so the report) says which and why — never a silent
 * pass, never a failure the system under test did not cause.
 */
function judgeableOn(
  env: TargetEnvironment,
  scenarios: readonly ResolvedScenario[],
  target: string,
  journal: Journal,
): ResolvedScenario[] {
  if (env.alertmanager) return [...scenarios];
  return scenarios.map((s) => {
    const notification = <T extends { kind: string; name: string }>(c: T) => c.kind === 'notification';
    const dropped = [...s.signals, ...s.efficacy, ...s.recovery.conditions].filter(notification);
    if (dropped.length === 0) return s;
    journal.append({
      type: 'log',
      level: 'warn',
      scenario: s.name,
      message: `${dropped.map((c) => c.name).join(', ')} not judged: this ${target} target runs no Alertmanager (notification signals are judged on the local target)`,
    });
    const kept = <T extends { kind: string; name: string }>(list: T[]) =>
      list.filter((c) => !notification(c));
    return {
      ...s,
      signals: kept(s.signals),
      efficacy: kept(s.efficacy),
      recovery: { ...s.recovery, conditions: kept(s.recovery.conditions) },
    };
  });
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
  const { journal, target } = options;
  const outcomes: Outcome[] = [];
  const shard = options.shard ? suiteShard(options.scenarios, options.shard, options.repeat) : undefined;
  if (shard) {
    journal.append({ type: 'log', level: 'info', message: describeSuiteShard(shard) });
    if (shard.runs.length === 0) {
      // Nothing to run: no cluster is made; the journal still says so, for the merge to find this shard.
      journal.append({ type: 'run-end', outcome: 'passed', exitCode: EXIT_CODES.passed });
      return { outcome: 'passed', exitCode: EXIT_CODES.passed };
    }
  }
  const suiteScenarios = shard ? restrictToShard(options.scenarios, shard) : options.scenarios;
  const provisionStart = Date.now();
  journal.append({ type: 'phase-start', scenario: '*', variant: '*', phase: 'provision', deadlineMs: 0 });
  let env: TargetEnvironment | undefined;
  let kube: KubeClient | undefined;
  try {
    env = await target.provision({
      workDir: options.workDir,
      ruleFiles: options.ruleFiles,
      settings: options.settings,
      needs: clusterNeedsOf(suiteScenarios),
      ...(options.istioVersion ? { istioVersion: options.istioVersion } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      signal: options.interrupt,
    });
    journal.append({
      type: 'phase-end',
      scenario: '*',
      variant: '*',
      phase: 'provision',
      outcome: 'passed',
      durationMs: Date.now() - provisionStart,
    });
    journal.append({
      type: 'target-ready',
      target: target.name,
      versions: env.versions,
      timings: env.timings,
      prometheusUrl: env.prometheusUrl,
      ingressUrl: env.ingressUrl,
    });
    if (!env.faultsAllowed) {
      throw new MeshdrillError('environment', `faults are not allowed on this ${target.name} target`, {
        hint: 'allow the context explicitly (see docs/targets.md) before injecting faults into a shared cluster',
      });
    }
    const scenarios = judgeableOn(env, suiteScenarios, target.name, journal);
    const shared = env;
    kube = options.connect(shared, options.workDir).kube;
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
        await onOwnCluster(options, turn, workDir, outcomes, (own) =>
          runRuns(contextFor(own, workDir), turn),
        );
      },
    );
    if (options.interrupt.aborted) throw new Interrupted();
  } catch (error) {
    const outcome: Outcome =
      error instanceof Interrupted || options.interrupt.aborted ? 'interrupted' : 'error';
    outcomes.push(outcome);
    if (!env) {
      journal.append({
        type: 'phase-end',
        scenario: '*',
        variant: '*',
        phase: 'provision',
        outcome,
        durationMs: Date.now() - provisionStart,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    if (!(error instanceof Interrupted)) {
      const hint = error instanceof MeshdrillError && error.hint ? ` (${error.hint})` : '';
      journal.append({
        type: 'log',
        level: 'error',
        message: `${error instanceof Error ? error.message : String(error)}${hint}`,
      });
    }
  } finally {
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
    if (!options.keepTarget) {
      try {
        await target.teardown();
      } catch (error) {
        journal.append({ type: 'log', level: 'error', message: `target teardown failed: ${String(error)}` });
        outcomes.push('cleanup-failed');
      }
    }
  }
  const outcome = worstOutcome(outcomes);
  const exitCode = exitCodeFor(outcome);
  journal.append({ type: 'run-end', outcome, exitCode });
  return { outcome, exitCode, ...(options.keepTarget && env ? { keptEnvironment: env } : {}) };
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
  const detection = Math.max(0, ...scenario.signals.map((s) => s.withinMs));
  const { budgetMs, verifyMs } = scenario.recovery;
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
