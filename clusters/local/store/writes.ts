// The store's write operations over an explicit store state: create, update, status update, delete and
// admission-hook registration. Each runs intake, defaults, admission and validation in upstream's order.

import { customResourceCauses, type FieldValidation } from './crd-validation.js';
import { applyDefaults } from './defaults.js';
import { intake } from './intake.js';
import { cloneJson, deepEqual, isObject, type JsonObject } from './json.js';
import { deleteExisting, insert, replace } from './lifecycle.js';
import { checkPreconditions } from './preconditions.js';
import { describeResource } from './resource-errors.js';
import type { ResourceDefinition } from './resources.js';
import { type Bucket, bucketOf, objectKey, resolveResource, type StoreState } from './store-state.js';
import {
  type AdmissionHook,
  type DeleteOptions,
  type ResourceKey,
  StoreError,
  type StoredObject,
  type WriteOptions,
} from './types.js';
import { type Cause, validateObject } from './validation.js';

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

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

function schemaCauses(state: StoreState, object: StoredObject, fieldValidation?: FieldValidation): Cause[] {
  return state.schemas
    ? customResourceCauses(state.schemas, object as unknown as Record<string, unknown>, fieldValidation)
    : [];
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

function checkNamespaceOpen(state: StoreState, def: ResourceDefinition, namespace: string | undefined): void {
  if (!def.namespaced || namespace === undefined) return;
  const ns = state.buckets.get('/namespaces')?.objects.get(objectKey(undefined, namespace));
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
  state: StoreState,
  def: ResourceDefinition,
  op: 'CREATE' | 'UPDATE',
  object: StoredObject,
  old?: StoredObject,
): Promise<void> {
  for (const hook of state.hooks.get(def.storage) ?? []) {
    await hook(op, object, old === undefined ? undefined : cloneJson(old));
  }
}

function allocateServiceIp(state: StoreState, object: StoredObject): void {
  const spec = object.spec;
  if (!isObject(spec) || spec.type === 'ExternalName' || spec.clusterIP !== undefined) return;
  state.serviceIpCounter += 1;
  const ip = `10.96.${Math.floor(state.serviceIpCounter / 250)}.${state.serviceIpCounter % 250}`;
  spec.clusterIP = ip;
  spec.clusterIPs = [ip];
}

function initialStatus(def: ResourceDefinition, object: StoredObject): void {
  const id = `${def.group}/${def.plural}`;
  if (id === '/pods') object.status = { phase: 'Pending', qosClass: 'BestEffort' };
  else if (id === '/namespaces') object.status = { phase: 'Active' };
  else if (def.subresources.includes('status')) delete object.status;
}

export async function createObject(
  state: StoreState,
  key: ResourceKey,
  input: unknown,
  options: WriteOptions = {},
): Promise<StoredObject> {
  const bucket = bucketOf(state, key);
  const def = bucket.def;
  const object = intake(def, key, input);
  const meta = object.metadata;
  assignGeneratedName(bucket, meta);
  checkNamespaceOpen(state, def, meta.namespace);
  initialStatus(def, object);
  applyDefaults(def, object as unknown as JsonObject);
  await admit(state, def, 'CREATE', object);
  validateObject(def, object as unknown as JsonObject, schemaCauses(state, object, options.fieldValidation));
  if (bucket.objects.has(objectKey(meta.namespace, meta.name))) {
    throw new StoreError(409, 'AlreadyExists', `${describeResource(def)} "${meta.name}" already exists`);
  }
  // The namespace may have started terminating while the admission hooks ran.
  checkNamespaceOpen(state, def, meta.namespace);
  if (options.dryRun) return cloneJson(object);
  if (def.storage === '/services') allocateServiceIp(state, object);
  return cloneJson(insert(state, bucket, object));
}

export async function updateObject(
  state: StoreState,
  key: ResourceKey,
  input: unknown,
  writeOptions: Pick<WriteOptions, 'fieldValidation'> = {},
): Promise<StoredObject> {
  const bucket = bucketOf(state, key);
  const def = bucket.def;
  const object = intake(def, key, input);
  const meta = object.metadata;
  const existing = bucket.objects.get(objectKey(meta.namespace, meta.name));
  const expected = requested(meta.resourceVersion);
  // resourceVersion before uid: the order this store has always answered a write that fails both.
  checkPreconditions(def, String(meta.name ?? ''), existing, { resourceVersion: expected });
  checkPreconditions(def, String(meta.name ?? ''), existing, { uid: requested(meta.uid) });
  applyDefaults(def, object as unknown as JsonObject);
  await admit(state, def, 'UPDATE', object, existing);
  validateObject(
    def,
    object as unknown as JsonObject,
    schemaCauses(state, object, writeOptions.fieldValidation),
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
  return cloneJson(replace(state, bucket, current, object));
}

export async function updateObjectStatus(
  state: StoreState,
  key: ResourceKey,
  input: unknown,
): Promise<StoredObject> {
  const bucket = bucketOf(state, key);
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
  return cloneJson(replace(state, bucket, existing, next));
}

export async function deleteObject(
  state: StoreState,
  key: ResourceKey,
  namespace: string | undefined,
  name: string,
  deleteOptions: DeleteOptions = {},
): Promise<StoredObject> {
  const bucket = bucketOf(state, key);
  const ns = bucket.def.namespaced ? namespace : undefined;
  const existing = bucket.objects.get(objectKey(ns, name));
  checkPreconditions(bucket.def, name, existing, deleteOptions.preconditions);
  return deleteExisting(state, bucket, existing, deleteOptions);
}

export function addAdmissionHook(state: StoreState, key: ResourceKey, hook: AdmissionHook): void {
  const def = resolveResource(key);
  const list = state.hooks.get(def.storage) ?? [];
  list.push(hook);
  state.hooks.set(def.storage, list);
}
