// The kind cluster config as a pure builder: a node image pinned by digest per Kubernetes version, the ingress
// gateway's NodePort mapped to a host port (127.0.0.1 only), optional workers.

import { invalidInput } from '../../harness/model/index.js';

/**
 * Node images built for kind v0.30.0, from its release notes ("Images pre-built for this release"). kind supports
 * an image only with the release that built it: with another kind release, pass `node-image=` from that
 * release's notes. Istio 1.30 needs Kubernetes ≥ 1.32.
 */
export const KIND_RELEASE = 'v0.30.0';
export const KIND_NODE_IMAGES: Readonly<Record<string, string>> = {
  '1.34': 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a',
  '1.33': 'kindest/node:v1.33.4@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2',
  '1.32': 'kindest/node:v1.32.8@sha256:abd489f042d2b644e2d033f5c2d900bc707798d075e8186cb65e3f1367a9d5a1',
  '1.31': 'kindest/node:v1.31.12@sha256:0f5cc49c5e73c0c2bb6e2df56e7df189240d83cf94edfa30946482eb08ec57d2',
};
export const DEFAULT_K8S_VERSION = '1.34';

/** The pinned node image for a Kubernetes minor (`1.33` or `v1.33.4`). */
export function nodeImageFor(k8sVersion: string): string {
  const minor = k8sVersion.replace(/^v/, '').split('.').slice(0, 2).join('.');
  const image = KIND_NODE_IMAGES[minor];
  if (!image) {
    throw invalidInput(
      `--target-opt k8s-version: expected one of ${Object.keys(KIND_NODE_IMAGES).join(', ')}, got "${k8sVersion}"`,
      `or pass --target-opt node-image=kindest/node:vX.Y.Z@sha256:… from your kind release's notes`,
    );
  }
  return image;
}

export interface KindClusterConfig {
  name: string;
  nodeImage: string;
  workers: number;
  /** NodePort of the ingress gateway's HTTP port, inside the node container. */
  ingressNodePort: number;
  /** Host port it is published on (127.0.0.1). */
  ingressHostPort: number;
}

export function buildKindConfig(config: KindClusterConfig): Record<string, unknown> {
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: config.name,
    nodes: [
      {
        role: 'control-plane',
        image: config.nodeImage,
        // kube-proxy answers a NodePort on every node, so mapping the control plane's port is enough.
        extraPortMappings: [
          {
            containerPort: config.ingressNodePort,
            hostPort: config.ingressHostPort,
            listenAddress: '127.0.0.1',
            protocol: 'TCP',
          },
        ],
      },
      ...Array.from({ length: config.workers }, () => ({ role: 'worker', image: config.nodeImage })),
    ],
  };
}

/**
 * `kind create cluster` for meshdrill (pure): kind writes the new context into `scratchKubeconfig`, never into
 * the user's ~/.kube/config, and waits for the control plane.
 */
export function buildKindCreateArgs(name: string, configFile: string, scratchKubeconfig: string): string[] {
  return [
    'create',
    'cluster',
    '--name',
    name,
    '--config',
    configFile,
    '--wait',
    '180s',
    '--kubeconfig',
    scratchKubeconfig,
  ];
}

/** The names `kind get clusters` printed (pure; it prints "No kind clusters found." on stderr when none). */
export function parseKindClusters(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^No kind clusters found/i.test(l));
}

/** The release in `kind version` output (`kind v0.30.0 go1.24.6 linux/amd64`). */
export function parseKindVersion(stdout: string): string | undefined {
  return stdout.match(/\bv\d+\.\d+\.\d+\S*/)?.[0];
}
