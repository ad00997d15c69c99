// The state the kubelet's parts share, declared in one place. Each part (pod-sync, exec, logs, runtime socket,
// memory monitor, process view) is a factory over this object; the composer (kubelet.ts) creates it once.

import { createEventRecorder, type EventRecorder } from '../controllers/events.js';
import type { ObjectStore } from '../store/types.js';
import type { PodWorker } from './pod-worker.js';

export interface KubeletState {
  /** The cluster's object store. Set once by the composer; read by every part. */
  readonly store: ObjectStore;
  /** This node. Set once by the composer; read by pod-sync (binding, admission), exec (env), the socket. */
  readonly nodeName: string;
  /** The node's address (pods' hostIP). Constant; read by exec and the pod workers (container env, status). */
  readonly hostIP: string;
  /** Events as the kubelet records them. Created by the composer; written by pod-sync, the scheduler and the pod workers. */
  readonly events: EventRecorder;
  /**
   * The pod workers by "namespace/name". Written by pod-sync only (added at admission, removed once the pod is
   * gone) and cleared by the process view's teardown; read by exec, logs, the runtime socket, the memory monitor
   * and the process view.
   */
  readonly workers: Map<string, PodWorker>;
  /** PIDs of live `kubectl exec` sessions. Written by exec; read by the process view (pids, teardown). */
  readonly execPids: Set<number>;
  /** True once stop() began. Written by the composer's stop; read by pod-sync, which then ignores watch events. */
  stopped: boolean;
}

export function createKubeletState(store: ObjectStore, nodeName: string): KubeletState {
  return {
    store,
    nodeName,
    hostIP: '127.0.0.1',
    events: createEventRecorder(store, { component: 'kubelet', host: nodeName }),
    workers: new Map(),
    execPids: new Set(),
    stopped: false,
  };
}

/** The worker key of a pod (the `workers` map's key). */
export function podKey(namespace: string | undefined, name: string): string {
  return `${namespace}/${name}`;
}
