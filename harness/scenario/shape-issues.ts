// Stage 2 of validation: zod issues turned into `path: expected …, got … (type)` findings users can act on.

import { z } from 'zod';
import { describeValue } from './problem.js';

export type DataPath = (string | number)[];

/** A problem before it is given a file position: where in the data, and what is wrong. */
export interface Finding {
  path: DataPath;
  message: string;
  /** Point at the key rather than the value (unknown fields). */
  atKey?: boolean;
  rule?: string;
}

type Issue = z.core.$ZodIssue;

/** Maps every issue of a failed parse to findings; `root` is the schema that was parsed, `data` its input. */
export function findingsFromIssues(issues: readonly Issue[], root: z.ZodType, data: unknown): Finding[] {
  return issues.flatMap((issue) => findingsFromIssue(issue, [], root, data));
}

function findingsFromIssue(issue: Issue, prefix: DataPath, root: z.ZodType, data: unknown): Finding[] {
  const path: DataPath = [...prefix, ...(issue.path as DataPath)];
  const input = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(root, data, path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        atKey: true,
        message: `unknown field "${key}"${suggest(key, known)}${known.length ? `; valid fields: ${known.join(', ')}` : ''}`,
      }));
    }
    case 'invalid_union': {
      // zod 4 adds these to a discriminated union's issue at run time without declaring them.
      const extra = issue as unknown as { note?: string; options?: unknown[] };
      if (issue.discriminator !== undefined || extra.note === 'No matching discriminator') {
        // zod puts the discriminator at the end of the path already.
        const tagPath =
          path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator ?? 'kind'];
        const tag = String(tagPath[tagPath.length - 1]);
        const valid = (extra.options ?? []).map((o) => JSON.stringify(o)).join(', ');
        const got = valueAt(data, tagPath);
        return [
          { path: tagPath, message: `expected ${tag} to be one of ${valid}, got ${describeValue(got)}` },
        ];
      }
      // A plain union: if exactly one alternative got past the type check, its issues are the useful ones.
      const near = issue.errors.filter(
        (alt) =>
          !alt.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')),
      );
      const [only] = near;
      if (near.length === 1 && only) {
        return only.flatMap((inner) => findingsFromIssue(inner, path, root, data));
      }
      return [{ path, message: `${expectedOf(issue)}, got ${describeValue(input)}` }];
    }
    default:
      return [{ path, message: `${expectedOf(issue)}, got ${describeValue(input)}` }];
  }
}

/** The "expected …" half: our own wording when the schema set one, otherwise built from the issue. */
function expectedOf(issue: Issue): string {
  if (issue.message.startsWith('expected ')) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return `expected at least ${min} item${min === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'expected a non-empty string';
      return `expected a number ${issue.inclusive ? '>=' : '>'} ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return `expected at most ${max} items`;
      if (issue.origin === 'string') return `expected at most ${max} characters`;
      return `expected a number ${issue.inclusive ? '<=' : '<'} ${max}`;
    }
    case 'invalid_format':
      return `expected a string matching ${issue.pattern ?? issue.format}`;
    default:
      return `expected something else (${issue.message})`;
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

export function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let node: unknown = data;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

/** The fields the schema allows at `path` (following the data through unions), for "did you mean". */
function knownKeys(root: z.ZodType, data: unknown, path: DataPath): string[] {
  let schema: z.ZodType | undefined = root;
  for (let i = 0; i <= path.length && schema; i++) {
    schema = unwrap(schema, valueAt(data, path.slice(0, i)));
    if (i === path.length) break;
    const part = path[i];
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(part)];
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else schema = undefined;
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType, value: unknown): z.ZodType {
  let current: z.ZodType = schema;
  for (let depth = 0; depth < 10; depth++) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodUnion) {
      const options = current.options as readonly z.ZodType[];
      const discriminator = (current.def as { discriminator?: string }).discriminator;
      const tag =
        discriminator && value && typeof value === 'object'
          ? (value as Record<string, unknown>)[discriminator]
          : undefined;
      const match =
        options.find(
          (o) =>
            o instanceof z.ZodObject &&
            (discriminator === undefined ||
              (o.shape as Record<string, z.ZodType>)[discriminator]?.safeParse(tag).success === true),
        ) ?? options[0];
      if (!match) return current;
      current = match;
    } else {
      return current;
    }
  }
  return current;
}

function suggest(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}
