// The in-memory object store behind the local target's API server: metadata, optimistic concurrency,
// admission, finalizers, graceful pod deletion, owner-reference garbage collection, namespace lifecycle, watch.

import { randomUUID } from 'node:crypto';
import type { CrdCatalog } from '../../shared/crd/index.js';
import { customResourceCauses, type FieldValidation } from './crd-validation.js';
import { applyDefaults } from './defaults.js';
import { intake } from './intake.js';
import { cloneJson, deepEqual, isObject, type JsonObject } from './json.js';
import { checkPreconditions } from './preconditions.js';
import { describeResource } from './resource-errors.js';
import { findResource, formatApiVersion, type ResourceDefinition, servedResources } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  type AdmissionHook,
  type DeleteOptions,
  type ListOptions,
  type ObjectStore,
  type ResourceKey,
  StoreError,
  type StoredObject,
  type Watch,
  type WatchEvent,
} from './types.js';
import { type Cause, validateObject } from './validation.js';
import { type LogEntry, matchesFilter, WatchHub, type WatchFilter } from './watch-hub.js';

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

interface Bucket {
  def: ResourceDefinition;
  objects: Map<string, StoredObject>;
}

const SEED_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return out;
}

/** Everything that is not metadata or status: a change here is a spec change and bumps generation. */
function specPart(object: JsonObject): JsonObject {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = object;
  return rest;
}

