// The registry of every resource the local target serves: discovery, routing and the store all read it.

import { type CrdDefinition, upstreamCrdCatalog } from '../../shared/crd/index.js';
import type { ResourceKey } from './types.js';

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';
export type Subresource = 'status' | 'scale' | 'log' | 'exec';

export interface ResourceDefinition {
  group: string;
  /** Served versions, preferred first. All versions share one storage (no schema conversion is needed). */
  versions: string[];
  /** Plural resource name, as in URLs. */
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: Verb[];
  categories: string[];
  subresources: Subresource[];
  /**
   * Where the objects come from: the store, or the pod runtime (metrics.k8s.io is computed on read, like the
   * real metrics-server, and never stored).
   */
  source: 'store' | 'runtime';
  /** Custom resources get merge patches from kubectl; built-ins get strategic merge patches. */
  custom: boolean;
  /** The storage this resource shares (`group/plural`); events.k8s.io events are core events, as upstream. */
  storage: string;
}

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ_VERBS: Verb[] = ['get', 'list'];

interface Spec {
  group: string;
  versions: string[];
  plural: string;
  kind: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources?: Subresource[];
  verbs?: Verb[];
  source?: 'store' | 'runtime';
  custom?: boolean;
  storage?: string;
}

function define(spec: Spec): ResourceDefinition {
  return {
    group: spec.group,
    versions: spec.versions,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    kind: spec.kind,
    namespaced: spec.namespaced ?? true,
    shortNames: spec.shortNames ?? [],
    verbs: spec.verbs ?? ALL_VERBS,
    categories: spec.categories ?? [],
    subresources: spec.subresources ?? [],
    source: spec.source ?? 'store',
    custom: spec.custom ?? false,
    storage: spec.storage ?? `${spec.group}/${spec.plural}`,
  };
}

/**
 * The kinds compiled into a real API server, in discovery order (core first, as a real server lists them). The
 * custom resources are not listed here: they come from the CRD files, as a real cluster learns them.
 */
