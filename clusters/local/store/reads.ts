// The store's read operations over an explicit store state: get, list and watch, with the same selectors.

import { cloneJson } from './json.js';
import { bucketOf, objectKey, type StoreState } from './store-state.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  type ListOptions,
  type ResourceKey,
  StoreError,
  type StoredObject,
  type Watch,
  type WatchEvent,
} from './types.js';
import { matchesFilter, type WatchFilter } from './watch-hub.js';

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

function filterOf(options: ListOptions): WatchFilter {
  return {
    ...(options.namespace ? { namespace: options.namespace } : {}),
    labels: parseLabelSelector(options.labelSelector),
    fields: parseFieldSelector(options.fieldSelector),
  };
}

export function getObject(
  state: StoreState,
  key: ResourceKey,
  namespace: string | undefined,
  name: string,
): StoredObject | undefined {
  const bucket = bucketOf(state, key);
  const found = bucket.objects.get(objectKey(bucket.def.namespaced ? namespace : undefined, name));
  return found === undefined ? undefined : cloneJson(found);
}

export function listObjects(
  state: StoreState,
  key: ResourceKey,
  options: ListOptions = {},
): { items: StoredObject[]; resourceVersion: string } {
  const bucket = bucketOf(state, key);
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
  return { items, resourceVersion: String(state.revision) };
}

export function watchObjects(
  state: StoreState,
  key: ResourceKey,
  options: ListOptions & { sinceResourceVersion?: string },
  onEvent: (event: WatchEvent) => void,
): Watch {
  const bucket = bucketOf(state, key);
  const filter = filterOf(bucket.def.namespaced ? options : { ...options, namespace: undefined });
  const since = parseSinceResourceVersion(options.sinceResourceVersion);
  const stop = state.hub.add(bucket.def.storage, filter, onEvent, since);
  return { stop };
}
