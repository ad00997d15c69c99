// The target registry (STYLE.md §3): one factory per target name; a missing one is a compile error. Only the
// CLI imports this file — the engine sees the Target interface alone.

import { diagnoseExisting } from './existing/doctor.js';
import { planExisting } from './existing/plan.js';
import { createExistingTarget } from './existing/index.js';
import { diagnoseKind } from './kind/doctor.js';
import { planKind } from './kind/plan.js';
import type { DoctorCheck } from './shared/doctor.js';
import { createKindTarget, deleteKindCluster } from './kind/index.js';
import {
  checkLocalIstioVersions,
  createLocalTarget,
  LOCAL_INGRESS_SERVICE_URL,
  readLocalSettings,
} from './local/index.js';
import { invalidInput } from '../harness/model/index.js';
import type { Target, TargetName, TargetPlan } from './target.js';

export interface TargetFactoryOptions {
  workDir: string;
  settings: Record<string, string>;
}

const factories: { [K in TargetName]: (options: TargetFactoryOptions) => Target } = {
  local: (o) => createLocalTarget({ settings: o.settings }),
  // kind and existing read their settings at provision (ProvisionOptions.settings).
  kind: () => createKindTarget(),
  existing: () => createExistingTarget(),
};

export const TARGET_NAMES = Object.keys(factories) as TargetName[];

/**
 * Refuses (invalid input) `--istio` versions this target cannot run, all of them before the first run starts.
 * kind installs any release it can download, and existing installs only on request; the local target serves the
 * versions of its table (clusters/local/mesh/versions.ts), and its provisioning refuses others the same way.
 */
export function checkIstioVersions(target: string, versions: readonly string[]): void {
  if (target === 'local') checkLocalIstioVersions(versions);
}

/** Istio's rule for a revision name (istioctl refuses others): a DNS label. */
const REVISION_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The control plane a target installs (or, on existing, is told it finds), as the drills name it
 * (`${mesh.…}`): every target reads `--target-opt revision=` — the local target boots istiod as that revision,
 * kind and existing install it with `istioctl install --set revision=` (existing only with install=istio; else
 * it names the revision the cluster runs). Istio's namespace is istio-system on all three. A revision that is
 * not a DNS label is refused as invalid input before anything runs.
 */
export function controlPlaneOf(settings: Record<string, string>): { namespace: string; revision?: string } {
  const revision = settings.revision;
  if (revision !== undefined && revision !== '' && !REVISION_NAME.test(revision)) {
    throw invalidInput(
      `--target-opt revision: expected a DNS label (lower-case letters, digits and "-", at most 63 characters, starting and ending with a letter or digit), got "${revision}"`,
      'Istio names a revision like a DNS label, e.g. --target-opt revision=canary or revision=1-30-3',
    );
  }
  return { namespace: 'istio-system', ...(revision ? { revision } : {}) };
}

export function createTarget(name: string, options: TargetFactoryOptions): Target {
  const factory = factories[name as TargetName];
  if (!factory) throw new Error(`unknown target "${name}"; valid targets: ${TARGET_NAMES.join(', ')}`);
  return factory(options);
}

/**
 * Deletes a cluster that outlived the command which made it (`meshdrill cluster down`). Only kind owns such
 * clusters; the local target lives and dies with its `cluster up` process, an existing cluster is never deleted.
 */
export async function deleteOwnedCluster(
  name: string,
  options: TargetFactoryOptions,
): Promise<{ deleted: boolean; detail: string }> {
  if (name !== 'kind') return { deleted: false, detail: `the ${name} target owns no cluster to delete` };
  const result = await deleteKindCluster(options.settings, { workDir: options.workDir });
  return {
    deleted: result.deleted,
    detail: result.deleted
      ? `kind cluster "${result.name}" deleted`
      : `no kind cluster named "${result.name}"`,
  };
}

export type { CheckStatus, DoctorCheck } from './shared/doctor.js';

/**
 * `meshdrill doctor`: what provisioning a real-cluster target would meet on this machine, without changing
 * anything. The local target needs nothing beyond `make setup`.
 */
export async function diagnoseTarget(name: string, settings: Record<string, string>): Promise<DoctorCheck[]> {
  if (name === 'kind') return diagnoseKind(settings);
  if (name === 'existing') return diagnoseExisting(settings);
  throw new Error(`doctor checks the kind and existing targets, not "${name}"`);
}

export type { TargetPlan } from './target.js';

/**
 * `meshdrill run --dry-run`: the target's part of the plan — what provisioning would run and apply, in order. Read
 * only: tools are asked what they are, the cluster what it holds; nothing is created or changed.
 */
export async function planTarget(
  name: string,
  settings: Record<string, string>,
  options: { istioVersion?: string; ruleFiles: string[]; needs?: { chaosMesh: boolean } },
): Promise<TargetPlan> {
  if (name === 'kind') return planKind(settings, options);
  if (name === 'existing') return planExisting(settings, options);
  const local = readLocalSettings(settings, undefined, options.istioVersion);
  return {
    ...(local.k6.mode === 'in-cluster'
      ? { inClusterLoad: { baseUrl: LOCAL_INGRESS_SERVICE_URL, runners: local.k6.runners } }
      : {}),
    sections: [
      {
        title: 'target local',
        steps: [
          {
            step: 'note',
            text: 'an emulated cluster on 127.0.0.1 in this process (API server, kubelet, istiod, gateway, Prometheus and Alertmanager from Debian) in a temp directory; everything it starts ends with the run, nothing outside the temp directory is touched',
          },
        ],
        blastRadius: [],
      },
    ],
    dispose: async () => undefined,
  };
}
