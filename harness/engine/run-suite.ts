// A suite run: provision the target once, run every scenario variant (× repeats), prove cleanup by label, tear
// the target down, and decide the exit code (DESIGN.md "Exit codes").

import type { Target, TargetEnvironment } from '../../clusters/target.js';
import type { Journal } from '../journal/index.js';
import { deleteRunObjects, type KubeClient } from '../kube/index.js';
import { EXIT_CODES, MeshdrillError, type Outcome, type ResolvedScenario } from '../model/index.js';
import { Interrupted } from './phase-runner.js';
import type { EngineContext } from './ports.js';
import { runVariant } from './run-variant.js';
import { runScheduled } from './schedule.js';

export interface SuiteOptions {
  runId: string;
  journal: Journal;
  target: Target;
  scenarios: ResolvedScenario[];
  repeat: number;
  /** How many `isolation: namespace` drills may run at once (default 1); `cluster` ones always run alone. */
  parallel?: number;
  workDir: string;
  ruleFiles: string[];
  settings: Record<string, string>;
  istioVersion?: string;
  interrupt: AbortSignal;
  /** Keep the target running after the suite (reuse on kind; inspection on local). */
  keepTarget?: boolean;
  /** Builds the clients and ports once the target is up. */
  connect(env: TargetEnvironment): Omit<EngineContext, 'runId' | 'journal' | 'interrupt'>;
  onProgress?: (message: string) => void;
  cleanupTimeoutMs?: number;
}

export interface SuiteResult {
  outcome: Outcome;
  exitCode: number;
  /** The target's environment when it is still up (kept with `keepTarget`). */
  keptEnvironment?: TargetEnvironment;
}

/** Worst outcome wins: interrupted > cleanup failed > error > failed/timed out > passed. */
export function worstOutcome(outcomes: Outcome[]): Outcome {
  const rank: Record<Outcome, number> = {
    passed: 0,
    failed: 1,
    'timed-out': 1,
    error: 2,
    'cleanup-failed': 3,
    interrupted: 4,
  };
  return outcomes.reduce<Outcome>((worst, o) => (rank[o] > rank[worst] ? o : worst), 'passed');
}

export function exitCodeFor(outcome: Outcome): number {
  switch (outcome) {
    case 'passed':
      return EXIT_CODES.passed;
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

export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const { journal, target } = options;
  const outcomes: Outcome[] = [];
  const provisionStart = Date.now();
  journal.append({ type: 'phase-start', scenario: '*', variant: '*', phase: 'provision', deadlineMs: 0 });
  let env: TargetEnvironment | undefined;
  let kube: KubeClient | undefined;
  try {
    env = await target.provision({
      workDir: options.workDir,
      ruleFiles: options.ruleFiles,
      settings: options.settings,
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
    const ports = options.connect(env);
    kube = ports.kube;
    const ctx: EngineContext = { ...ports, runId: options.runId, journal, interrupt: options.interrupt };
    // A scenario's variants share its namespace, so they run one after the other within its turn.
    const runScenario = async (scenario: ResolvedScenario): Promise<void> => {
      for (const variant of scenario.variants) {
        for (let iteration = 1; iteration <= options.repeat; iteration++) {
          if (options.interrupt.aborted) throw new Interrupted();
          const result = await runVariant(ctx, scenario, variant, iteration);
          outcomes.push(result.outcome);
          if (result.outcome === 'interrupted') throw new Interrupted();
        }
      }
    };
    await runScheduled(
      options.scenarios,
      {
        parallel: options.parallel ?? 1,
        shares: (scenario) => scenario.isolation === 'namespace',
        stopped: () => options.interrupt.aborted,
      },
      runScenario,
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
        journal.append({ type: 'cleanup', ok, removed: result.removed, leftover: result.leftover });
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
