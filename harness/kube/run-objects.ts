// Every object a run creates carries the run-id label (STYLE.md §10), so cleanup finds them even after a crash.

import { type KubeObject, RUN_ID_LABEL, SCENARIO_LABEL } from '../model/index.js';
import { restoreChangedObjects } from './changed-objects.js';
import { CLEANUP_KINDS } from './cleanup-kinds.js';
import { type KubeClient, describeObject, keyOf } from './client.js';

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
  /** Objects the run changed but did not create, put back as they were (harness/kube/changed-objects.ts). */
  restored: string[];
  removed: string[];
  /** Objects still present after the deadline (with their reason when deletion failed). */
  leftover: string[];
}

/**
 * Restores every object the run changed, deletes every object carrying the run label, then waits until none is
 * left: cleanup is proven, not assumed. `runId` undefined means every meshdrill run's (`meshdrill cleanup --all`).
 * Restores come first: a changed object may live in a namespace the run created.
 */
export async function deleteRunObjects(
  client: KubeClient,
  runId: string | undefined,
  options: { timeoutMs: number; pollMs?: number },
): Promise<CleanupResult> {
  const { restored, failed } = await restoreChangedObjects(client, runId);
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
  return { restored, removed, leftover: [...failed, ...leftover] };
}
