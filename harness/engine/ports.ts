// What the engine needs from the world, as interfaces (the engine never knows a concrete target or driver).

import type { ExecResult, PendingUndoStep } from '../exec/index.js';
import type { Journal } from '../journal/index.js';
import type { KubeClient } from '../kube/index.js';
import type { LoadDriver, RunbookStep, RunbookStepRecord } from '../model/index.js';
import type { NotificationPort, PrometheusClient } from '../signals/index.js';

/** A step before it runs: its title, kind and the command or manifest as it will run (placeholders bound). */
export type RunbookStepView = Pick<RunbookStepRecord, 'title' | 'kind' | 'command'>;

/** A step once run: the model's one record. */
export type RunbookStepResult = RunbookStepRecord;

/**
 * Runs runbook steps as written. The steps are the variant's, bound when the scenario was loaded
 * (`ResolvedScenario.variants[].runbook.steps`): the port reads no file.
 */
export interface RunbookPort {
  run(
    steps: readonly RunbookStep[],
    options: {
      signal: AbortSignal;
      stepTimeoutMs: number;
      onStepStart(index: number, step: RunbookStepView): void;
      onStepEnd(result: RunbookStepResult): void;
    },
  ): Promise<RunbookStepResult[]>;
}

/** Everything one scenario execution uses; built once per suite by the CLI. */
export interface EngineContext {
  runId: string;
  journal: Journal;
  kube: KubeClient;
  prometheus: PrometheusClient;
  ingressUrl: string;
  /**
   * The load driver a drill names. `scope` says whose load it is: a driver that runs in the cluster (k6 as a
   * TestRun) puts its objects in the drill's namespace, labelled with the run.
   */
  loadDriver(name: 'builtin' | 'k6', scope: { scenario: string; namespace: string }): LoadDriver;
  runbooks: RunbookPort;
  /**
   * A shell script with the environment pinned to the target (`command` conditions and actions), killed after
   * `timeoutMs` (default 30 s: a condition is a probe; an action such as istioctl install asks for longer).
   */
  runCommand(script: string, signal?: AbortSignal, timeoutMs?: number): Promise<ExecResult>;
  /**
   * Records a setup `command` step's undo durably before its command starts (so `meshdrill cleanup --run-id` can
   * run it after a SIGKILL); resolves to what removes the record. Absent, nothing is recorded.
   */
  recordPendingUndo?(step: PendingUndoStep): Promise<() => Promise<void>>;
  /** What the target's Alertmanager delivered (`notification` signals); absent where it runs none. */
  notifications?: NotificationPort;
  /** The same for each scenario routing the target runs an Alertmanager for, by routing id. */
  routedNotifications?: ReadonlyMap<string, NotificationPort>;
  /** Aborted on SIGINT/SIGTERM. */
  interrupt: AbortSignal;
  /** Overrides for tests: poll intervals and the namespace-deletion wait. */
  tuning?: Partial<EngineTuning>;
}

export interface EngineTuning {
  deployPollMs: number;
  recoverPollMs: number;
  namespaceDeleteTimeoutMs: number;
  runbookStepTimeoutMs: number;
  /** Skip waiting for the ingress route (test doubles without HTTP). */
  skipRouteWait: boolean;
}

export const DEFAULT_TUNING: EngineTuning = {
  deployPollMs: 500,
  recoverPollMs: 1000,
  namespaceDeleteTimeoutMs: 60_000,
  runbookStepTimeoutMs: 300_000,
  skipRouteWait: false,
};
