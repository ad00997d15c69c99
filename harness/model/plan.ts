// A plan before a game day (`meshdrill run --dry-run`): every command and manifest a run would apply, in order,
// and what it would change on a cluster it did not create. Targets and the engine each contribute sections.

import type { KubeObject } from './kube-object.js';

export type PlanStep =
  /** A command line, as a human would type it (`$WORK` stands for the run's work directory). */
  | { step: 'command'; command: string; purpose: string }
  /** An object applied (server-side apply: created, or changed when it exists). */
  | { step: 'apply'; object: KubeObject; purpose: string }
  /** A change to an object named by reference (scale, patch, restart, delete). */
  | { step: 'action'; action: string; object: string; purpose: string }
  | { step: 'note'; text: string };

/** An object outside what the run creates for itself that the run would change: the blast radius. */
export interface BlastRadiusEntry {
  object: string;
  /** What the run does to it. */
  change: string;
  /** Whether it exists now (read from the cluster), unknown when the cluster could not be read. */
  exists: boolean | 'unknown';
}

export interface PlanSection {
  title: string;
  steps: PlanStep[];
  blastRadius: BlastRadiusEntry[];
}