/** A string metadata field the request set, or undefined when it is absent, empty or not a string. */
function requested(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** metadata.generateName without a name: the prefix and a random suffix that no object of the bucket has. */
function assignGeneratedName(bucket: Bucket, meta: StoredObject['metadata']): void {
  if (typeof meta.name === 'string' && meta.name !== '') return;
  if (typeof meta.generateName !== 'string' || meta.generateName === '') return;
  do meta.name = `${meta.generateName}${randomSuffix()}`;
  while (bucket.objects.has(objectKey(meta.namespace, meta.name)));
}

/** An update replaces what the client owns: the store's own fields are carried over from the stored object. */
function keepStoreOwnedFields(def: ResourceDefinition, object: StoredObject, current: StoredObject): void {
  const meta = object.metadata;
  // Identity and lifecycle fields belong to the store; with a status subresource, status does too.
  meta.uid = current.metadata.uid;
  meta.creationTimestamp = current.metadata.creationTimestamp;
  meta.generation = current.metadata.generation ?? 1;
  if (current.metadata.deletionTimestamp) meta.deletionTimestamp = current.metadata.deletionTimestamp;
  else delete meta.deletionTimestamp;
  if (current.metadata.deletionGracePeriodSeconds !== undefined) {
    meta.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
  }
  if (def.subresources.includes('status')) {
    if (current.status === undefined) delete object.status;
    else object.status = cloneJson(current.status);
  }
  if (
    def.storage === '/services' &&
    isObject(object.spec) &&
    isObject(current.spec) &&
    object.spec.clusterIP === undefined
  ) {
    object.spec.clusterIP = current.spec.clusterIP;
    object.spec.clusterIPs = current.spec.clusterIPs;
  }
  meta.resourceVersion = current.metadata.resourceVersion;
}

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

/** A watch's starting point: undefined for "now", else a revision number. */
function parseSinceResourceVersion(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const since = Number(value);
  if (!Number.isInteger(since) || since < 0) {
    throw new StoreError(
      400,
      'BadRequest',
      `invalid resourceVersion "${value}": expected a non-negative integer`,
    );
  }
  return since;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const now = options.now ?? (() => new Date());
  const schemas = options.customResourceSchemas;
  const schemaCauses = (object: StoredObject, fieldValidation?: FieldValidation): Cause[] =>
    schemas
      ? customResourceCauses(schemas, object as unknown as Record<string, unknown>, fieldValidation)
      : [];
  const gracefulPods = options.gracefulPodDeletion === true;
  const hub = new WatchHub(options.historyWindow ?? 10_000);
  const buckets = new Map<string, Bucket>();
  const hooks = new Map<string, AdmissionHook[]>();
  let revision = 0;
  let serviceIpCounter = 10;

  for (const def of servedResources()) {
    if (def.source !== 'store' || buckets.has(def.storage)) continue;
    buckets.set(def.storage, { def, objects: new Map() });
  }

  function resolve(key: ResourceKey): ResourceDefinition {
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

  function bucketOf(key: ResourceKey): Bucket {
    const def = resolve(key);
    const bucket = buckets.get(def.storage);
    if (!bucket) {
      throw new StoreError(
        405,
        'MethodNotAllowed',
        `${describeResource(def)} is read-only: it is computed from the pod runtime`,
      );
    }
    return bucket;
  }

  function emit(bucket: Bucket, type: LogEntry['type'], object: StoredObject, old?: StoredObject): void {
    hub.record({ rv: revision, storage: bucket.def.storage, type, object, ...(old ? { old } : {}) });
  }

  function nextRevision(): string {
    revision += 1;
    return String(revision);
  }

  function checkNamespaceOpen(def: ResourceDefinition, namespace: string | undefined): void {
    if (!def.namespaced || namespace === undefined) return;
    const ns = buckets.get('/namespaces')?.objects.get(objectKey(undefined, namespace));
    if (!ns) throw new StoreError(404, 'NotFound', `namespaces "${namespace}" not found`);
    if (ns.metadata.deletionTimestamp) {
      throw new StoreError(
        403,
        'Forbidden',
        `${def.kind.toLowerCase()}s is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  async function admit(
    def: ResourceDefinition,
    op: 'CREATE' | 'UPDATE',
    object: StoredObject,
    old?: StoredObject,
  ) {
    for (const hook of hooks.get(def.storage) ?? []) {
      await hook(op, object, old === undefined ? undefined : cloneJson(old));
    }
  }

  function allocateServiceIp(object: StoredObject): void {
    const spec = object.spec;
    if (!isObject(spec) || spec.type === 'ExternalName' || spec.clusterIP !== undefined) return;
    serviceIpCounter += 1;
    const ip = `10.96.${Math.floor(serviceIpCounter / 250)}.${serviceIpCounter % 250}`;
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  }

  function initialStatus(def: ResourceDefinition, object: StoredObject): void {
    const id = `${def.group}/${def.plural}`;
    if (id === '/pods') object.status = { phase: 'Pending', qosClass: 'BestEffort' };
    else if (id === '/namespaces') object.status = { phase: 'Active' };
    else if (def.subresources.includes('status')) delete object.status;
  }

  function insert(bucket: Bucket, object: StoredObject): StoredObject {
    const meta = object.metadata;
    meta.uid = randomUUID();
    meta.resourceVersion = nextRevision();
    meta.generation = 1;
    meta.creationTimestamp = formatTimestamp(now());
    delete meta.deletionTimestamp;
    bucket.objects.set(objectKey(meta.namespace, meta.name), object);
    emit(bucket, 'ADDED', object);
    return object;
  }

  function removeNow(bucket: Bucket, existing: StoredObject, options: DeleteOptions): StoredObject {
    const key = objectKey(existing.metadata.namespace, existing.metadata.name);
    bucket.objects.delete(key);
    const removed = cloneJson(existing);
    removed.metadata.resourceVersion = nextRevision();
    emit(bucket, 'DELETED', removed);
    collectDependents(existing.metadata.uid, options.propagationPolicy ?? 'Background');
    finishNamespaceIfEmpty(existing.metadata.namespace);
    return removed;
  }

  /** Replaces a stored object with a new version, emitting MODIFIED (or DELETED when finalized). */
  function replace(bucket: Bucket, old: StoredObject, next: StoredObject): StoredObject {
    // Namespaces go only when empty (finishNamespaceIfEmpty); graceful pods only when the kubelet says so.
    const finalized =
      next.metadata.deletionTimestamp &&
      (next.metadata.finalizers ?? []).length === 0 &&
      bucket.def.storage !== '/namespaces' &&
      !isGracefulPending(bucket.def, next);
    if (finalized) {
      bucket.objects.set(objectKey(next.metadata.namespace, next.metadata.name), next);
      return removeNow(bucket, next, {});
    }
    next.metadata.resourceVersion = nextRevision();
    bucket.objects.set(objectKey(next.metadata.namespace, next.metadata.name), next);
    emit(bucket, 'MODIFIED', next, old);
    return next;
  }

  /** A pod being terminated by the kubelet stays until the kubelet deletes it with grace 0. */
  function isGracefulPending(def: ResourceDefinition, object: StoredObject): boolean {
    return (
      def.storage === '/pods' &&
      typeof object.metadata.deletionGracePeriodSeconds === 'number' &&
      object.metadata.deletionGracePeriodSeconds > 0
    );
  }

  /** The garbage collector: dependents of a removed owner go too (or lose the reference, for Orphan). */
  function collectDependents(uid: string, policy: NonNullable<DeleteOptions['propagationPolicy']>): void {
    for (const bucket of buckets.values()) {
      for (const object of [...bucket.objects.values()]) {
        const refs = object.metadata.ownerReferences;
        if (!refs?.some((r) => r.uid === uid)) continue;
        const remaining = refs.filter((r) => r.uid !== uid);
        if (policy === 'Orphan' || remaining.length > 0) {
          const next = cloneJson(object);
          if (remaining.length > 0) next.metadata.ownerReferences = remaining;
          else delete next.metadata.ownerReferences;
          replace(bucket, object, next);
        } else if (bucket.objects.has(objectKey(object.metadata.namespace, object.metadata.name))) {
          deleteExisting(bucket, object, { propagationPolicy: 'Background' });
        }
      }
    }
  }

  /** Namespace lifecycle (what kube-controller-manager does upstream): a terminating namespace empties, then goes. */
  function finishNamespaceIfEmpty(namespace: string | undefined): void {
    if (namespace === undefined) return;
    const nsBucket = buckets.get('/namespaces');
    const ns = nsBucket?.objects.get(objectKey(undefined, namespace));
    if (!nsBucket || !ns?.metadata.deletionTimestamp) return;
    for (const bucket of buckets.values()) {
      if (!bucket.def.namespaced) continue;
      for (const object of bucket.objects.values()) if (object.metadata.namespace === namespace) return;
    }
    if ((ns.metadata.finalizers ?? []).length === 0) removeNow(nsBucket, ns, {});
  }

  function terminateNamespace(nsBucket: Bucket, ns: StoredObject): StoredObject {
    const next = cloneJson(ns);
    if (!next.metadata.deletionTimestamp) next.metadata.deletionTimestamp = formatTimestamp(now());
    next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
    const updated = replace(nsBucket, ns, next);
    const name = ns.metadata.name;
    for (const bucket of buckets.values()) {
      if (!bucket.def.namespaced) continue;
      for (const object of [...bucket.objects.values()]) {
        if (object.metadata.namespace !== name) continue;
        if (object.metadata.deletionTimestamp) continue;
        deleteExisting(bucket, object, { propagationPolicy: 'Background' });
      }
    }
    finishNamespaceIfEmpty(name);
    return nsBucket.objects.get(objectKey(undefined, name)) ?? updated;
  }

  function deleteExisting(bucket: Bucket, existing: StoredObject, options: DeleteOptions): StoredObject {
    const def = bucket.def;
    if (def.storage === '/namespaces') return terminateNamespace(bucket, existing);
    const finalizers = existing.metadata.finalizers ?? [];
    const grace = deletionGrace(existing, options);
    const graceful = gracefulPods && isKubeletDeletion(def, existing, grace);
    if (finalizers.length === 0 && !graceful) return removeNow(bucket, existing, options);
    if (existing.metadata.deletionTimestamp) return cloneJson(existing);
    const next = cloneJson(existing);
    const at = new Date(now().getTime() + (graceful ? grace * 1000 : 0));
    next.metadata.deletionTimestamp = formatTimestamp(at);
    next.metadata.deletionGracePeriodSeconds = graceful ? grace : 0;
    return cloneJson(replace(bucket, existing, next));
  }

  function filterOf(options: ListOptions): WatchFilter {
    return {
      ...(options.namespace ? { namespace: options.namespace } : {}),
      labels: parseLabelSelector(options.labelSelector),
      fields: parseFieldSelector(options.fieldSelector),
    };
  }

  const store: MemoryStore = {
    resolve,

    watcherCount: () => hub.watcherCount,

    currentResourceVersion: () => String(revision),

    get(key, namespace, name) {
      const bucket = bucketOf(key);
      const found = bucket.objects.get(objectKey(bucket.def.namespaced ? namespace : undefined, name));
      return found === undefined ? undefined : cloneJson(found);
    },

    list(key, options = {}) {
      const bucket = bucketOf(key);
      const filter = filterOf(bucket.def.namespaced ? options : { ...options, namespace: undefined });
      const items: StoredObject[] = [];
      for (const object of bucket.objects.values()) {
        if (matchesFilter(filter, object)) items.push(cloneJson(object));
      }
      items.sort((a, b) =>
        objectKey(a.metadata.namespace, a.metadata.name).localeCompare(
          objectKey(b.metadata.namespace, b.metadata.name),
        ),
      );
      return { items, resourceVersion: String(revision) };
    },

    async create(key, input, options = {}) {
      const bucket = bucketOf(key);
      const def = bucket.def;
      const object = intake(def, key, input);
      const meta = object.metadata;
      assignGeneratedName(bucket, meta);
      checkNamespaceOpen(def, meta.namespace);
      initialStatus(def, object);
      applyDefaults(def, object as unknown as JsonObject);
      await admit(def, 'CREATE', object);
      validateObject(def, object as unknown as JsonObject, schemaCauses(object, options.fieldValidation));
      if (bucket.objects.has(objectKey(meta.namespace, meta.name))) {
        throw new StoreError(409, 'AlreadyExists', `${describeResource(def)} "${meta.name}" already exists`);
      }
      // The namespace may have started terminating while the admission hooks ran.
      checkNamespaceOpen(def, meta.namespace);
      if (options.dryRun) return cloneJson(object);
      if (def.storage === '/services') allocateServiceIp(object);
      return cloneJson(insert(bucket, object));
    },

    async update(key, input, writeOptions = {}) {
      const bucket = bucketOf(key);
      const def = bucket.def;
      const object = intake(def, key, input);
      const meta = object.metadata;
      const existing = bucket.objects.get(objectKey(meta.namespace, meta.name));
      const expected = requested(meta.resourceVersion);
      // resourceVersion before uid: the order this store has always answered a write that fails both.
      checkPreconditions(def, String(meta.name ?? ''), existing, { resourceVersion: expected });
      checkPreconditions(def, String(meta.name ?? ''), existing, { uid: requested(meta.uid) });
      applyDefaults(def, object as unknown as JsonObject);
      await admit(def, 'UPDATE', object, existing);
      validateObject(
        def,
        object as unknown as JsonObject,
        schemaCauses(object, writeOptions.fieldValidation),
      );
      const current = bucket.objects.get(objectKey(meta.namespace, meta.name));
      // Checked again: the object may have gone or changed while the admission hooks ran (every write to the
      // store bumps the revision, so a changed object never carries the resourceVersion the client sent).
      checkPreconditions(def, meta.name, current, { resourceVersion: expected });
      keepStoreOwnedFields(def, object, current);
      // A no-op write changes nothing and tells no watcher, as upstream.
      if (deepEqual(object, current)) return cloneJson(current);
      if (!deepEqual(specPart(object as unknown as JsonObject), specPart(current as unknown as JsonObject))) {
        meta.generation = (current.metadata.generation ?? 1) + 1;
      }
      return cloneJson(replace(bucket, current, object));
    },

    async updateStatus(key, input) {
      const bucket = bucketOf(key);
      const def = bucket.def;
      const object = intake(def, key, input);
      const meta = object.metadata;
      const existing = bucket.objects.get(objectKey(meta.namespace, meta.name));
      checkPreconditions(def, String(meta.name ?? ''), existing, {
        resourceVersion: requested(meta.resourceVersion),
      });
      const next = cloneJson(existing);
      if (object.status === undefined) delete next.status;
      else next.status = object.status;
      if (deepEqual(next.status, existing.status)) return cloneJson(existing);
      return cloneJson(replace(bucket, existing, next));
    },

    async delete(key, namespace, name, deleteOptions = {}) {
      const bucket = bucketOf(key);
      const ns = bucket.def.namespaced ? namespace : undefined;
      const existing = bucket.objects.get(objectKey(ns, name));
      checkPreconditions(bucket.def, name, existing, deleteOptions.preconditions);
      return deleteExisting(bucket, existing, deleteOptions);
    },

    watch(key, options, onEvent: (event: WatchEvent) => void): Watch {
      const bucket = bucketOf(key);
      const filter = filterOf(bucket.def.namespaced ? options : { ...options, namespace: undefined });
      const since = parseSinceResourceVersion(options.sinceResourceVersion);
      const stop = hub.add(bucket.def.storage, filter, onEvent, since);
      return { stop };
    },

    addAdmissionHook(key, hook) {
      const def = resolve(key);
      const list = hooks.get(def.storage) ?? [];
      list.push(hook);
      hooks.set(def.storage, list);
    },
  };

  if (options.seedNamespaces !== false) {
    const nsBucket = buckets.get('/namespaces');
    for (const name of SEED_NAMESPACES) {
      if (!nsBucket) break;
      insert(nsBucket, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name } as StoredObject['metadata'],
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
  }
  return store;
}
