// What the kubelet is started with (the local target's wiring and the tests set these).

import type { Pod } from '../controllers/kube-types.js';
import type { ProgramBundler } from '../programs/bundler.js';
import type { ImageRegistry } from '../programs/registry.js';
import type { ObjectStore } from '../store/types.js';

/** The node's name when the options name none. */
export const NODE_NAME = 'meshdrill-local';

export interface KubeletOptions {
  store: ObjectStore;
  images: ImageRegistry;
  bundler: ProgramBundler;
  /** Directory for pod sandboxes (container working directories). */
  workDir: string;
  /** File the cluster DNS emulation keeps up to date; handed to containers as MESHDRILL_CLUSTER_DNS_FILE. */
  clusterDnsFile: string;
  nodeName?: string;
  podCidr?: string;
  /** Multiplies CrashLoopBackOff and image-pull back-off delays (tests and drills use < 1). Default 1. */
  backoffScale?: number;
  /** RSS sampling period for memory limits and metrics. Default 250 ms. */
  memorySampleMs?: number;
  /** Per container instance. Default 1 MiB. */
  logCapBytes?: number;
  /** Where in-pod clients reach the API server (KUBERNETES_SERVICE_HOST/PORT). */
  apiServer?: { host: string; port: number };
  /** Extra environment for every container (the mesh may add its own). */
  extraEnv?: (pod: Pod, container: string) => Record<string, string>;
}
