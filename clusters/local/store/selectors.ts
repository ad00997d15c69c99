// Label and field selectors: parsed once (a syntax error is a 400, as on a real server), then matched.

import { StoreError } from './types.js';

export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'doesnotexist' };

export type FieldRequirement = { path: string; op: '=' | '!='; value: string };

/** Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k`. An empty selector matches everything. */
export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  const text = selector?.trim() ?? '';
  if (text === '') return [];
  return splitTopLevel(text).map((part) => parseLabelRequirement(part.trim(), selector ?? ''));
}

/** Splits on commas outside parentheses, so `a in (b,c),d` is two requirements. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const SET_RE = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/;
const EQ_RE = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;
const KEY_RE = /^[^\s!=(),]+$/;

function parseLabelRequirement(part: string, whole: string): LabelRequirement {
  const set = SET_RE.exec(part);
  if (set) {
    const values = (set[3] ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return { key: set[1] ?? '', op: set[2] === 'in' ? 'in' : 'notin', values };
  }
  const eq = EQ_RE.exec(part);
  if (eq) {
    return { key: eq[1] ?? '', op: eq[2] === '!=' ? 'notin' : 'in', values: [eq[3] ?? ''] };
  }
  if (part.startsWith('!') && KEY_RE.test(part.slice(1).trim())) {
    return { key: part.slice(1).trim(), op: 'doesnotexist' };
  }
  if (KEY_RE.test(part)) return { key: part, op: 'exists' };
  throw new StoreError(
    400,
    'BadRequest',
    `unable to parse requirement: label selector "${whole}": expected "key=value", "key!=value", "key in (a,b)", ` +
      `"key notin (a,b)", "key" or "!key", got "${part}"`,
  );
}

export function matchesLabels(
  requirements: LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  for (const req of requirements) {
    const value = labels?.[req.key];
    switch (req.op) {
      case 'exists':
        if (value === undefined) return false;
        break;
      case 'doesnotexist':
        if (value !== undefined) return false;
        break;
      case 'in':
        if (value === undefined || !req.values.includes(value)) return false;
        break;
      case 'notin':
        // As upstream: a missing label satisfies `!=` and `notin`.
        if (value !== undefined && req.values.includes(value)) return false;
        break;
    }
  }
  return true;
}

/** Parses `metadata.name=x,spec.nodeName!=y` (`==` accepted). Any dotted path of the object may be used. */
export function parseFieldSelector(selector: string | undefined): FieldRequirement[] {
  const text = selector?.trim() ?? '';
  if (text === '') return [];
  return text.split(',').map((raw) => {
    const part = raw.trim();
    const m = /^([A-Za-z0-9_.-]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) {
      throw new StoreError(
        400,
        'BadRequest',
        `invalid field selector "${text}": expected "path=value" or "path!=value", got "${part}"`,
      );
    }
    return { path: m[1] ?? '', op: m[2] === '!=' ? '!=' : '=', value: m[3] ?? '' };
  });
}

export function matchesFields(requirements: FieldRequirement[], object: unknown): boolean {
  for (const req of requirements) {
    const actual = readFieldPath(object, req.path);
    const equal = actual === req.value;
    if (req.op === '=' ? !equal : equal) return false;
  }
  return true;
}

/** Reads a dotted path as a string; absent fields read as "" (so `spec.nodeName=` finds unscheduled pods). */
export function readFieldPath(object: unknown, path: string): string {
  let current: unknown = object;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null) return '';
    current = (current as Record<string, unknown>)[segment];
  }
  if (current === undefined || current === null) return '';
  return typeof current === 'string' ? current : String(current);
}
