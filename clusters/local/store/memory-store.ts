// The in-memory object store behind the local target's API server: metadata, optimistic concurrency,
// admission, finalizers, graceful pod deletion, owner-reference garbage collection, namespace lifecycle, watch.
// This file composes the store from its state (store-state.ts) and its operations (reads, writes, lifecycle).

import type { CrdCatalog } from '../../shared/crd/index.js';
import { insert } from './lifecycle.js';
import { getObject, listObjects, watchObjects } from './reads.js';
import type { ResourceDefinition } from './resources.js';
import { createStoreState, resolveResource, type StoreState } from './store-state.js';
import type { ObjectStore, ResourceKey, StoredObject } from './types.js';
import { addAdmissionHook, createObject, deleteObject, updateObject, updateObjectStatus } from './writes.js';

export interface MemoryStoreOptions {
  /** How many events a watch can resume across (default 10,000). */
  historyWindow?: number;
  /** Create default, kube-system, kube-public and kube-node-lease (default true), as a fresh cluster has. */
  seedNamespaces?: boolean;
  /**
   * Pods bound to a node (spec.nodeName) are deleted gracefully: deletionTimestamp is set and the kubelet
   * removes them with gracePeriodSeconds 0 once their containers stopped (default false: removed at once).
   */
  gracefulPodDeletion?: boolean;
  /** Clock for timestamps (tests). */
  now?: () => Date;
  /** CRDs whose structural schemas custom resources are checked against (as a real API server does). */
  customResourceSchemas?: CrdCatalog;
}

/** An ObjectStore with a few extras for the API server and tests. */
export interface MemoryStore extends ObjectStore {
  /** Number of live watchers (for leak checks in tests and benches). */
  watcherCount(): number;
  /** The resource definition for a key, or a 404 StoreError naming what is served. */
  resolve(key: ResourceKey): ResourceDefinition;
}

const SEED_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** The namespaces a fresh cluster starts with, already Active. */
function seedNamespaces(state: StoreState): void {
  const nsBucket = state.buckets.get('/namespaces');
  if (!nsBucket) return;
  for (const name of SEED_NAMESPACES) {
    insert(state, nsBucket, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name } as StoredObject['metadata'],
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
}

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const state = createStoreState(options);
  if (options.seedNamespaces !== false) seedNamespaces(state);
  return {
    resolve: resolveResource,
    watcherCount: () => state.hub.watcherCount,
    currentResourceVersion: () => String(state.revision),
    get: (key, namespace, name) => getObject(state, key, namespace, name),
    list: (key, listOptions) => listObjects(state, key, listOptions),
    create: (key, input, writeOptions) => createObject(state, key, input, writeOptions),
    update: (key, input, writeOptions) => updateObject(state, key, input, writeOptions),
    updateStatus: (key, input) => updateObjectStatus(state, key, input),
    delete: (key, namespace, name, deleteOptions) => deleteObject(state, key, namespace, name, deleteOptions),
    watch: (key, watchOptions, onEvent) => watchObjects(state, key, watchOptions, onEvent),
    addAdmissionHook: (key, hook) => addAdmissionHook(state, key, hook),
  };
}
