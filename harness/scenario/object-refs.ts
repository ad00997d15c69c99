// Kubernetes object references as users write them: apiVersion implied for well-known kinds, namespace
// defaulting to the scenario's for namespaced kinds.

import type { KubeObject } from '../model/index.js';
import type { ObjectRef } from '../model/index.js';
import type { ObjectRefInput } from './spec.js';

/** apiVersion of the kinds users name most; anything else must spell its apiVersion out. */
export const KNOWN_API_VERSIONS: Readonly<Record<string, string>> = {
  Pod: 'v1',
  Service: 'v1',
  Endpoints: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  Namespace: 'v1',
  Node: 'v1',
  ServiceAccount: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  Job: 'batch/v1',
  VirtualService: 'networking.istio.io/v1',
  DestinationRule: 'networking.istio.io/v1',
  Gateway: 'networking.istio.io/v1',
  ServiceEntry: 'networking.istio.io/v1',
  Sidecar: 'networking.istio.io/v1',
  PeerAuthentication: 'security.istio.io/v1',
  AuthorizationPolicy: 'security.istio.io/v1',
  PodChaos: 'chaos-mesh.org/v1alpha1',
  NetworkChaos: 'chaos-mesh.org/v1alpha1',
  StressChaos: 'chaos-mesh.org/v1alpha1',
  TimeChaos: 'chaos-mesh.org/v1alpha1',
};

/** Kinds that live outside namespaces: they never get the scenario namespace filled in. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'PriorityClass',
  'IngressClass',
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

export function resolveObjectRef(ref: ObjectRefInput, defaultNamespace: string): ObjectRef {
  const apiVersion = ref.apiVersion ?? KNOWN_API_VERSIONS[ref.kind] ?? '';
  const out: ObjectRef = { apiVersion, kind: ref.kind };
  if (!isClusterScoped(ref.kind)) out.namespace = ref.namespace ?? defaultNamespace;
  if (ref.name !== undefined) out.name = ref.name;
  if (ref.labelSelector !== undefined) out.labelSelector = ref.labelSelector;
  return out;
}

/** A copy of the object with `metadata.namespace` filled for namespaced kinds that lack one. */
export function withDefaultNamespace(object: KubeObject, namespace: string): KubeObject {
  if (isClusterScoped(object.kind) || object.metadata.namespace) return object;
  return { ...object, metadata: { ...object.metadata, namespace } };
}

/** The API group of an apiVersion: `chaos-mesh.org/v1alpha1` → `chaos-mesh.org`, `v1` → `` (core). */
export function apiGroupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
