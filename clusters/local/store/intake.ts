// A written object as the store takes it in: a private copy, with apiVersion, kind and namespace checked or filled.

import { cloneJson, isObject, type JsonObject } from './json.js';
import { describeResource } from './resource-errors.js';
import { formatApiVersion, type ResourceDefinition } from './resources.js';
import { type ResourceKey, StoreError, type StoredObject } from './types.js';

function identify(def: ResourceDefinition, key: ResourceKey, object: JsonObject): void {
  if (typeof object.apiVersion !== 'string' || object.apiVersion === '') {
    object.apiVersion = formatApiVersion(def.group, key.version);
  }
  if (typeof object.kind !== 'string' || object.kind === '') object.kind = def.kind;
  if (object.kind !== def.kind) {
    throw new StoreError(
      400,
      'BadRequest',
      `the object's kind ${String(object.kind)} does not match the resource ${describeResource(def)} (kind ${def.kind})`,
    );
  }
}

function normalizeMetadata(def: ResourceDefinition, meta: JsonObject): void {
  // ObjectMeta's maps are `omitempty`: a real server never stores or returns `labels: {}`.
  for (const map of ['labels', 'annotations'] as const) {
    if (isObject(meta[map]) && Object.keys(meta[map]).length === 0) delete meta[map];
  }
  if (!def.namespaced) delete meta.namespace;
  else if (typeof meta.namespace !== 'string' || meta.namespace === '') {
    throw new StoreError(
      422,
      'Invalid',
      `${def.kind} "${String(meta.name ?? '')}" is invalid: metadata.namespace: Required value`,
      [{ field: 'metadata.namespace', message: 'Required value', reason: 'FieldValueRequired' }],
    );
  }
}

/** Parses the caller's object into a private copy with the right identity fields. */
export function intake(def: ResourceDefinition, key: ResourceKey, input: unknown): StoredObject {
  if (!isObject(input)) {
    throw new StoreError(
      400,
      'BadRequest',
      `expected a ${def.kind} object, got ${input === null ? 'null' : typeof input}`,
    );
  }
  const object = cloneJson(input) as JsonObject;
  if (!isObject(object.metadata)) object.metadata = {};
  identify(def, key, object);
  normalizeMetadata(def, object.metadata as JsonObject);
  return object as unknown as StoredObject;
}
