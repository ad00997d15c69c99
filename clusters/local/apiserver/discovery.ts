// Discovery documents: aggregated discovery (what kubectl reads), resource lists (what client-node reads to map
// kind → plural), group lists and /version. Pure functions of the resource registry.

import { type ResourceDefinition, type Subresource, servedResources } from '../store/index.js';

export const AGGREGATED_DISCOVERY_TYPE =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

const SUBRESOURCE_VERBS: Record<Subresource, string[]> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  log: ['get'],
  exec: ['create', 'get'],
};

function subresourceKind(def: ResourceDefinition, sub: Subresource, version: string) {
  if (sub === 'scale') return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  if (sub === 'exec') return { group: '', version: 'v1', kind: 'PodExecOptions' };
  return { group: def.group, version, kind: def.kind };
}

/** Groups in discovery order: core first, then the others as they appear in the registry. */
export function listGroups(): { name: string; versions: string[] }[] {
  const groups: { name: string; versions: string[] }[] = [];
  for (const def of servedResources()) {
    let group = groups.find((g) => g.name === def.group);
    if (!group) {
      group = { name: def.group, versions: [] };
      groups.push(group);
    }
    for (const v of def.versions) if (!group.versions.includes(v)) group.versions.push(v);
  }
  return groups;
}

function resourcesIn(group: string, version: string): ResourceDefinition[] {
  return servedResources().filter((r) => r.group === group && r.versions.includes(version));
}

function discoveryResource(def: ResourceDefinition, version: string) {
  return {
    resource: def.plural,
    responseKind: { group: def.group, version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: def.verbs,
    ...(def.shortNames.length > 0 ? { shortNames: def.shortNames } : {}),
    ...(def.categories.length > 0 ? { categories: def.categories } : {}),
    ...(def.subresources.length > 0
      ? {
          subresources: def.subresources.map((sub) => ({
            subresource: sub,
            responseKind: subresourceKind(def, sub, version),
            verbs: SUBRESOURCE_VERBS[sub],
          })),
        }
      : {}),
  };
}

/** The apidiscovery.k8s.io/v2 list for `/api` (core only) or `/apis` (every named group). */
export function buildAggregatedDiscovery(core: boolean) {
  const items = listGroups()
    .filter((g) => (g.name === '') === core)
    .map((g) => ({
      metadata: { name: g.name, creationTimestamp: null },
      versions: g.versions.map((version) => ({
        version,
        resources: resourcesIn(g.name, version).map((def) => discoveryResource(def, version)),
        freshness: 'Current',
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}

/** The APIResourceList of `/api/v1` or `/apis/G/V`, or undefined when that group/version is not served. */
export function buildResourceList(group: string, version: string) {
  const defs = resourcesIn(group, version);
  if (defs.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const def of defs) {
    resources.push({
      name: def.plural,
      singularName: def.singular,
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: def.verbs,
      ...(def.shortNames.length > 0 ? { shortNames: def.shortNames } : {}),
      ...(def.categories.length > 0 ? { categories: def.categories } : {}),
    });
    for (const sub of def.subresources) {
      const kind = subresourceKind(def, sub, version);
      resources.push({
        name: `${def.plural}/${sub}`,
        singularName: '',
        namespaced: def.namespaced,
        ...(kind.group !== def.group ? { group: kind.group, version: kind.version } : {}),
        kind: kind.kind,
        verbs: SUBRESOURCE_VERBS[sub],
      });
    }
  }
  const groupVersion = group === '' ? version : `${group}/${version}`;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function groupDocument(g: { name: string; versions: string[] }) {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

export function buildGroupList() {
  const groups = listGroups()
    .filter((g) => g.name !== '')
    .map(groupDocument);
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function buildGroup(name: string) {
  const g = listGroups().find((x) => x.name === name && name !== '');
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(g) } : undefined;
}

export function buildCoreVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function buildVersion(version: { major: string; minor: string }) {
  return {
    major: version.major,
    minor: version.minor,
    gitVersion: `v${version.major}.${version.minor}.0-meshdrill`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
