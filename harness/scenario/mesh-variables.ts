// `${mesh.NAME}`: the control plane's names as the target installed it (docs/scenario-format.md "Control-plane
// variables"). One door for the whole pack: the scenario file (every string, before its shape is checked), its
// manifest files and its runbooks (the Markdown text, before it is parsed) are expanded by the same function,
// so a drill written once runs on a default install (`istiod`) and on a revision install (`istiod-canary`).

/** The variables a target provides; the names as Istio's istio-discovery chart gives them. */
export interface MeshVariables {
  /** The control plane's namespace: `istio-system`. */
  namespace: string;
  /** The revision, as the `istio.io/rev` label carries it: `default`, or `canary` for `--set revision=canary`. */
  revision: string;
  /** istiod's Deployment: `istiod`, or `istiod-<revision>`. */
  istiodDeployment: string;
  /** istiod's Service (the webhooks' and the proxies' discovery address): `istiod`, or `istiod-<revision>`. */
  istiodService: string;
  /** A label selector for this revision's istiod pods: `app=istiod,istio.io/rev=<revision>`. */
  istiodSelector: string;
}

export type MeshVariableName = keyof MeshVariables;

/** Every name with what it stands for, in the order the docs list them. */
export const MESH_VARIABLE_DOCS: Readonly<Record<MeshVariableName, string>> = {
  namespace: "the control plane's namespace (istio-system)",
  revision: 'the revision as the istio.io/rev label carries it (default, or the revision name)',
  istiodDeployment: "istiod's Deployment (istiod, or istiod-<revision>)",
  istiodService: "istiod's Service (istiod, or istiod-<revision>)",
  istiodSelector: "a label selector for this revision's istiod pods (app=istiod,istio.io/rev=<revision>)",
};

export const MESH_VARIABLE_NAMES = Object.keys(MESH_VARIABLE_DOCS) as MeshVariableName[];

/** The rule unknown `${mesh.…}` tokens are reported under, in the scenario, its manifests and its runbooks. */
export const MESH_RULE = 'mesh-variables-known';

export const DEFAULT_ISTIO_NAMESPACE = 'istio-system';
const DEFAULT_REVISION = 'default';

/**
 * The names of a control plane installed in `namespace` as `revision` (absent or `default`: the default
 * install), as the chart names them: Deployment and Service `istiod[-<rev>]`, pods labelled
 * `app: istiod` and `istio.io/rev: <rev or default>`.
 */
export function meshVariablesFor(control: { namespace?: string; revision?: string } = {}): MeshVariables {
  const namespace = control.namespace ?? DEFAULT_ISTIO_NAMESPACE;
  const rev = control.revision === undefined || control.revision === DEFAULT_REVISION ? '' : control.revision;
  const istiod = rev ? `istiod-${rev}` : 'istiod';
  const revision = rev || DEFAULT_REVISION;
  return {
    namespace,
    revision,
    istiodDeployment: istiod,
    istiodService: istiod,
    istiodSelector: `app=istiod,istio.io/rev=${revision}`,
  };
}

export const DEFAULT_MESH_VARIABLES: MeshVariables = meshVariablesFor();

const TOKEN = /\$\{mesh\.([^}]*)\}/g;

function isKnown(name: string): name is MeshVariableName {
  return Object.hasOwn(MESH_VARIABLE_DOCS, name);
}

/** Replaces every known `${mesh.NAME}`; unknown ones stay (findUnknownMesh reports them). */
export function expandMesh(text: string, vars: MeshVariables): string {
  if (!text.includes('${mesh.')) return text;
  return text.replace(TOKEN, (whole, name: string) => (isKnown(name) ? vars[name] : whole));
}

/** The unknown `${mesh.…}` tokens of a text, with their offsets. */
export function findUnknownMesh(text: string): { token: string; index: number }[] {
  if (!text.includes('${mesh.')) return [];
  return [...text.matchAll(TOKEN)]
    .filter((m) => !isKnown(m[1] ?? ''))
    .map((m) => ({ token: m[0], index: m.index ?? 0 }));
}

/** What to say about an unknown token: the names there are. */
export function unknownMeshMessage(token: string): string {
  const known = MESH_VARIABLE_NAMES.map((n) => `\${mesh.${n}}`).join(', ');
  return `expected a control-plane variable (${known}), got ${JSON.stringify(token)}; see docs/scenario-format.md "Control-plane variables"`;
}

/** The 1-based line of an offset in a text. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

type DataPath = (string | number)[];

/** Every unknown token inside a JSON-like value (strings and keys), with the path of the string holding it. */
export function findUnknownMeshDeep(
  value: unknown,
  path: DataPath = [],
): { path: DataPath; token: string }[] {
  if (typeof value === 'string') return findUnknownMesh(value).map(({ token }) => ({ path, token }));
  if (Array.isArray(value)) return value.flatMap((v, i) => findUnknownMeshDeep(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      ...findUnknownMesh(k).map(({ token }) => ({ path: [...path, k], token })),
      ...findUnknownMeshDeep(v, [...path, k]),
    ]);
  }
  return [];
}

/** Applies expandMesh to every string and key inside a JSON-like value (a copy; the input is untouched). */
export function expandMeshDeep<T>(value: T, vars: MeshVariables): T {
  return mapDeep(value, vars) as T;
}

function mapDeep(value: unknown, vars: MeshVariables): unknown {
  if (typeof value === 'string') return expandMesh(value, vars);
  if (Array.isArray(value)) return value.map((v) => mapDeep(v, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [expandMesh(k, vars), mapDeep(v, vars)]));
  }
  return value;
}
