// Every object a run creates carries the run-id label (STYLE.md §10), so cleanup finds them even after a crash.

import { type KubeObject, RUN_ID_LABEL, SCENARIO_LABEL } from '../model/kube-object.js';
import { type KubeClient, describeObject, keyOf } from './client.js';

/** The kinds a run may create, searched by label at cleanup (namespaces last: deleting one cascades). */
export const CLEANUP_KINDS: readonly { apiVersion: string; kind: string; namespaced: boolean }[] = [
  { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'PodChaos', namespaced: true },
  { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'StressChaos', namespaced: true },
  { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'NetworkChaos', namespaced: true },
  { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'TimeChaos', namespaced: true },
  { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'HTTPChaos', namespaced: true },
  { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', namespaced: true },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespaced: true },
  { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', namespaced: true },
  { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', namespaced: true },
  { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', namespaced: true },
  { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', namespaced: true },
  { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', namespaced: true },
  { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', namespaced: true },
  { apiVersion: 'batch/v1', kind: 'Job', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', namespaced: true },
  { apiVersion: 'v1', kind: 'ConfigMap', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', namespaced: true },
  { apiVersion: 'v1', kind: 'Namespace', namespaced: false },
];

/** A copy of the object with the run-id and scenario labels set (pure; input untouched). */
export function labelForRun(object: KubeObject, runId: string, scenario?: string): KubeObject {
  return {
    ...object,
    metadata: {
      ...object.metadata,
      labels: {
        ...(object.metadata.labels ?? {}),
        [RUN_ID_LABEL]: runId,
        ...(scenario ? { [SCENARIO_LABEL]: scenario } : {}),
      },
    },
  };
}

export async function findRunObjects(client: KubeClient, runId?: string): Promise<KubeObject[]> {
  const labelSelector = runId ? `${RUN_ID_LABEL}=${runId}` : RUN_ID_LABEL;
  const found: KubeObject[] = [];
  for (const { apiVersion, kind } of CLEANUP_KINDS) {
    found.push(...(await client.list(apiVersion, kind, { labelSelector })));
  }
  return found;
}

export interface CleanupResult {
  removed: string[];
  /** Objects still present after the deadline (with their reason when deletion failed). */
  leftover: string[];
}

/**
 * Deletes every object carrying the run label, then waits until none is left: cleanup is proven, not assumed.
 * `runId` undefined means every meshdrill run's objects (`meshdrill cleanup --all`).
 */
export async function deleteRunObjects(
  client: KubeClient,
  runId: string | undefined,
  options: { timeoutMs: number; pollMs?: number },
): Promise<CleanupResult> {
  const removed: string[] = [];
  const failures = new Map<string, string>();
  for (const object of await findRunObjects(client, runId)) {
    const name = describeObject(keyOf(object));
    try {
      await client.delete(keyOf(object));
      removed.push(name);
    } catch (error) {
      failures.set(name, error instanceof Error ? error.message : String(error));
    }
  }
  const deadline = Date.now() + options.timeoutMs;
  let left = await findRunObjects(client, runId);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    left = await findRunObjects(client, runId);
  }
  const leftover = left.map((o) => {
    const name = describeObject(keyOf(o));
    const why = failures.get(name);
    return why ? `${name} (${why})` : name;
  });
  return { removed, leftover };
}
