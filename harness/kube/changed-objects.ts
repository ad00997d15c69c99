// Objects a run changed but did not create (istiod scaled to 0, a patched Deployment, a VirtualService applied
// over one that was there). Their before-state is written into the cluster, on the object itself, in the same
// request as the change or before it: a label to find them by (`meshdrill.io/changed-by-run=<run-id>`) and an
// annotation holding what to restore. So `meshdrill cleanup --run-id` restores them after a SIGKILL, when the
// run's memory is gone, and never mistakes them for objects the run created (those carry the run-id label and
// are deleted).

import { BEFORE_ANNOTATION, CHANGED_BY_RUN_LABEL, type KubeObject, RUN_ID_LABEL } from '../model/index.js';
import { type KubeClient, type ObjectKey, describeObject, keyOf } from './client.js';
import { CLEANUP_KINDS } from './cleanup-kinds.js';

/** What the annotation holds: the replicas alone (a scale), or the whole object as it was (apply, patch). */
export type BeforeState =
  | { runId: string; restore: 'replicas'; replicas: number }
  | { runId: string; restore: 'object'; object: KubeObject };

/** Server-managed fields that must not be sent back when restoring an earlier version of an object. */
export function sanitize(object: KubeObject): KubeObject {
  const { resourceVersion, uid, creationTimestamp, generation, managedFields, ...metadata } = object.metadata;
  void resourceVersion;
  void uid;
  void creationTimestamp;
  void generation;
  void managedFields;
  const { status, ...rest } = object;
  void status;
  return { ...rest, metadata } as KubeObject;
}

/**
 * The metadata that records a change (pure), to send with the change itself, and the state it records. An object
 * that already holds a record of this run keeps its first one: the state before the run is what cleanup restores.
 */
export function changeRecord(
  current: KubeObject,
  state: BeforeState,
): { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; state: BeforeState } {
  const held = readBeforeState(current);
  const record = held && held.runId === state.runId ? held : state;
  return {
    metadata: {
      labels: { [CHANGED_BY_RUN_LABEL]: state.runId },
      annotations: { [BEFORE_ANNOTATION]: JSON.stringify(record) },
    },
    state: record,
  };
}

/** Whether the object is one this run created (it is deleted at cleanup; nothing to restore). */
export function createdByRun(object: KubeObject, runId: string): boolean {
  return object.metadata.labels?.[RUN_ID_LABEL] === runId;
}

/** The whole object as it was, minus any record of this kind (pure): what `restore: 'object'` applies. */
export function beforeObject(current: KubeObject, runId: string): BeforeState {
  const labels = { ...(current.metadata.labels ?? {}) };
  const annotations = { ...(current.metadata.annotations ?? {}) };
  delete labels[CHANGED_BY_RUN_LABEL];
  delete annotations[BEFORE_ANNOTATION];
  const object = sanitize({ ...current, metadata: { ...current.metadata, labels, annotations } });
  return { runId, restore: 'object', object };
}

export function readBeforeState(object: KubeObject | undefined): BeforeState | undefined {
  const text = object?.metadata.annotations?.[BEFORE_ANNOTATION];
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as BeforeState;
    return typeof parsed.runId === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the record (the label and the annotation) once the object is as it was. */
export async function forgetChange(client: KubeClient, key: ObjectKey): Promise<void> {
  if (!(await client.get(key))) return;
  await client.patch(
    key,
    { metadata: { labels: { [CHANGED_BY_RUN_LABEL]: null }, annotations: { [BEFORE_ANNOTATION]: null } } },
    'merge',
  );
}

/** Puts one object back as its record says, then forgets the record. */
export async function restoreFromRecord(
  client: KubeClient,
  key: ObjectKey,
  state: BeforeState,
): Promise<void> {
  if (!(await client.get(key))) return; // deleted since (by the drill itself): nothing to put back
  if (state.restore === 'replicas') {
    await client.patch(key, { spec: { replicas: state.replicas } }, 'merge');
    await forgetChange(client, key);
  } else {
    // A replace, not an apply: it also drops fields a patch added, and the record with them.
    await client.replace(state.object);
  }
}

export interface RestoreResult {
  restored: string[];
  /** Objects whose record could not be applied back, with why. */
  failed: string[];
}

/** Every object carrying the changed-by label of `runId` (of any run when undefined). */
export async function findChangedObjects(client: KubeClient, runId?: string): Promise<KubeObject[]> {
  const labelSelector = runId ? `${CHANGED_BY_RUN_LABEL}=${runId}` : CHANGED_BY_RUN_LABEL;
  const found: KubeObject[] = [];
  for (const { apiVersion, kind } of CLEANUP_KINDS) {
    found.push(...(await client.list(apiVersion, kind, { labelSelector })));
  }
  return found;
}

/** Restores every object carrying the changed-by label of `runId` (of any run when undefined). */
export async function restoreChangedObjects(
  client: KubeClient,
  runId: string | undefined,
): Promise<RestoreResult> {
  const restored: string[] = [];
  const failed: string[] = [];
  for (const object of await findChangedObjects(client, runId)) {
    const key = keyOf(object);
    const name = describeObject(key);
    const state = readBeforeState(object);
    try {
      if (!state) throw new Error(`its ${BEFORE_ANNOTATION} annotation is missing or unreadable`);
      await restoreFromRecord(client, key, state);
      restored.push(name);
    } catch (error) {
      failed.push(`${name} (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return { restored, failed };
}
