// JSON merge patch (RFC 7386): objects merge recursively, null deletes, anything else (arrays too) replaces.

import { cloneJson, isObject } from '../../store/index.js';

export function applyJsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return cloneJson(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyJsonMergePatch(result[key], value);
  }
  return result;
}
