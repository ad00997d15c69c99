// An Alertmanager routing file a scenario ships (`alertmanager.routing`): read, parsed and checked once per
// validation, as Alertmanager itself would load it — the real `amtool check-config` when it is on PATH, with its
// "line N" messages mapped into the file. The imperative part; the rules only report what this found.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { run } from '../exec/index.js';
import { describeValue, formatPath, type Problem } from './problem.js';
import type { DataPath } from './shape-issues.js';
import { parseYamlSource, type YamlDocument } from './yaml-source.js';

export interface RoutingFile {
  /** Absolute path. */
  path: string;
  /** Why it could not be read (missing, a directory…). */
  error?: string;
  /** Its text as read: what amtool checked and what the drill's Alertmanager runs. */
  text?: string;
  /** `r-` + 12 hex of the text's sha256: identical files share one Alertmanager. */
  id?: string;
  /** The receivers it defines, in order (empty when the file is not a valid configuration). */
  receivers: string[];
  /** What is wrong inside it, each at its line there: YAML syntax, shape, and amtool's verdict. */
  problems: Problem[];
  /** amtool's objections it did not give a line for: reported where the scenario names the file. */
  unlocated: string[];
  /** Whether amtool checked it; when not, why (it is then checked structurally only). */
  amtool: { checked: true } | { checked: false; why: string };
}

/** One check per distinct file per validation, whichever scenarios and variants name it. */
export type RoutingChecks = Map<string, Promise<RoutingFile>>;

const RULE = 'alertmanager-routing-valid';
/** amtool answers in tens of milliseconds; this only bounds a hung one. */
const AMTOOL_TIMEOUT_MS = 20_000;

/** The routing file at `path`, read and checked once through `checks`; `amtool` is the command to check with. */
export function checkRoutingFile(
  path: string,
  checks: RoutingChecks,
  amtool = 'amtool',
): Promise<RoutingFile> {
  let pending = checks.get(path);
  if (pending === undefined) {
    pending = readAndCheck(path, amtool);
    checks.set(path, pending);
  }
  return pending;
}

