// loadScenarios: the imperative shell around validation. Reads scenario files (directories expand to their
// Scenario YAML files), runs the three stages on each, collects EVERY problem of EVERY file, and resolves
// nothing unless there are none.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AlertmanagerRoutingFile, ResolvedScenario } from '../model/index.js';
import { type ExternalFiles, type RoutingCheckOptions, readExternalFiles } from './external-files.js';
import {
  DEFAULT_MESH_VARIABLES,
  expandMeshDeep,
  findUnknownMeshDeep,
  MESH_RULE,
  type MeshVariables,
  unknownMeshMessage,
} from './mesh-variables.js';
import { formatPath, type Problem, sortProblems } from './problem.js';
import { resolveScenario } from './resolve.js';
import { checkRules, type RuleFinding } from './rules.js';
import { findingsFromIssues } from './shape-issues.js';
import { type ScenarioSpec, scenarioSpecSchema } from './spec.js';
import { parseYamlSource, type YamlDocument } from './yaml-source.js';

export interface LoadOptions {
  /** Target name: selects the time scale (`spec.timeScale.<target>`). */
  target: string;
  /** Base for relative input paths; default process.cwd(). */
  cwd?: string;
  /**
   * `--runbook FILE` (absolute): replaces the main runbook of every scenario, keeping its variables, before the
   * runbook is read — so the override is checked by the same rules as a scenario's own runbook.
   */
  runbookOverride?: string;
  /** The command that checks Alertmanager routing files (default `amtool`, found on PATH). */
  amtool?: string;
  /** The target's control-plane names, for `${mesh.…}` (default: a default install in istio-system). */
  mesh?: MeshVariables;
}

export interface LoadResult {
  /** Empty whenever `problems` is not. */
  scenarios: ResolvedScenario[];
  problems: Problem[];
  /** What was checked less thoroughly than it could be (a routing file without amtool): said, never fatal. */
  warnings: Problem[];
}

/** A scenario file that passed all three stages, ready to resolve. */
export interface ValidScenario {
  file: string;
  spec: ScenarioSpec;
  files: ExternalFiles;
}

export async function loadScenarios(paths: readonly string[], options: LoadOptions): Promise<LoadResult> {
  const cwd = options.cwd ?? process.cwd();
  const { files, problems } = await expandPaths(paths, cwd);
  const valid: ValidScenario[] = [];
  const warnings: Problem[] = [];
  // One check of each routing file for the whole validation, whichever scenarios name it.
  const shared = { ...options, routingChecks: new Map() };
  for (const { file, text } of files) {
    const checked = await validateScenarioText(text, file, shared);
    problems.push(...checked.problems);
    warnings.push(...(checked.warnings ?? []));
    if (checked.scenario) valid.push(checked.scenario);
  }
  problems.push(...checkNamesUnique(valid));
  const sortedWarnings = sortProblems(warnings);
  if (problems.length > 0)
    return { scenarios: [], problems: sortProblems(problems), warnings: sortedWarnings };
  const scenarios = valid.map(({ file, spec, files: external }) =>
    resolveScenario(spec, {
      file,
      target: options.target,
      mesh: options.mesh ?? DEFAULT_MESH_VARIABLES,
      manifestFiles: manifestObjects(external),
      ruleFiles: ruleDocuments(external),
      runbookFiles: runbookSteps(external),
      routingFiles: routingFiles(external),
    }),
  );
  return { scenarios, problems: [], warnings: sortedWarnings };
}

/** The three stages for one file's text: YAML syntax, shape, rules. `file` must be absolute. */
export async function validateScenarioText(
  text: string,
  file: string,
  options: Partial<Pick<LoadOptions, 'target' | 'runbookOverride' | 'mesh'>> & RoutingCheckOptions = {},
): Promise<{ scenario?: ValidScenario; problems: Problem[]; warnings?: Problem[] }> {
  const source = parseYamlSource(text, file);
  if (source.problems.length > 0) return { problems: source.problems };
  const [doc, ...extra] = source.documents;
  if (!doc)
    return {
      problems: [{ file, line: 1, column: 1, path: '', message: 'expected a scenario, got an empty file' }],
    };
  if (extra.length > 0) {
    const at = extra[0]?.locate([]) ?? { line: 1, column: 1 };
    return {
      problems: [
        {
          file,
          ...at,
          path: '',
          message: `expected one scenario per file, got ${source.documents.length} YAML documents; split them into files`,
        },
      ],
    };
  }
  const unknown = findUnknownMeshDeep(doc.data).map(({ path, token }) =>
    toProblem({ path, message: unknownMeshMessage(token), rule: MESH_RULE }, file, doc),
  );
  if (unknown.length > 0) return { problems: unknown };
  // The target's names are in place before anything is checked: the checks see what will run.
  const mesh = options.mesh ?? DEFAULT_MESH_VARIABLES;
  const data = expandMeshDeep(doc.data, mesh);
  const parsed = scenarioSpecSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const findings = findingsFromIssues(parsed.error.issues, scenarioSpecSchema, data);
    return { problems: findings.map((f) => toProblem(f, file, doc)) };
  }
  const spec = options.runbookOverride ? withMainRunbook(parsed.data, options.runbookOverride) : parsed.data;
  const files = await readExternalFiles(spec, file, { ...options, mesh });
  const { target } = options;
  const findings = checkRules({ spec, file, files, ...(target ? { target } : {}) });
  const warnings = routingWarnings(files);
  if (findings.length > 0) return { problems: findings.map((f) => toProblem(f, file, doc)), warnings };
  return { scenario: { file, spec, files }, problems: [], warnings };
}

