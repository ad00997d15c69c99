// The local target's kubelet: one Ready node, a scheduler that binds pods to it, a PodWorker per pod (each
// container an OS process on the pod's loopback IP), memory limits enforced from real RSS, and the
// PodRuntime the API server uses for logs, exec and metrics. This file only wires the parts over one
// KubeletState (state.ts); each part lives in the module named for it.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventRecorder } from '../controllers/events.js';
import type { PodRuntime } from '../pod-runtime.js';
import { createBaseEnv } from './base-env.js';
import { publishRuntimeSocket } from './chaos-hooks.js';
import { type ContainerExec, createContainerExec } from './exec.js';
import { createHostLookup } from './host-lookup.js';
import { createIpPool, type IpPool } from './ip-pool.js';
import { createContainerLogs } from './logs.js';
import { startMemoryMonitor } from './memory-monitor.js';
import { registerNode } from './node-status.js';
import { NODE_NAME, type KubeletOptions } from './options.js';
import type { PodWorker, PodWorkerDeps } from './pod-worker.js';
import { startPodSync } from './pod-sync.js';
import { killAll, kubeletPids } from './processes.js';
import { createRuntimeSocket } from './runtime-socket.js';
import { createKubeletState, type KubeletState, podKey } from './state.js';

export interface Kubelet extends PodRuntime {
  readonly nodeName: string;
  readonly events: EventRecorder;
  /** PIDs of every live process the kubelet started (containers and exec sessions). */
  pids(): number[];
  /** Waits until a pod's worker exists (tests). */
  worker(namespace: string, name: string): PodWorker | undefined;
  stop(): Promise<void>;
}

/** What every PodWorker is handed: the shared state's parts, the options' knobs, and exec for probes. */
function podWorkerDeps(
  state: KubeletState,
  options: KubeletOptions,
  exec: ContainerExec,
  env: Pick<PodWorkerDeps, 'baseEnv' | 'hostLookup'>,
): PodWorkerDeps {
  return {
    store: state.store,
    events: state.events,
    images: options.images,
    bundler: options.bundler,
    nodeName: state.nodeName,
    hostIP: state.hostIP,
    podsDir: join(options.workDir, 'pods'),
    backoffScale: options.backoffScale ?? 1,
    logCapBytes: options.logCapBytes ?? 1024 * 1024,
    pulledImages: new Set<string>(),
    baseEnv: env.baseEnv,
    hostLookup: env.hostLookup,
    execInContainer: exec.execInContainer,
  };
}

export async function startKubelet(options: KubeletOptions): Promise<Kubelet> {
  const state = createKubeletState(options.store, options.nodeName ?? NODE_NAME);
  const pool: IpPool = createIpPool(options.podCidr);
  mkdirSync(join(options.workDir, 'pods'), { recursive: true });
  await registerNode(state.store, state.nodeName);

  const env = { baseEnv: createBaseEnv(options, state.nodeName), hostLookup: createHostLookup() };
  const exec = createContainerExec(state, { images: options.images, bundler: options.bundler, ...env });
  const podSync = startPodSync(state, podWorkerDeps(state, options, exec, env), pool);
  const monitor = startMemoryMonitor(state, options.memorySampleMs ?? 250);
  publishRuntimeSocket(state.store, createRuntimeSocket(state, options.bundler));

  return {
    nodeName: state.nodeName,
    events: state.events,
    ...createContainerLogs(state),
    exec: exec.exec,
    podMetrics: () => monitor.podMetrics(),
    pids: () => kubeletPids(state),
    worker: (namespace, name) => state.workers.get(podKey(namespace, name)),
    async stop(): Promise<void> {
      state.stopped = true;
      publishRuntimeSocket(state.store, undefined);
      podSync.stop();
      monitor.stop();
      await killAll(state);
    },
  };
}
