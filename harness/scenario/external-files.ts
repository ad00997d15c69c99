// The imperative part of validation: read every file a scenario names (manifests, runbooks, alert rules,
// Alertmanager routings) once, so rules and resolveScenario stay pure.

import { readFile } from 'node:fs/promises';
import { parseRunbook } from '../runbook/index.js';
import type { RunbookStep } from '../runbook/index.js';
import {
  DEFAULT_MESH_VARIABLES,
  expandMesh,
  expandMeshDeep,
  findUnknownMesh,
  findUnknownMeshDeep,
  lineAt,
  MESH_RULE,
  type MeshVariables,
  unknownMeshMessage,
} from './mesh-variables.js';
import { formatPath, type Problem } from './problem.js';
import { listManifestRefs, listRunbookRefs, listVariants } from './refs.js';
import { resolveRelative } from './resolve.js';
import { checkRoutingFile, readError, type RoutingChecks, type RoutingFile } from './routing.js';
import type { ScenarioSpec } from './spec.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

export interface ManifestFile {
  path: string;
  /** Why it could not be read (the file is missing or unreadable). */
  error?: string;
  /** YAML syntax problems inside it. */
  problems: Problem[];
  documents: { value: unknown; line: number; column: number }[];
}

export interface RunbookFile {
  path: string;
  error?: string;
  /** Unknown `${mesh.…}` variables in it (reported by the runbook-exists rule). */
  problems?: Problem[];
  steps: RunbookStep[];
}

export interface ExternalFiles {
  manifests: ReadonlyMap<string, ManifestFile>;
  runbooks: ReadonlyMap<string, RunbookFile>;
  /** Alert rule files by absolute path: parsed (positions kept), or the error when unreadable. */
  alertRules: ReadonlyMap<string, { error?: string; source?: YamlSource }>;
  /** Alertmanager routing files (the scenario's and the variants' own) by absolute path, read and checked. */
  routings: ReadonlyMap<string, RoutingFile>;
}

/** How routing files are checked: shared by every scenario of one validation, so each file is checked once. */
export interface RoutingCheckOptions {
  routingChecks?: RoutingChecks;
  /** The amtool command (default `amtool`, found on PATH). */
  amtool?: string;
  /** The target's control-plane names: `${mesh.…}` in manifest files and runbooks become them as they are read. */
  mesh?: MeshVariables;
}

export async function readExternalFiles(
  spec: ScenarioSpec,
  scenarioFile: string,
  options: RoutingCheckOptions = {},
): Promise<ExternalFiles> {
  const manifests = new Map<string, ManifestFile>();
  const runbooks = new Map<string, RunbookFile>();
  const alertRules = new Map<string, { error?: string; source?: YamlSource }>();
  const mesh = options.mesh ?? DEFAULT_MESH_VARIABLES;

  for (const use of listManifestRefs(spec)) {
    if (use.ref.file === undefined) continue;
    const path = resolveRelative(scenarioFile, use.ref.file);
    if (manifests.has(path)) continue;
    const text = await readText(path);
    if (typeof text !== 'string') {
      manifests.set(path, { path, error: text.error, problems: [], documents: [] });
      continue;
    }
    manifests.set(path, readManifest(path, text, mesh));
  }

  for (const use of listRunbookRefs(spec)) {
    const path = resolveRelative(scenarioFile, use.ref.path);
    if (runbooks.has(path)) continue;
    const text = await readText(path);
    runbooks.set(
      path,
      typeof text === 'string' ? readRunbook(path, text, mesh) : { path, error: text.error, steps: [] },
    );
  }

  for (const rel of spec.spec.alertRules ?? []) {
    const path = resolveRelative(scenarioFile, rel);
    const text = await readText(path);
    alertRules.set(path, typeof text === 'string' ? { source: parseYamlSource(text, path) } : text);
  }
  return { manifests, runbooks, alertRules, routings: await readRoutings(spec, scenarioFile, options) };
}

/** A manifest file's objects with `${mesh.…}` expanded; unknown ones are problems at their line. */
function readManifest(path: string, text: string, mesh: MeshVariables): ManifestFile {
  const source = parseYamlSource(text, path);
  const problems: Problem[] = [...source.problems];
  for (const doc of source.documents) {
    for (const { path: at, token } of findUnknownMeshDeep(doc.data)) {
      problems.push({
        file: path,
        ...doc.locate(at),
        path: formatPath(at),
        message: unknownMeshMessage(token),
        rule: MESH_RULE,
      });
    }
  }
  return {
    path,
    problems,
    documents: source.documents.map((d) => ({ value: expandMeshDeep(d.data, mesh), ...d.locate([]) })),
  };
}

/**
 * A runbook's text with `${mesh.…}` expanded before it is parsed (values hold no newline, so every line keeps
 * its number); unknown ones are problems at their line.
 */
function readRunbook(path: string, text: string, mesh: MeshVariables): RunbookFile {
  const problems: Problem[] = findUnknownMesh(text).map(({ token, index }) => ({
    file: path,
    line: lineAt(text, index),
    column: 0,
    path: '',
    message: unknownMeshMessage(token),
    rule: MESH_RULE,
  }));
  return {
    path,
    steps: parseRunbook(expandMesh(text, mesh), path),
    ...(problems.length > 0 ? { problems } : {}),
  };
}

async function readRoutings(
  spec: ScenarioSpec,
  scenarioFile: string,
  options: RoutingCheckOptions,
): Promise<Map<string, RoutingFile>> {
  const checks = options.routingChecks ?? new Map();
  const paths = new Set(
    listVariants(spec).flatMap((v) => (v.routing ? [resolveRelative(scenarioFile, v.routing.rel)] : [])),
  );
  const files = await Promise.all([...paths].map((path) => checkRoutingFile(path, checks, options.amtool)));
  return new Map(files.map((f) => [f.path, f]));
}

async function readText(path: string): Promise<string | { error: string }> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    return { error: readError(error) };
  }
}
