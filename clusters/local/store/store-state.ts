// The memory store's state as one explicit object, and the small primitives every operation shares:
// resource resolution, the revision counter, the event log. Operations live in their own modules over it.

import type { CrdCatalog } from '../../shared/crd/index.js';
import { describeResource } from './resource-errors.js';
import { findResource, formatApiVersion, type ResourceDefinition, servedResources } from './resources.js';
import { type AdmissionHook, type ResourceKey, StoreError, type StoredObject } from './types.js';
import { type LogEntry, WatchHub } from './watch-hub.js';

/** The objects of one storage path (several served versions may share it). */
export interface Bucket {
  def: ResourceDefinition;
  objects: Map<string, StoredObject>;
}

export interface StoreState {
  readonly now: () => Date;
  readonly schemas: CrdCatalog | undefined;
  /** Pods bound to a node are deleted gracefully (the kubelet finishes the delete). */
  readonly gracefulPods: boolean;
  readonly hub: WatchHub;
  readonly buckets: Map<string, Bucket>;
  readonly hooks: Map<string, AdmissionHook[]>;
  /** The store-wide resourceVersion of the latest write. */
  revision: number;
  /** The last service IP handed out (as an offset into 10.96.0.0/16). */
  serviceIpCounter: number;
}

export interface StoreStateOptions {
  historyWindow?: number;
  gracefulPodDeletion?: boolean;
  now?: () => Date;
  customResourceSchemas?: CrdCatalog;
}

export function createStoreState(options: StoreStateOptions): StoreState {
  const buckets = new Map<string, Bucket>();
  for (const def of servedResources()) {
    if (def.source !== 'store' || buckets.has(def.storage)) continue;
    buckets.set(def.storage, { def, objects: new Map() });
  }
  return {
    now: options.now ?? (() => new Date()),
    schemas: options.customResourceSchemas,
    gracefulPods: options.gracefulPodDeletion === true,
    hub: new WatchHub(options.historyWindow ?? 10_000),
    buckets,
    hooks: new Map(),
    revision: 0,
    serviceIpCounter: 10,
  };
}

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function resolveResource(key: ResourceKey): ResourceDefinition {
  const def = findResource(key);
  if (!def) {
    const served = servedResources()
      .map((r) => `${formatApiVersion(r.group, r.versions.join('|'))}/${r.plural}`)
      .join(', ');
    throw new StoreError(
      404,
      'NotFound',
      `the server could not find the requested resource ${formatApiVersion(key.group, key.version)}/${key.resource}; served: ${served}`,
    );
  }
  return def;
}

export function bucketOf(state: StoreState, key: ResourceKey): Bucket {
  const def = resolveResource(key);
  const bucket = state.buckets.get(def.storage);
  if (!bucket) {
    throw new StoreError(
      405,
      'MethodNotAllowed',
      `${describeResource(def)} is read-only: it is computed from the pod runtime`,
    );
  }
  return bucket;
}

export function emit(
  state: StoreState,
  bucket: Bucket,
  type: LogEntry['type'],
  object: StoredObject,
  old?: StoredObject,
): void {
  state.hub.record({
    rv: state.revision,
    storage: bucket.def.storage,
    type,
    object,
    ...(old ? { old } : {}),
  });
}

export function nextRevision(state: StoreState): string {
  state.revision += 1;
  return String(state.revision);
}
