// The inputs of the config builder: every Kubernetes and Istio object istiod watches, as plain objects,
// plus small pure helpers (labels, names, hosts) shared by the builder's parts.

import type { KubeObject } from '../../../../harness/model/index.js';
import type { WorkloadMeta } from '../model/proxy-config.js';
import { asArray, asRecord, asString, asStringMap } from '../model/read.js';

export interface MeshSnapshot {
  services: KubeObject[];
  endpoints: KubeObject[];
  pods: KubeObject[];
  namespaces: KubeObject[];
  virtualServices: KubeObject[];
  destinationRules: KubeObject[];
  gateways: KubeObject[];
  serviceEntries: KubeObject[];
  sidecars: KubeObject[];
  peerAuthentications: KubeObject[];
  authorizationPolicies: KubeObject[];
  /** telemetry.istio.io Telemetry objects (config/telemetry.ts). */
  telemetries: KubeObject[];
}

export interface MeshOptions {
  /** Istio's root namespace: mesh-wide PeerAuthentication and default Sidecar live here. */
  rootNamespace: string;
  trustDomain: string;
  /** Auto-mTLS is on by default in Istio. */
  autoMtls: boolean;
}

export const DEFAULT_MESH_OPTIONS: MeshOptions = {
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  autoMtls: true,
};

export function emptySnapshot(): MeshSnapshot {
  return {
    services: [],
    endpoints: [],
    pods: [],
    namespaces: [],
    virtualServices: [],
    destinationRules: [],
    gateways: [],
    serviceEntries: [],
    sidecars: [],
    peerAuthentications: [],
    authorizationPolicies: [],
    telemetries: [],
  };
}

export function nameOf(o: KubeObject): string {
  return o.metadata.name ?? '';
}

export function namespaceOf(o: KubeObject): string {
  return o.metadata.namespace ?? 'default';
}

export function specOf(o: KubeObject): Record<string, unknown> {
  return asRecord(o.spec);
}

/** Istio `selector.matchLabels` / `workloadSelector.labels`: every listed label must be equal. */
export function matchesLabels(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function serviceFqdn(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

/**
 * Resolves a host as written in an Istio object (short `reviews`, `reviews.ns`, FQDN) to an FQDN, relative to
 * the object's namespace — Istio's rule for VirtualService and DestinationRule hosts.
 */
export function qualifyHost(host: string, namespace: string): string {
  if (host.includes('*')) return host;
  const parts = host.split('.');
  if (parts.length === 1) return serviceFqdn(host, namespace);
  if (parts.length === 2) return serviceFqdn(parts[0] as string, parts[1] as string);
  if (parts.length === 3 && parts[2] === 'svc') return `${host}.cluster.local`;
  return host;
}

/** Host matching with Istio wildcards (`*`, `*.example.com`). */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** The Deployment name of a pod, derived from its ReplicaSet owner as Istio's workload name is. */
export function workloadNameOf(pod: KubeObject): string {
  const owners = asArray(pod.metadata.ownerReferences).map(asRecord);
  const owner = owners.find((o) => o.controller === true) ?? owners[0];
  const ownerName = asString(owner?.name);
  const ownerKind = asString(owner?.kind);
  if (ownerName && ownerKind === 'ReplicaSet') {
    const hash = asStringMap(pod.metadata.labels)['pod-template-hash'];
    if (hash && ownerName.endsWith(`-${hash}`)) return ownerName.slice(0, -hash.length - 1);
    return ownerName.replace(/-[a-z0-9]{5,10}$/, '');
  }
  if (ownerName) return ownerName;
  return nameOf(pod);
}

export function workloadMetaOf(pod: KubeObject, trustDomain: string): WorkloadMeta {
  const labels = asStringMap(pod.metadata.labels);
  const sa = asString(asRecord(pod.spec).serviceAccountName) ?? 'default';
  const ns = namespaceOf(pod);
  const name = workloadNameOf(pod);
  return {
    name,
    namespace: ns,
    app: labels['app'] ?? labels['app.kubernetes.io/name'] ?? name,
    version: labels['version'] ?? labels['app.kubernetes.io/version'] ?? 'latest',
    principal: `${trustDomain}/ns/${ns}/sa/${sa}`,
    serviceAccount: sa,
  };
}

/** A pod carries a sidecar when it has an `istio-proxy` container (regular or native-sidecar init). */
/**
 * Whether the pod runs a sidecar: an `istio-proxy` container, unless it runs `proxy router` — a gateway's
 * Envoy, which listens on its container ports itself (no traffic capture to an inbound port 15006).
 */
export function hasSidecar(pod: KubeObject): boolean {
  const spec = asRecord(pod.spec);
  const containers = [...asArray(spec.containers), ...asArray(spec.initContainers)].map(asRecord);
  return containers.some((c) => c.name === 'istio-proxy' && !asArray(c.args).includes('router'));
}

export function podIpOf(pod: KubeObject): string | undefined {
  return asString(asRecord(pod.status).podIP);
}
