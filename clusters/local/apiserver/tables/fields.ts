// Safe readers for the loosely typed JSON objects the printers format.

import { isObject, type JsonObject } from '../../store/index.js';

export function obj(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

export function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

/** Reads a dotted path (`spec.template.spec`). */
export function at(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) current = obj(current)[part];
  return current;
}

export function formatSelector(selector: unknown): string {
  const labels = obj(obj(selector).matchLabels);
  const direct = Object.keys(labels).length > 0 ? labels : obj(selector);
  const parts = Object.entries(direct)
    .filter(([, v]) => typeof v === 'string')
    .map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? parts.join(',') : '<none>';
}

export function joinOrNone(values: string[]): string {
  return values.length > 0 ? values.join(',') : '<none>';
}
