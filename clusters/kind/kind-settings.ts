// The kind target's settings (`--target-opt key=value`), documented in one table that docs/targets.md mirrors.

import { type SettingDoc, SettingsReader } from '../shared/index.js';
import { STACK_SETTING_DOCS, type StackSettings, readStackSettings } from '../shared/index.js';
import { DEFAULT_WORKLOAD_IMAGES } from '../shared/index.js';
import { DEFAULT_K8S_VERSION, type KindClusterConfig, nodeImageFor } from './kind-config.js';

export const KIND_SETTING_DOCS: readonly SettingDoc[] = [
  { key: 'cluster-name', description: 'name of the kind cluster', default: 'meshdrill' },
  { key: 'reuse', description: 'reuse a cluster of that name if it exists (else refuse)', default: 'true' },
  {
    key: 'keep',
    description: 'keep the cluster after the run (a reused cluster is always kept)',
    default: 'false',
  },
  {
    key: 'k8s-version',
    description: 'Kubernetes minor of the nodes: 1.31, 1.32, 1.33 or 1.34',
    default: DEFAULT_K8S_VERSION,
  },
  { key: 'node-image', description: 'explicit node image (overrides k8s-version), pinned by digest' },
  { key: 'workers', description: 'number of worker nodes besides the control plane', default: '0' },
  {
    key: 'ingress-host-port',
    description: 'host port (127.0.0.1) the ingress gateway is published on',
    default: '8080',
  },
  { key: 'runtime', description: '`docker` or `podman` (default: whichever runs)' },
  {
    key: 'preload-images',
    description: 'pull the workload images and load them into the nodes',
    default: 'true',
  },
  {
    key: 'images',
    description: 'comma-separated images to preload',
    default: DEFAULT_WORKLOAD_IMAGES.join(','),
  },
  ...STACK_SETTING_DOCS,
];

export interface KindSettings {
  cluster: KindClusterConfig;
  reuse: boolean;
  keep: boolean;
  runtime?: 'docker' | 'podman';
  preloadImages: boolean;
  images: string[];
  stack: StackSettings;
}

/** Resolves every setting or throws one invalid-input error listing every problem. */
export function readKindSettings(
  settings: Record<string, string>,
  istioVersion: string | undefined,
): KindSettings {
  const reader = new SettingsReader('kind', settings, KIND_SETTING_DOCS);
  const name = reader.name('cluster-name', 'meshdrill');
  const explicitImage = reader.string('node-image');
  const k8sVersion = reader.string('k8s-version', DEFAULT_K8S_VERSION);
  let nodeImage = explicitImage ?? '';
  if (!explicitImage) {
    try {
      nodeImage = nodeImageFor(k8sVersion);
    } catch (error) {
      reader.problem(error instanceof Error ? error.message : String(error));
    }
  }
  const runtime = reader.string('runtime');
  if (runtime !== undefined && runtime !== 'docker' && runtime !== 'podman') {
    reader.problem(`--target-opt runtime: expected docker or podman, got "${runtime}"`);
  }
  const stack = readStackSettings(reader, istioVersion, { ingressServiceType: 'NodePort', chaosMesh: true });
  const result: KindSettings = {
    cluster: {
      name,
      nodeImage,
      workers: reader.int('workers', 0, 0, 10),
      ingressNodePort: stack.istio.config.ingressNodePort,
      ingressHostPort: reader.int('ingress-host-port', 8080, 1, 65535),
    },
    reuse: reader.bool('reuse', true),
    keep: reader.bool('keep', false),
    ...(runtime === 'docker' || runtime === 'podman' ? { runtime } : {}),
    preloadImages: reader.bool('preload-images', true),
    images: reader.list('images', DEFAULT_WORKLOAD_IMAGES),
    stack,
  };
  reader.finish();
  return result;
}
