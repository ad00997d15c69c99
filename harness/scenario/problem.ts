// Problem: one thing wrong with an input file, located by line and column, and how it prints.

import { isAbsolute, relative } from 'node:path';

export interface Problem {
  /** The file the problem is in (absolute; printed relative to the working directory). */
  file: string;
  /** 1-based; 0 when the problem concerns the whole file. */
  line: number;
  /** 1-based; 0 when only the line is known (runbook placeholders). */
  column: number;
  /** Where in the file: a dotted path such as `detect[0].within`, or `step "Restart istiod"` in a runbook. */
  path: string;
  /** What is wrong: `expected …, got …` and, where it helps, how to fix it. */
  message: string;
  /** The semantic rule that found it (docs/scenario-format.md#rules); absent for syntax and shape problems. */
  rule?: string;
}

/** `scenarios/x.yaml:14:7 detect[0].within: expected a duration like "60s", got 60 (number)`. */
export function formatProblem(problem: Problem, cwd: string = process.cwd()): string {
  const rel = isAbsolute(problem.file) ? relative(cwd, problem.file) : problem.file;
  const file = rel.startsWith('..') || rel === '' ? problem.file : rel;
  const where = problem.line > 0 ? `:${problem.line}${problem.column > 0 ? `:${problem.column}` : ''}` : '';
  const path = problem.path ? ` ${problem.path}:` : '';
  return `${file}${where}${path} ${problem.message}`;
}

/** Stable order for reports: by file, then position, then path; exact duplicates removed. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  const unique: Problem[] = [];
  for (const p of problems) {
    const key = `${p.file}\0${p.line}\0${p.column}\0${p.path}\0${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(p);
  }
  return unique.sort(
    (a, b) =>
      a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.path.localeCompare(b.path),
  );
}

/** A dotted path as users read it: `detect[0].within` (the `spec.` prefix is implied). */
export function formatPath(path: readonly (string | number)[]): string {
  const parts = path[0] === 'spec' ? path.slice(1) : path;
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** `60 (number)`, `"1 minute" (string)`, `a list (array)`: the "got" half of a message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is required)';
  if (value === null) return 'null (empty value)';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}…` : value;
    return `${JSON.stringify(shown)} (string)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${String(value)} (${typeof value})`;
  if (Array.isArray(value)) return `a list of ${value.length} (array)`;
  return 'a mapping (object)';
}
