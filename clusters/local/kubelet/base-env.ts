// The emulation's variables every container starts from (MESHDRILL_*, PATH, the API server's address, the
// per-pod chaos hook files); the pod spec's env is layered on top by env.ts.

import { NETWORK_FAULTS_ENV, TIME_OFFSET_ENV } from '../chaos-hooks.js';
import type { Pod } from '../controllers/kube-types.js';
import { podChaosFiles } from './chaos-hooks.js';
import type { KubeletOptions } from './options.js';

export type BaseEnv = (pod: Pod, podIP: string, container: string) => Record<string, string>;

type BaseEnvOptions = Pick<KubeletOptions, 'apiServer' | 'clusterDnsFile' | 'workDir' | 'extraEnv'>;

function apiServerEnv(apiServer: KubeletOptions['apiServer']): Record<string, string> {
  if (!apiServer) return {};
  return {
    KUBERNETES_SERVICE_HOST: apiServer.host,
    KUBERNETES_SERVICE_PORT: String(apiServer.port),
    KUBERNETES_PORT: `tcp://${apiServer.host}:${apiServer.port}`,
  };
}

export function createBaseEnv(options: BaseEnvOptions, nodeName: string): BaseEnv {
  return (pod, podIP, container) => ({
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOSTNAME: pod.metadata.name,
    ...apiServerEnv(options.apiServer),
    MESHDRILL_POD_IP: podIP,
    MESHDRILL_POD_NAME: pod.metadata.name,
    MESHDRILL_POD_NAMESPACE: pod.metadata.namespace ?? 'default',
    MESHDRILL_POD_UID: pod.metadata.uid,
    MESHDRILL_CONTAINER_NAME: container,
    MESHDRILL_NODE_NAME: nodeName,
    MESHDRILL_CLUSTER_DNS_FILE: options.clusterDnsFile,
    // Per-pod chaos hooks (clusters/local/chaos-hooks.ts): the files may not exist; then there is no fault.
    [NETWORK_FAULTS_ENV]: podChaosFiles(options.workDir, pod).networkFaults,
    [TIME_OFFSET_ENV]: podChaosFiles(options.workDir, pod).timeOffset,
    ...(options.extraEnv?.(pod, container) ?? {}),
  });
}
