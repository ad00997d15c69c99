// Placeholders in runbook steps: finding them (with lines), telling which are unbound, and binding them.
// Shell quoting matters: `$X` inside single quotes or a comment is not expanded by bash, so it is not one.

import type { Placeholder, RunbookStep, StepKind } from './types.js';

/** Upper-case variables bash or the runner provides: never placeholders. */
const AMBIENT = new Set([
  'HOME',
  'PATH',
  'PWD',
  'OLDPWD',
  'USER',
  'SHELL',
  'TMPDIR',
  'HOSTNAME',
  'KUBECONFIG',
  'KUBECACHEDIR',
  'RANDOM',
  'SECONDS',
  'LINENO',
  'IFS',
  'UID',
  'EUID',
  'PPID',
  'BASHPID',
  'BASH_SOURCE',
  'PIPESTATUS',
  'OPTARG',
  'OPTIND',
  'REPLY',
]);

const ANGLE = /^<([A-Za-z][A-Za-z0-9_-]*)>/;
const BRACED = /^\$\{([A-Z_][A-Z0-9_]*)\}/;
const BARE = /^\$([A-Za-z_][A-Za-z0-9_]*)/;
const UPPER = /^[A-Z_][A-Z0-9_]*$/;

/** Names a shell script assigns (`NAME=`, `export NAME=`, `for NAME in`, `read NAME`), with their offsets. */
export function findDefinitions(script: string): { name: string; offset: number }[] {
  const patterns = [
    /(?:^|[;&|(`]|\b(?:then|do|else)\s)[ \t]*(?:(?:export|local|readonly|declare(?:[ \t]+-\w+)*)[ \t]+)?([A-Z_][A-Z0-9_]*)=/gm,
    /\bfor[ \t]+([A-Z_][A-Z0-9_]*)[ \t]+in\b/g,
    /\bread[ \t]+(?:-\w+[ \t]+)*([A-Z_][A-Z0-9_]*)/g,
  ];
  const out: { name: string; offset: number }[] = [];
  for (const pattern of patterns) {
    for (const m of script.matchAll(pattern)) {
      const name = m[1] ?? '';
      out.push({ name, offset: (m.index ?? 0) + m[0].lastIndexOf(name) });
    }
  }
  return out;
}

/**
 * Every placeholder token in a step body. `firstLine` is the Markdown line of the body's first line.
 * `isDefined(name, offset)` says whether the runbook set that variable before this point.
 */
export function scanPlaceholders(
  body: string,
  kind: StepKind,
  firstLine: number,
  isDefined: (name: string, offset: number) => boolean = () => false,
): Placeholder[] {
  const shell = kind === 'command';
  const out: Placeholder[] = [];
  let state: 'normal' | 'single' | 'double' = 'normal';
  let line = firstLine;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\n') {
      line++;
      continue;
    }
    const rest = body.slice(i, i + 80);
    if (state === 'single') {
      if (c === "'") state = 'normal';
      else if (c === '<') i = takeAngle(rest, i, line, out);
      continue;
    }
    if (shell && c === '\\') {
      if (body[i + 1] === '\n') line++;
      i++;
      continue;
    }
    if (state === 'double' && c === '"') {
      state = 'normal';
      continue;
    }
    if (state === 'normal' && shell && c === "'") {
      state = 'single';
      continue;
    }
    if (state === 'normal' && shell && c === '"') {
      state = 'double';
      continue;
    }
    if (state === 'normal' && c === '#' && startsWord(body, i, shell)) {
      const eol = body.indexOf('\n', i);
      i = (eol < 0 ? body.length : eol) - 1;
      continue;
    }
    if (c === '<') {
      i = takeAngle(rest, i, line, out);
    } else if (c === '$') {
      const m = BRACED.exec(rest) ?? BARE.exec(rest);
      const name = m?.[1];
      if (m && name) {
        if (UPPER.test(name) && /[A-Z]/.test(name) && !AMBIENT.has(name) && !isDefined(name, i)) {
          out.push({ name, token: m[0], form: 'variable', line, start: i, end: i + m[0].length });
        }
        i += m[0].length - 1;
      }
    }
  }
  return out;
}

function takeAngle(rest: string, i: number, line: number, out: Placeholder[]): number {
  const m = ANGLE.exec(rest);
  if (!m?.[1]) return i;
  out.push({ name: m[1], token: m[0], form: 'angle', line, start: i, end: i + m[0].length });
  return i + m[0].length - 1;
}

function startsWord(body: string, i: number, shell: boolean): boolean {
  if (i === 0) return true;
  const prev = body[i - 1] ?? '';
  return shell ? /[\s;&|()]/.test(prev) : /\s/.test(prev);
}

export interface UnboundPlaceholder {
  step: RunbookStep;
  placeholder: Placeholder;
}

/** The placeholders the variables do not bind, in runbook order. */
export function findUnboundPlaceholders(
  steps: readonly RunbookStep[],
  variables: Readonly<Record<string, string>>,
): UnboundPlaceholder[] {
  return steps.flatMap((step) =>
    step.placeholders
      .filter((p) => !Object.hasOwn(variables, p.name))
      .map((placeholder) => ({ step, placeholder })),
  );
}

/**
 * Substitutes every bound placeholder (values are inserted verbatim: shell syntax such as `$(kubectl …)` is
 * allowed in a value). Unbound placeholders stay in the body and in `placeholders`.
 */
export function bindRunbook(
  steps: readonly RunbookStep[],
  variables: Readonly<Record<string, string>>,
): RunbookStep[] {
  return steps.map((step) => {
    let body = step.body;
    const remaining: typeof step.placeholders = [];
    // From the end, so earlier offsets stay valid while later tokens are replaced.
    for (const p of [...step.placeholders].sort((a, b) => b.start - a.start)) {
      const value = variables[p.name];
      if (value === undefined || !Object.hasOwn(variables, p.name)) remaining.unshift(p);
      else body = body.slice(0, p.start) + value + body.slice(p.end);
    }
    // Offsets of the remaining ones moved: recompute them from the bound body.
    const placeholders = remaining.length === 0 ? [] : rescan(body, step, remaining);
    return { ...step, body, placeholders };
  });
}

function rescan(body: string, step: RunbookStep, remaining: readonly { name: string }[]): Placeholder[] {
  const wanted = new Set(remaining.map((p) => p.name));
  return scanPlaceholders(body, step.kind, step.line + 1).filter((p) => wanted.has(p.name));
}
