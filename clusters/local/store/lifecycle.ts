// How stored objects come and go: insertion, replacement, removal, graceful pod deletion, finalizers,
// owner-reference garbage collection and the namespace lifecycle, over an explicit store state.

import { randomUUID } from 'node:crypto';
import { cloneJson, isObject } from './json.js';
import type { ResourceDefinition } from './resources.js';
import {
  type Bucket,
  emit,
  formatTimestamp,
  nextRevision,
  objectKey,
  type StoreState,
} from './store-state.js';
import type { DeleteOptions, StoredObject } from './types.js';

/** The grace period of a delete: the request's, else the pod spec's terminationGracePeriodSeconds, else 30 s. */
function deletionGrace(existing: StoredObject, options: DeleteOptions): number {
  const spec = isObject(existing.spec) ? existing.spec : {};
  return (
    options.gracePeriodSeconds ??
    (typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30)
  );
}

/** A pod bound to a node that has not finished, deleted with a grace period: its kubelet finishes the delete. */
function isKubeletDeletion(def: ResourceDefinition, existing: StoredObject, grace: number): boolean {
  const spec = isObject(existing.spec) ? existing.spec : {};
  const phase = isObject(existing.status) ? existing.status.phase : undefined;
  return (
    def.storage === '/pods' &&
    typeof spec.nodeName === 'string' &&
    spec.nodeName !== '' &&
    phase !== 'Succeeded' &&
    phase !== 'Failed' &&
    grace > 0
  );
}

/** A pod being terminated by the kubelet stays until the kubelet deletes it with grace 0. */
function isGracefulPending(def: ResourceDefinition, object: StoredObject): boolean {
  return (
    def.storage === '/pods' &&
    typeof object.metadata.deletionGracePeriodSeconds === 'number' &&
    object.metadata.deletionGracePeriodSeconds > 0
  );
}

export function insert(state: StoreState, bucket: Bucket, object: StoredObject): StoredObject {
  const meta = object.metadata;
  meta.uid = randomUUID();
  meta.resourceVersion = nextRevision(state);
  meta.generation = 1;
  meta.creationTimestamp = formatTimestamp(state.now());
  delete meta.deletionTimestamp;
  bucket.objects.set(objectKey(meta.namespace, meta.name), object);
  emit(state, bucket, 'ADDED', object);
  return object;
}

function removeNow(
  state: StoreState,
  bucket: Bucket,
  existing: StoredObject,
  options: DeleteOptions,
): StoredObject {
  const key = objectKey(existing.metadata.namespace, existing.metadata.name);
  bucket.objects.delete(key);
  const removed = cloneJson(existing);
  removed.metadata.resourceVersion = nextRevision(state);
  emit(state, bucket, 'DELETED', removed);
  collectDependents(state, existing.metadata.uid, options.propagationPolicy ?? 'Background');
  finishNamespaceIfEmpty(state, existing.metadata.namespace);
  return removed;
}

/** Replaces a stored object with a new version, emitting MODIFIED (or DELETED when finalized). */
export function replace(
  state: StoreState,
  bucket: Bucket,
  old: StoredObject,
  next: StoredObject,
): StoredObject {
  // Namespaces go only when empty (finishNamespaceIfEmpty); graceful pods only when the kubelet says so.
  const finalized =
    next.metadata.deletionTimestamp &&
    (next.metadata.finalizers ?? []).length === 0 &&
    bucket.def.storage !== '/namespaces' &&
    !isGracefulPending(bucket.def, next);
  if (finalized) {
    bucket.objects.set(objectKey(next.metadata.namespace, next.metadata.name), next);
    return removeNow(state, bucket, next, {});
  }
  next.metadata.resourceVersion = nextRevision(state);
  bucket.objects.set(objectKey(next.metadata.namespace, next.metadata.name), next);
  emit(state, bucket, 'MODIFIED', next, old);
  return next;
}

/** The garbage collector: dependents of a removed owner go too (or lose the reference, for Orphan). */
function collectDependents(
  state: StoreState,
  uid: string,
  policy: NonNullable<DeleteOptions['propagationPolicy']>,
): void {
  for (const bucket of state.buckets.values()) {
    for (const object of [...bucket.objects.values()]) {
      const refs = object.metadata.ownerReferences;
      if (!refs?.some((r) => r.uid === uid)) continue;
      const remaining = refs.filter((r) => r.uid !== uid);
      if (policy === 'Orphan' || remaining.length > 0) {
        const next = cloneJson(object);
        if (remaining.length > 0) next.metadata.ownerReferences = remaining;
        else delete next.metadata.ownerReferences;
        replace(state, bucket, object, next);
      } else if (bucket.objects.has(objectKey(object.metadata.namespace, object.metadata.name))) {
        deleteExisting(state, bucket, object, { propagationPolicy: 'Background' });
      }
    }
  }
}

/** Namespace lifecycle (what kube-controller-manager does upstream): a terminating namespace empties, then goes. */
function finishNamespaceIfEmpty(state: StoreState, namespace: string | undefined): void {
  if (namespace === undefined) return;
  const nsBucket = state.buckets.get('/namespaces');
  const ns = nsBucket?.objects.get(objectKey(undefined, namespace));
  if (!nsBucket || !ns?.metadata.deletionTimestamp) return;
  for (const bucket of state.buckets.values()) {
    if (!bucket.def.namespaced) continue;
    for (const object of bucket.objects.values()) if (object.metadata.namespace === namespace) return;
  }
  if ((ns.metadata.finalizers ?? []).length === 0) removeNow(state, nsBucket, ns, {});
}

function terminateNamespace(state: StoreState, nsBucket: Bucket, ns: StoredObject): StoredObject {
  const next = cloneJson(ns);
  if (!next.metadata.deletionTimestamp) next.metadata.deletionTimestamp = formatTimestamp(state.now());
  next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
  const updated = replace(state, nsBucket, ns, next);
  const name = ns.metadata.name;
  for (const bucket of state.buckets.values()) {
    if (!bucket.def.namespaced) continue;
    for (const object of [...bucket.objects.values()]) {
      if (object.metadata.namespace !== name) continue;
      if (object.metadata.deletionTimestamp) continue;
      deleteExisting(state, bucket, object, { propagationPolicy: 'Background' });
    }
  }
  finishNamespaceIfEmpty(state, name);
  return nsBucket.objects.get(objectKey(undefined, name)) ?? updated;
}

export function deleteExisting(
  state: StoreState,
  bucket: Bucket,
  existing: StoredObject,
  options: DeleteOptions,
): StoredObject {
  const def = bucket.def;
  if (def.storage === '/namespaces') return terminateNamespace(state, bucket, existing);
  const finalizers = existing.metadata.finalizers ?? [];
  const grace = deletionGrace(existing, options);
  const graceful = state.gracefulPods && isKubeletDeletion(def, existing, grace);
  if (finalizers.length === 0 && !graceful) return removeNow(state, bucket, existing, options);
  if (existing.metadata.deletionTimestamp) return cloneJson(existing);
  const next = cloneJson(existing);
  const at = new Date(state.now().getTime() + (graceful ? grace * 1000 : 0));
  next.metadata.deletionTimestamp = formatTimestamp(at);
  next.metadata.deletionGracePeriodSeconds = graceful ? grace : 0;
  return cloneJson(replace(state, bucket, existing, next));
}
