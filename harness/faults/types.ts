// What a fault handler is given and gives back (shared by every fault kind and the workload setup actions).

import type { ExecResult } from '../exec/index.js';
import type { KubeClient } from '../kube/index.js';

export interface FaultContext {
  kube: KubeClient;
  runId: string;
  scenario: string;
  /** Namespace for namespaced manifests that name none. */
  defaultNamespace: string;
  /** Aborts a fault that waits (certificate-expiry); optional so callers without one keep working. */
  signal?: AbortSignal;
  /**
   * Runs a shell script with KUBECONFIG pinned to the target (the door of command conditions): what a `command`
   * action runs. Absent, a `command` action fails.
   */
  runCommand?(script: string, signal?: AbortSignal, timeoutMs?: number): Promise<ExecResult>;
  /**
   * Records a `command` step's undo durably before its command starts (`meshdrill cleanup --run-id` runs it after
   * a SIGKILL); resolves to what removes the record. Absent, nothing is recorded.
   */
  recordUndo?(step: RecordedStep): Promise<() => Promise<void>>;
}

/** Which step of the drill a recorded undo belongs to: the workload's setup or the fault, and its index there. */
export interface RecordedStep {
  part: 'setup' | 'fault';
  step: number;
  undo: string;
  description: string;
}

export interface InjectedFault {
  description: string;
  /** Objects created or changed, as `Kind ns/name`. */
  objects: string[];
  /** Undo: delete what was created, restore what was changed. Idempotent. */
  revert(): Promise<void>;
  /**
   * When the fault began, if not when injection was called (epoch ms): a certificate-expiry fault waits for
   * the certificate to run out, and its time-to-detect counts from the expiry.
   */
  injectedAt?: number;
}