async function readAndCheck(path: string, amtool: string): Promise<RoutingFile> {
  const unchecked = { checked: false, why: 'the file was not loaded' } as const;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { path, error: readError(error), receivers: [], problems: [], unlocated: [], amtool: unchecked };
  }
  const id = `r-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
  const base = { path, text, id, unlocated: [] as string[] };
  const source = parseYamlSource(text, path);
  if (source.problems.length > 0) {
    const problems = source.problems.map((p) => ({ ...p, rule: RULE }));
    return { ...base, receivers: [], problems, amtool: unchecked };
  }
  const shape = checkShape(source.documents, path);
  const [doc] = source.documents;
  // A file that is not even a configuration would only get the same complaint from amtool, worded worse.
  if (shape.problems.length > 0 || doc === undefined)
    return { ...base, receivers: [], problems: shape.problems, amtool: unchecked };
  const verdict = await runAmtool(amtool, path);
  if (!verdict.checked) return { ...base, receivers: shape.receivers, problems: [], amtool: verdict };
  const located = verdict.objections.map((o) => locateObjection(o, doc, path));
  return {
    ...base,
    receivers: shape.receivers,
    problems: located.flatMap((l) => ('problem' in l ? [l.problem] : [])),
    unlocated: located.flatMap((l) => ('unlocated' in l ? [l.unlocated] : [])),
    amtool: { checked: true },
  };
}

/** What every Alertmanager configuration has: one document, a mapping with a `route` and named `receivers`. */
function checkShape(
  documents: readonly YamlDocument[],
  file: string,
): { problems: Problem[]; receivers: string[] } {
  const [doc, second] = documents;
  const at = (d: YamlDocument | undefined, path: DataPath, message: string): Problem => ({
    file,
    ...(d ? d.locate(path) : { line: 1, column: 1 }),
    path: formatPath(path),
    message,
    rule: RULE,
  });
  const expected = 'expected an Alertmanager configuration (a mapping with route and receivers)';
  if (doc === undefined)
    return { problems: [at(undefined, [], `${expected}, got an empty file`)], receivers: [] };
  if (second !== undefined)
    return {
      problems: [
        at(second, [], `${expected} in one YAML document, got ${documents.length}; Alertmanager reads one`),
      ],
      receivers: [],
    };
  const data = doc.data as { route?: unknown; receivers?: unknown } | null;
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return { problems: [at(doc, [], `${expected}, got ${describeValue(data)}`)], receivers: [] };
  const problems: Problem[] = [];
  if (!isMapping(data.route))
    problems.push(
      at(
        doc,
        ['route'],
        `expected route, the routing tree ({ receiver, group_by, routes, … }), got ${describeValue(data.route)}`,
      ),
    );
  if (!Array.isArray(data.receivers) || data.receivers.length === 0) {
    const got = Array.isArray(data.receivers) ? 'an empty list' : describeValue(data.receivers);
    problems.push(at(doc, ['receivers'], `expected receivers, a list of { name, … }, got ${got}`));
    return { problems, receivers: [] };
  }
  const receivers: string[] = [];
  data.receivers.forEach((r: unknown, i) => {
    const name = isMapping(r) ? (r as { name?: unknown }).name : undefined;
    if (typeof name === 'string' && name !== '') receivers.push(name);
    else
      problems.push(
        at(doc, ['receivers', i, 'name'], `expected a receiver name (a string), got ${describeValue(name)}`),
      );
  });
  return { problems, receivers };
}

function isMapping(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One objection of amtool: its message, and the line it named when it named one. */
interface Objection {
  line?: number;
  message: string;
}

type AmtoolVerdict = { checked: true; objections: Objection[] } | { checked: false; why: string };

/** `amtool check-config FILE`: accepted, or its objections (`line 11: field x not found in type config.plain`). */
async function runAmtool(amtool: string, path: string): Promise<AmtoolVerdict> {
  const result = await run(amtool, ['check-config', path], { timeoutMs: AMTOOL_TIMEOUT_MS });
  if (result.spawnError !== undefined) {
    const missing = /ENOENT/.test(result.spawnError);
    const why = missing
      ? `${amtool} was not found${amtool.includes('/') ? '' : ' on PATH'}`
      : `${amtool} could not be started (${result.spawnError.split('\n').at(-1)})`;
    return { checked: false, why };
  }
  if (result.timedOut)
    return { checked: false, why: `amtool check-config did not answer within ${AMTOOL_TIMEOUT_MS / 1000}s` };
  if (result.exitCode === 0) return { checked: true, objections: [] };
  return { checked: true, objections: parseAmtoolOutput(`${result.stdout}\n${result.stderr}`) };
}

/**
 * amtool 0.25 prints `Checking 'FILE'  FAILED: MESSAGE`, where MESSAGE may go on over indented lines
 * (`yaml: unmarshal errors:` then `  line 11: …` per error), then a blank line and `amtool: error: …`.
 */
export function parseAmtoolOutput(output: string): Objection[] {
  const start = output.indexOf('FAILED: ');
  if (start < 0) {
    const text = output.trim().split('\n')[0] ?? '';
    return [{ message: text || 'amtool check-config refused the file without saying why' }];
  }
  const block = output.slice(start + 'FAILED: '.length).split(/\n\s*\n|\namtool: /)[0] ?? '';
  const lines = block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const withLine = lines.flatMap((l) => {
    const m = /\bline (\d+): (.*)$/.exec(l);
    return m ? [{ line: Number(m[1]), message: m[2] ?? l }] : [];
  });
  return withLine.length > 0 ? withLine : [{ message: lines.join(' ') }];
}

/**
 * An objection as a problem in the routing file: at the line amtool named (with the field on it), or at the
 * value it quotes (`undefined receiver "pager" used in route`); failing both, left for the scenario's field.
 */
function locateObjection(
  o: Objection,
  doc: YamlDocument,
  file: string,
): { problem: Problem } | { unlocated: string } {
  const message = `expected a configuration Alertmanager loads, got amtool check-config's objection: ${o.message}; fix the routing file`;
  if (o.line !== undefined) {
    const path = pathOnLine(doc, o.line);
    return { problem: { file, line: o.line, column: 0, path: formatPath(path), message, rule: RULE } };
  }
  const quoted = /"([^"]+)"/.exec(o.message)?.[1];
  const path = quoted === undefined ? undefined : pathOfScalar(doc.data, quoted, []);
  if (path === undefined) return { unlocated: o.message };
  return { problem: { file, ...doc.locate(path), path: formatPath(path), message, rule: RULE } };
}

/** The deepest field written on `line` (its key, or a list item starting there); the document when none is. */
function pathOnLine(doc: YamlDocument, line: number): DataPath {
  let best: DataPath = [];
  const visit = (value: unknown, path: DataPath): void => {
    if (path.length > best.length && doc.locate(path, { key: true }).line === line) best = path;
    if (Array.isArray(value)) for (const [i, v] of value.entries()) visit(v, [...path, i]);
    else if (isMapping(value)) for (const [k, v] of Object.entries(value as object)) visit(v, [...path, k]);
  };
  visit(doc.data, []);
  return best;
}

/** The path of the first scalar equal to `wanted`, depth first. */
function pathOfScalar(value: unknown, wanted: string, path: DataPath): DataPath | undefined {
  if (typeof value === 'string' || typeof value === 'number')
    return String(value) === wanted ? path : undefined;
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : isMapping(value)
      ? Object.entries(value as object)
      : [];
  for (const [k, v] of entries) {
    const found = pathOfScalar(v, wanted, [...path, k]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Why a file could not be read, in words. */
export function readError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (error as Error).message;
}