const BUILT_IN: readonly ResourceDefinition[] = [
  define({
    group: '',
    versions: ['v1'],
    plural: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    subresources: ['status'],
  }),
  define({
    group: '',
    versions: ['v1'],
    plural: 'nodes',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    subresources: ['status'],
  }),
  define({
    group: '',
    versions: ['v1'],
    plural: 'pods',
    kind: 'Pod',
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'log', 'exec'],
  }),
  define({
    group: '',
    versions: ['v1'],
    plural: 'services',
    kind: 'Service',
    shortNames: ['svc'],
    categories: ['all'],
    subresources: ['status'],
  }),
  define({ group: '', versions: ['v1'], plural: 'endpoints', kind: 'Endpoints', shortNames: ['ep'] }),
  define({ group: '', versions: ['v1'], plural: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] }),
  define({ group: '', versions: ['v1'], plural: 'secrets', kind: 'Secret' }),
  define({
    group: '',
    versions: ['v1'],
    plural: 'serviceaccounts',
    kind: 'ServiceAccount',
    shortNames: ['sa'],
  }),
  define({ group: '', versions: ['v1'], plural: 'events', kind: 'Event', shortNames: ['ev'] }),
  define({
    group: 'apps',
    versions: ['v1'],
    plural: 'deployments',
    kind: 'Deployment',
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  define({
    group: 'apps',
    versions: ['v1'],
    plural: 'replicasets',
    kind: 'ReplicaSet',
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  define({
    group: 'batch',
    versions: ['v1'],
    plural: 'jobs',
    kind: 'Job',
    categories: ['all'],
    subresources: ['status'],
  }),
  define({ group: 'discovery.k8s.io', versions: ['v1'], plural: 'endpointslices', kind: 'EndpointSlice' }),
  define({
    group: 'events.k8s.io',
    versions: ['v1'],
    plural: 'events',
    kind: 'Event',
    shortNames: ['ev'],
    storage: '/events',
  }),
  define({ group: 'coordination.k8s.io', versions: ['v1'], plural: 'leases', kind: 'Lease' }),
  // Where Istio's injection webhooks live (one configuration per revision and per revision tag); the API server
  // calls those whose selectors match a new pod (mesh/injection/webhooks.ts).
  define({
    group: 'admissionregistration.k8s.io',
    versions: ['v1'],
    plural: 'mutatingwebhookconfigurations',
    kind: 'MutatingWebhookConfiguration',
    namespaced: false,
    categories: ['api-extensions'],
  }),
  // The CRDs the custom resources below come from, listed as a real server lists them (`kubectl get crd`, a
  // client checking that an operator is installed). Read-only: the kinds served are fixed when the target boots.
  define({
    group: 'apiextensions.k8s.io',
    versions: ['v1'],
    plural: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    verbs: ['get', 'list', 'watch'],
  }),
  define({
    group: 'metrics.k8s.io',
    versions: ['v1beta1'],
    plural: 'pods',
    kind: 'PodMetrics',
    verbs: READ_VERBS,
    source: 'runtime',
  }),
];

/** A custom resource served as its CRD defines it: every served version, all verbs, merge patches. */
function fromCrd(crd: CrdDefinition): ResourceDefinition {
  return {
    group: crd.group,
    versions: crd.versions,
    plural: crd.plural,
    singular: crd.singular,
    kind: crd.kind,
    namespaced: crd.namespaced,
    shortNames: crd.shortNames,
    verbs: ALL_VERBS,
    categories: crd.categories,
    subresources: crd.subresources,
    source: 'store',
    custom: true,
    storage: `${crd.group}/${crd.plural}`,
  };
}

let served: readonly ResourceDefinition[] | undefined;

/**
 * Every resource served, in discovery order: the built-ins, then every kind of Istio's, Chaos Mesh's and
 * k6-operator's CRD files (read on first use). Served even where the emulation does not act on a kind.
 */
export function servedResources(): readonly ResourceDefinition[] {
  served ??= [
    ...BUILT_IN,
    ...upstreamCrdCatalog()
      .definitions()
      .filter((crd) => crd.versions.length > 0)
      .map(fromCrd),
  ];
  return served;
}

/** Builds a key for a resource at its preferred version: `resourceKey('apps', 'deployments')`. */
export function resourceKey(group: string, plural: string, version?: string): ResourceKey {
  const def = servedResources().find((r) => r.group === group && r.plural === plural);
  const chosen = version ?? def?.versions[0] ?? 'v1';
  return { group, version: chosen, resource: plural };
}

/** The definition for a key, or undefined when the group/version/resource is not served. */
export function findResource(key: ResourceKey): ResourceDefinition | undefined {
  return servedResources().find(
    (r) => r.group === key.group && r.plural === key.resource && r.versions.includes(key.version),
  );
}

/** The definition serving a kind in an apiVersion (`apps/v1`, `v1`), for manifests and ownerReferences. */
export function findResourceByKind(apiVersion: string, kind: string): ResourceDefinition | undefined {
  const { group, version } = splitApiVersion(apiVersion);
  return servedResources().find((r) => r.group === group && r.kind === kind && r.versions.includes(version));
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function formatApiVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/**
 * Keys used by in-process callers, so they need not spell them out. Custom resources name their preferred version
 * here, so that importing this module does not read the CRD files (a test checks each is the preferred one).
 */
export const KEYS = {
  namespaces: resourceKey('', 'namespaces'),
  nodes: resourceKey('', 'nodes'),
  pods: resourceKey('', 'pods'),
  services: resourceKey('', 'services'),
  endpoints: resourceKey('', 'endpoints'),
  configmaps: resourceKey('', 'configmaps'),
  secrets: resourceKey('', 'secrets'),
  serviceaccounts: resourceKey('', 'serviceaccounts'),
  events: resourceKey('', 'events'),
  deployments: resourceKey('apps', 'deployments'),
  replicasets: resourceKey('apps', 'replicasets'),
  jobs: resourceKey('batch', 'jobs'),
  endpointslices: resourceKey('discovery.k8s.io', 'endpointslices'),
  leases: resourceKey('coordination.k8s.io', 'leases'),
  customresourcedefinitions: resourceKey('apiextensions.k8s.io', 'customresourcedefinitions'),
  virtualservices: resourceKey('networking.istio.io', 'virtualservices', 'v1'),
  destinationrules: resourceKey('networking.istio.io', 'destinationrules', 'v1'),
  gateways: resourceKey('networking.istio.io', 'gateways', 'v1'),
  serviceentries: resourceKey('networking.istio.io', 'serviceentries', 'v1'),
  sidecars: resourceKey('networking.istio.io', 'sidecars', 'v1'),
  peerauthentications: resourceKey('security.istio.io', 'peerauthentications', 'v1'),
  authorizationpolicies: resourceKey('security.istio.io', 'authorizationpolicies', 'v1'),
  podchaos: resourceKey('chaos-mesh.org', 'podchaos', 'v1alpha1'),
  stresschaos: resourceKey('chaos-mesh.org', 'stresschaos', 'v1alpha1'),
  networkchaos: resourceKey('chaos-mesh.org', 'networkchaos', 'v1alpha1'),
  timechaos: resourceKey('chaos-mesh.org', 'timechaos', 'v1alpha1'),
  httpchaos: resourceKey('chaos-mesh.org', 'httpchaos', 'v1alpha1'),
  testruns: resourceKey('k6.io', 'testruns', 'v1alpha1'),
} as const satisfies Record<string, ResourceKey>;
