// What the phases of one variant share: each field is written by one phase and read by later ones or by a
// cleanup, so the hand-offs between phases are named here instead of hidden in closures.

import type { KubeObject, LoadSample } from '../../model/index.js';
import type { SloVerdict } from '../../slo/index.js';
import type { RunbookStepResult } from '../ports.js';
import type { RecoveryWatch } from '../recovery-watch.js';

export interface VariantState {
  /** Written by load (one per second, until its cleanup stops the load); read by steady-state, remediate, recover. */
  readonly samples: LoadSample[];
  /** Written by recordAssertion (a judged assertion failed); read by steady-state (no fault after a failed one) and the outcome. */
  failed: boolean;
  /** Written by recordAssertion (an assertion could not be judged); read by the outcome. */
  inconclusive: boolean;
  /** Written by deploy once the namespace is the drill's own; read by deploy's cleanup, which deletes only then. */
  namespaceClaimed: boolean;
  /** Written by deploy (objects generated for this variant); read by deploy's cleanup, which removes them. */
  generated: KubeObject[];
  /** Written by deploy: the undo of each `command` setup action that ran, in order; cleanup runs them reversed. */
  setupUndos: { description: string; revert: () => Promise<void> }[];
  /** Written by load once the driver runs; read by load's cleanup. */
  stopLoad: (() => Promise<unknown>) | undefined;
  /** Written by inject once the fault is in; read by inject's cleanup, which removes the fault. */
  revert: (() => Promise<void>) | undefined;
  /** Written by inject (when the fault began); read by detect, remediate and recover as the origin of their clocks. */
  injectedAt: number;
  /** Written by remediate (the SLOs over injection → runbook start); read by recover (who restored which SLO). */
  duringFault: SloVerdict[];
  /** Written by remediate when the runbook starts; read by recover (budget, time to recover). */
  remediationStart: number;
  /** Written by remediate as each runbook step ends; read by recover. */
  readonly steps: RunbookStepResult[];
  /** Written by remediate when recovery conditions exist; read by recover and remediate's cleanup, which stop it. */
  watch: RecoveryWatch | undefined;
}

/** The state before the first phase: nothing deployed, measured or judged yet. */
export function createVariantState(): VariantState {
  return {
    samples: [],
    failed: false,
    inconclusive: false,
    namespaceClaimed: false,
    generated: [],
    setupUndos: [],
    stopLoad: undefined,
    revert: undefined,
    injectedAt: 0,
    duringFault: [],
    remediationStart: 0,
    steps: [],
    watch: undefined,
  };
}
