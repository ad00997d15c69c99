// JSON patch (RFC 6902): add, remove, replace, move, copy, test on JSON pointers (RFC 6901).

import { cloneJson, deepEqual, isObject } from '../../store/index.js';
import { ApiError } from '../status-errors.js';

type Container = Record<string, unknown> | unknown[];

function fail(message: string): ApiError {
  // As a cause too: kubectl prints the causes of an Invalid status, not its message.
  return new ApiError(422, 'Invalid', message, { causes: [{ reason: 'FieldValueInvalid', message }] });
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw fail(`the JSON pointer "${pointer}" must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Finds the container holding the last segment of a pointer. */
function locate(doc: unknown, segments: string[], pointer: string): { parent: Container; key: string } {
  let current: unknown = doc;
  for (const segment of segments.slice(0, -1)) {
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (isObject(current)) current = current[segment];
    else current = undefined;
    if (current === undefined) throw fail(`the path "${pointer}" does not exist: no "${segment}"`);
  }
  if (!Array.isArray(current) && !isObject(current))
    throw fail(`the path "${pointer}" does not address a container`);
  return { parent: current, key: segments[segments.length - 1] ?? '' };
}

function arrayIndex(parent: unknown[], key: string, pointer: string, forAdd: boolean): number {
  if (forAdd && key === '-') return parent.length;
  const index = Number(key);
  const limit = forAdd ? parent.length : parent.length - 1;
  if (!/^\d+$/.test(key) || index > limit)
    throw fail(`the array index "${key}" in "${pointer}" is out of range`);
  return index;
}

function read(doc: unknown, pointer: string): unknown {
  const segments = parsePointer(pointer);
  if (segments.length === 0) return doc;
  const { parent, key } = locate(doc, segments, pointer);
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, pointer, false)] : parent[key];
  if (value === undefined) throw fail(`the path "${pointer}" does not exist`);
  return value;
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  const segments = parsePointer(pointer);
  if (segments.length === 0) return value;
  const { parent, key } = locate(doc, segments, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, value);
  else parent[key] = value;
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const segments = parsePointer(pointer);
  const { parent, key } = locate(doc, segments, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, false), 1);
  else {
    if (!(key in parent))
      throw fail(`unable to remove nonexistent key: ${key}: missing value at "${pointer}"`);
    delete parent[key];
  }
  return doc;
}

export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch))
    throw new ApiError(400, 'BadRequest', 'a JSON patch must be an array of operations');
  let doc = cloneJson(target);
  for (const [i, raw] of patch.entries()) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new ApiError(400, 'BadRequest', `JSON patch operation ${i} needs "op" and "path" strings`);
    }
    const { op, path } = raw;
    const from = typeof raw.from === 'string' ? raw.from : undefined;
    switch (op) {
      case 'add':
        doc = add(doc, path, cloneJson(raw.value));
        break;
      case 'remove':
        doc = remove(doc, path);
        break;
      case 'replace':
        read(doc, path);
        doc = add(remove(doc, path), path, cloneJson(raw.value));
        break;
      case 'move': {
        if (from === undefined)
          throw new ApiError(400, 'BadRequest', `JSON patch "move" at ${i} needs "from"`);
        const value = read(doc, from);
        doc = add(remove(doc, from), path, value);
        break;
      }
      case 'copy': {
        if (from === undefined)
          throw new ApiError(400, 'BadRequest', `JSON patch "copy" at ${i} needs "from"`);
        doc = add(doc, path, cloneJson(read(doc, from)));
        break;
      }
      case 'test':
        if (!deepEqual(read(doc, path), raw.value)) throw fail(`testing value ${path} failed`);
        break;
      default:
        throw new ApiError(
          400,
          'BadRequest',
          `unknown JSON patch op "${op}": expected add, remove, replace, move, copy or test`,
        );
    }
  }
  return doc;
}
