// Strategic merge patch for built-in kinds: lists merge by their patch merge key (containers by name, ports by
// containerPort or port …) and the directives kubectl sends ($patch, $setElementOrder, $retainKeys,
// $deleteFromPrimitiveList) are honoured, as in k8s.io/apimachinery/pkg/util/strategicpatch.

import { cloneJson, isObject, type JsonObject } from '../../store/index.js';
import { ApiError } from '../status-errors.js';

/** Lists merged by key, by field name (the Kubernetes API reuses these names consistently). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  conditions: 'type',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
};

/** Lists of scalars with patchStrategy merge: the patch's items are added (a set union). */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function mergeKeyFor(field: string, parentPath: string[]): string | undefined {
  if (field === 'ports') {
    // Container ports merge by containerPort, Service ports by port.
    return parentPath.some((p) => p === 'containers' || p === 'initContainers') ? 'containerPort' : 'port';
  }
  return MERGE_KEYS[field];
}

/** Removes patch directives from a value that is copied in verbatim. */
function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.filter((v) => !(isObject(v) && v.$patch === 'delete')).map(stripDirectives);
  }
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    if (v === null) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

function orderBy(items: unknown[], order: unknown, key: string | undefined): unknown[] {
  if (!Array.isArray(order)) return items;
  const rank = (item: unknown): number => {
    const idx = order.findIndex((o) =>
      key !== undefined && isObject(o) && isObject(item) ? o[key] === item[key] : o === item,
    );
    return idx < 0 ? Number.MAX_SAFE_INTEGER : idx;
  };
  // Stable: items the order does not mention keep their relative place after the ordered ones.
  return items
    .map((item, i) => ({ item, i, r: rank(item) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.item);
}

function mergeList(original: unknown, patch: unknown[], key: string, path: string[]): unknown[] {
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p.$patch === 'replace')).map(stripDirectives);
  }
  const result: unknown[] = Array.isArray(original) ? cloneJson(original) : [];
  for (const item of patch) {
    if (!isObject(item)) {
      result.push(item);
      continue;
    }
    const id = item[key];
    const at = result.findIndex((r) => isObject(r) && r[key] === id);
    if (item.$patch === 'delete') {
      if (at >= 0) result.splice(at, 1);
      continue;
    }
    if (at >= 0) result[at] = mergeObject(result[at], item, path);
    else result.push(stripDirectives(item));
  }
  return result;
}

function mergeObject(original: unknown, patch: JsonObject, path: string[]): unknown {
  if (patch.$patch === 'replace') return stripDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  const result: JsonObject = isObject(original) ? { ...original } : {};
  const orders = new Map<string, unknown>();
  for (const [field, value] of Object.entries(patch)) {
    if (field.startsWith('$setElementOrder/')) {
      orders.set(field.slice('$setElementOrder/'.length), value);
      continue;
    }
    if (field.startsWith('$deleteFromPrimitiveList/')) {
      const target = field.slice('$deleteFromPrimitiveList/'.length);
      const current = result[target];
      if (Array.isArray(current) && Array.isArray(value))
        result[target] = current.filter((v) => !value.includes(v));
      continue;
    }
    if (field === '$patch' || field === '$retainKeys') continue;
    if (value === null) {
      delete result[field];
      continue;
    }
    const key = mergeKeyFor(field, path);
    if (Array.isArray(value) && key !== undefined) {
      result[field] = mergeList(result[field], value, key, [...path, field]);
    } else if (Array.isArray(value) && MERGED_PRIMITIVE_LISTS.has(field)) {
      const current = Array.isArray(result[field]) ? (result[field] as unknown[]) : [];
      result[field] = [...current, ...value.filter((v) => !current.includes(v))];
    } else if (isObject(value)) {
      const merged = mergeObject(result[field], value, [...path, field]);
      if (merged === undefined) delete result[field];
      else result[field] = merged;
    } else {
      result[field] = stripDirectives(value);
    }
  }
  for (const [field, order] of orders) {
    const list = result[field];
    if (Array.isArray(list)) result[field] = orderBy(list, order, mergeKeyFor(field, path));
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys.filter((k): k is string => typeof k === 'string'));
    for (const field of Object.keys(result)) if (!keep.has(field)) delete result[field];
  }
  return result;
}

export function applyStrategicMergePatch(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) {
    throw new ApiError(400, 'BadRequest', 'a strategic merge patch must be a JSON object');
  }
  return mergeObject(original, patch, []) ?? {};
}
