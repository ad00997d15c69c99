// Builders of Kubernetes and Istio objects for the mesh tests (plain objects, as the API stores them).

import type { KubeObject } from '../../../harness/model/kube-object.js';
import { emptySnapshot, type MeshSnapshot } from '../../../clusters/local/mesh/config/index.js';

let clock = 0;
function stamp(): string {
  clock += 1;
  return new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString();
}

export function pod(
  name: string,
  namespace: string,
  ip: string,
  labels: Record<string, string>,
  options: { sidecar?: boolean; sa?: string; port?: number } = {},
): KubeObject {
  const containers: Record<string, unknown>[] = [
    { name: 'app', image: 'fortio/fortio', ports: [{ name: 'http', containerPort: options.port ?? 8080 }] },
  ];
  if (options.sidecar !== false) containers.push({ name: 'istio-proxy', image: 'istio/proxyv2' });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels,
      creationTimestamp: stamp(),
      ownerReferences: [
        {
          kind: 'ReplicaSet',
          name: `${labels.app ?? name}-${labels.version ?? 'v1'}-7d4b9c`,
          controller: true,
        },
      ],
    },
    spec: { serviceAccountName: options.sa ?? labels.app ?? 'default', containers },
    status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export function service(
  name: string,
  namespace: string,
  selector: Record<string, string>,
  port = 8080,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, creationTimestamp: stamp() },
    spec: { selector, ports: [{ name: 'http', port, targetPort: 8080 }] },
  };
}

export function istio(
  kind: string,
  name: string,
  namespace: string,
  spec: Record<string, unknown>,
): KubeObject {
  const group = ['PeerAuthentication', 'AuthorizationPolicy'].includes(kind) ? 'security' : 'networking';
  return {
    apiVersion: `${group}.istio.io/v1`,
    kind,
    metadata: { name, namespace, creationTimestamp: stamp() },
    spec,
  };
}

export function snapshot(parts: Partial<MeshSnapshot>): MeshSnapshot {
  return { ...emptySnapshot(), ...parts };
}
