// The CustomResourceDefinitions a cluster serves, read from their upstream files unchanged (Istio's crd-all, Chaos
// Mesh's crd.yaml, k6-operator's TestRun): which group/version/kind exists, whether that version is served, and
// its structural schema. `validateCustomResource` refuses what a real API server refuses, in its words.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JSON_SCHEMA, loadAll } from 'js-yaml';
import {
  formatViolation,
  type SchemaNode,
  type SchemaViolation,
  validateStructural,
} from './structural-schema.js';

/**
 * The upstream CRD files meshdrill ships, byte for byte as released (test/clusters/crd-schemas.test.ts compares
 * them with ../shared/crds): Istio 1.30.3's crd-all, Chaos Mesh 2.8.3's crd.yaml, k6-operator 1.6.0's TestRun.
 */
export const UPSTREAM_CRD_DIR = fileURLToPath(new URL('./upstream/', import.meta.url));

export function upstreamCrdFiles(): string[] {
  return readdirSync(UPSTREAM_CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `${UPSTREAM_CRD_DIR}${f}`);
}

let upstream: CrdCatalog | undefined;

/** The catalog of the shipped CRD files, read once per process (≈ 0.3 s: 4 MB of YAML) when first needed. */
export function upstreamCrdCatalog(): CrdCatalog {
  upstream ??= loadCrdCatalog(upstreamCrdFiles());
  return upstream;
}

export interface CrdVersion {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  served: boolean;
  schema: SchemaNode;
}

/** What a CRD tells an API server to serve: its names, scope, served versions and subresources. */
export interface CrdDefinition {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** The served versions, highest priority first (the first is the group's preferred version). */
  versions: string[];
  /** The subresources any served version declares (`status`, `scale`). */
  subresources: ('status' | 'scale')[];
}

export interface CrdCatalog {
  /** The version of `apiVersion`/`kind`, if a loaded CRD defines it. */
  find(apiVersion: string, kind: string): CrdVersion | undefined;
  /** Whether a loaded CRD owns this API group (then an unknown kind or version in it is refused). */
  ownsGroup(group: string): boolean;
  versions(): CrdVersion[];
  /** One entry per loaded CRD, in file order. */
  definitions(): CrdDefinition[];
  /** The CustomResourceDefinition objects as the files hold them, in file order (what `kubectl get crd` lists). */
  documents(): Record<string, unknown>[];
}

interface CrdDocument {
  kind?: string;
  spec?: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; plural: string; singular?: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      schema?: { openAPIV3Schema?: SchemaNode };
      subresources?: { status?: unknown; scale?: unknown };
    }[];
  };
}

export function loadCrdCatalog(files: readonly string[]): CrdCatalog {
  const byKey = new Map<string, CrdVersion>();
  const groups = new Set<string>();
  const definitions: CrdDefinition[] = [];
  const documents: Record<string, unknown>[] = [];
  for (const file of files) {
    // js-yaml: four times faster than the yaml package on these 4 MB, and CRD files use nothing beyond JSON.
    for (const doc of loadAll(readFileSync(file, 'utf8'), null, { schema: JSON_SCHEMA })) {
      const crd = doc as CrdDocument | null;
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      const { group, names, scope } = crd.spec;
      groups.add(group);
      definitions.push(definitionOf(crd.spec));
      documents.push(crd as Record<string, unknown>);
      for (const v of crd.spec.versions) {
        byKey.set(`${group}/${v.name}/${names.kind}`, {
          group,
          version: v.name,
          kind: names.kind,
          plural: names.plural,
          namespaced: scope === 'Namespaced',
          served: v.served,
          schema: v.schema?.openAPIV3Schema ?? {
            type: 'object',
            'x-kubernetes-preserve-unknown-fields': true,
          },
        });
      }
    }
  }
  return {
    find: (apiVersion, kind) => byKey.get(`${apiVersion}/${kind}`),
    ownsGroup: (group) => groups.has(group),
    versions: () => [...byKey.values()],
    definitions: () => definitions,
    documents: () => documents,
  };
}

function definitionOf(spec: NonNullable<CrdDocument['spec']>): CrdDefinition {
  const served = spec.versions.filter((v) => v.served);
  const subresources = (['status', 'scale'] as const).filter((sub) =>
    served.some((v) => v.subresources?.[sub] !== undefined),
  );
  return {
    group: spec.group,
    kind: spec.names.kind,
    plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    namespaced: spec.scope === 'Namespaced',
    shortNames: spec.names.shortNames ?? [],
    categories: spec.names.categories ?? [],
    versions: served.map((v) => v.name).sort(compareKubeVersions),
    subresources,
  };
}

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;
const STABILITY = { ga: 0, beta: 1, alpha: 2 } as const;

/**
 * Kubernetes' version priority (apimachinery's CompareKubeAwareVersionStrings), as a sort comparator: GA before
 * beta before alpha, higher numbers first within each; names that are not Kubernetes-like last, alphabetically.
 * The API server lists a CRD's versions in this order and prefers the first.
 */
export function compareKubeVersions(a: string, b: string): number {
  const pa = KUBE_VERSION.exec(a);
  const pb = KUBE_VERSION.exec(b);
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a.localeCompare(b);
  const sa = STABILITY[(pa[2] as 'alpha' | 'beta' | undefined) ?? 'ga'];
  const sb = STABILITY[(pb[2] as 'alpha' | 'beta' | undefined) ?? 'ga'];
  if (sa !== sb) return sa - sb;
  if (pa[1] !== pb[1]) return Number(pb[1]) - Number(pa[1]);
  return Number(pb[3] ?? 0) - Number(pa[3] ?? 0);
}

/**
 * What the API server says of this object: [] when it would be accepted, else one line per refusal
 * (`spec.hosts: Too many: 1500: must have at most 256 items`). Objects of groups no CRD owns are not judged here.
 */
export function validateCustomResource(catalog: CrdCatalog, object: Record<string, unknown>): string[] {
  const apiVersion = String(object.apiVersion ?? '');
  const kind = String(object.kind ?? '');
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  if (!catalog.ownsGroup(group)) return [];
  const version = catalog.find(apiVersion, kind);
  if (!version) return [`no matches for kind "${kind}" in version "${apiVersion}"`];
  if (!version.served)
    return [`the server could not find the requested resource (${apiVersion} ${kind} is not served)`];
  return schemaViolations(version, object).map(formatViolation);
}

/**
 * The object's violations of its version's schema. The API server checks apiVersion, kind and metadata itself;
 * with `skipStatus`, `.status` is left out too (what the status subresource writes is not judged here).
 */
export function schemaViolations(
  version: CrdVersion,
  object: Record<string, unknown>,
  options: { skipStatus?: boolean } = {},
): SchemaViolation[] {
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = object;
  if (options.skipStatus) delete rest.status;
  return validateStructural(rest, version.schema);
}