/** A routing file amtool did not check was checked for its shape only: said once per file, in that file. */
function routingWarnings(files: ExternalFiles): Problem[] {
  return [...files.routings.values()].flatMap((r) =>
    r.amtool.checked || r.error || r.problems.length > 0
      ? []
      : [
          {
            file: r.path,
            line: 0,
            column: 0,
            path: '',
            message: `warning: checked structurally only (route and named receivers), not as Alertmanager loads it: ${r.amtool.why}; install amtool (Debian: prometheus-alertmanager) to check it with amtool check-config`,
            rule: 'alertmanager-routing-valid',
          },
        ],
  );
}

/** The routing files as the variants run them: read once, checked, identified by their content. */
function routingFiles(files: ExternalFiles): Map<string, AlertmanagerRoutingFile> {
  return new Map(
    [...files.routings].flatMap(([path, r]) =>
      r.text === undefined || r.id === undefined
        ? []
        : [[path, { id: r.id, file: path, yaml: r.text, receivers: r.receivers }] as const],
    ),
  );
}

/** The spec with its main runbook replaced by `path` (absolute), its variables kept. */
function withMainRunbook(spec: ScenarioSpec, path: string): ScenarioSpec {
  const current = spec.spec.runbook;
  const runbook = current === 'none' ? { path } : { ...current, path };
  return { ...spec, spec: { ...spec.spec, runbook } };
}

function toProblem(f: RuleFinding, file: string, doc: YamlDocument): Problem {
  if ('file' in f) return f;
  const at = doc.locate(f.path, { key: f.atKey === true });
  return { file, ...at, path: formatPath(f.path), message: f.message, ...(f.rule ? { rule: f.rule } : {}) };
}

function ruleDocuments(files: ExternalFiles): Map<string, unknown[]> {
  return new Map(
    [...files.alertRules].flatMap(([path, r]) =>
      r.source ? [[path, r.source.documents.map((d) => d.data)]] : [],
    ),
  );
}

/** The runbooks as read and parsed for validation: the very steps the drill will run, once bound. */
function runbookSteps(files: ExternalFiles) {
  return new Map([...files.runbooks].flatMap(([path, r]) => (r.error ? [] : [[path, r.steps] as const])));
}

function manifestObjects(files: ExternalFiles) {
  return new Map(
    [...files.manifests].map(([path, m]) => [
      path,
      m.documents.map((d) => d.value as ResolvedScenario['workload']['manifests'][number]),
    ]),
  );
}

/** Names become namespaces and labels: two scenarios with one name would clean up each other's objects. */
function checkNamesUnique(valid: readonly ValidScenario[]): Problem[] {
  const first = new Map<string, string>();
  const out: Problem[] = [];
  for (const v of valid) {
    const name = v.spec.metadata.name;
    const seen = first.get(name);
    if (seen) {
      out.push({
        file: v.file,
        line: 0,
        column: 0,
        path: 'metadata.name',
        message: `"${name}" is already the name of ${seen}; scenario names must be unique in a suite`,
        rule: 'scenario-names-unique',
      });
    } else first.set(name, v.file);
  }
  return out;
}

async function expandPaths(
  paths: readonly string[],
  cwd: string,
): Promise<{ files: { file: string; text: string }[]; problems: Problem[] }> {
  const files: { file: string; text: string }[] = [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (file: string, text: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    files.push({ file, text });
  };
  for (const input of paths) {
    const abs = resolve(cwd, input);
    try {
      if ((await stat(abs)).isDirectory()) {
        const names = (await readdir(abs)).filter((n) => /\.ya?ml$/.test(n)).sort();
        for (const name of names) {
          const file = join(abs, name);
          const text = await readFile(file, 'utf8');
          if (isScenarioText(text, file)) add(file, text);
        }
      } else {
        add(abs, await readFile(abs, 'utf8'));
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push({
        file: abs,
        line: 0,
        column: 0,
        path: '',
        message: code === 'ENOENT' ? 'no such file or directory' : (error as Error).message,
      });
    }
  }
  return { files, problems };
}

/** In a directory, only Scenario files count (workload manifests and rule files may sit beside them). */
function isScenarioText(text: string, file: string): boolean {
  const source = parseYamlSource(text, file);
  if (source.problems.length > 0) return /^kind:\s*["']?Scenario["']?\s*$/m.test(text);
  const data = source.documents[0]?.data as { kind?: unknown } | undefined;
  return data?.kind === 'Scenario';
}
