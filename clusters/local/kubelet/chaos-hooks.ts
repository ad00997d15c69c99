// The node-side hooks Chaos Mesh's chaos-daemon needs, standing in for its containerd socket: where each pod's
// chaos-hook files live, and a per-store "runtime socket" through which the chaos controller kills containers and
// starts processes accounted inside a container (as chaos-daemon enters a container's cgroup and namespaces).

import { join } from 'node:path';
import type { ObjectStore } from '../store/types.js';

/** A pod's sandbox directory under the kubelet's work dir (the kubelet removes it when the pod goes). */
export function podSandboxDir(
  workDir: string,
  pod: { metadata: { namespace?: string; name: string; uid: string } },
) {
  const meta = pod.metadata;
  return join(workDir, 'pods', `${meta.namespace ?? 'default'}_${meta.name}_${meta.uid.slice(0, 8)}`);
}

/** The per-pod files of clusters/local/chaos-hooks.ts, handed to every container of the pod. */
export function podChaosFiles(
  workDir: string,
  pod: { metadata: { namespace?: string; name: string; uid: string } },
): { dir: string; networkFaults: string; timeOffset: string } {
  const dir = join(podSandboxDir(workDir, pod), 'chaos');
  return {
    dir,
    networkFaults: join(dir, 'network-faults.json'),
    timeOffset: join(dir, 'time-offset.json'),
  };
}

export interface AttachedProcess {
  pid: number;
  /** Stops the process (SIGKILL to its group); resolves once it exited. */
  stop(): Promise<void>;
  /** Resolves when the process exited for any reason (the container died with it, or it finished). */
  exited: Promise<void>;
}

export type ContainerLookup =
  | { ok: true; kind: 'regular' | 'init' | 'sidecar'; running: boolean; pid: number | undefined }
  | { ok: false; reason: string };

/** What the kubelet offers the chaos controller (the emulation's CRI socket). */
export interface ContainerRuntimeSocket {
  /** The container as the runtime knows it (`kind: sidecar` = a native sidecar init container). */
  lookup(namespace: string, pod: string, container: string): ContainerLookup;
  /** Sends a signal to the container's whole process tree (container-kill uses SIGKILL, as `crictl stop -t 0`). */
  signal(namespace: string, pod: string, container: string, signal: NodeJS.Signals): boolean;
  /**
   * Starts a process inside the container's resource accounting: its RSS counts towards the container's memory
   * limit (so the OOM enforcement sees it) and it dies with the container, as a process in the container's cgroup.
   * `program` is a bundled TypeScript entry or an absolute host binary.
   */
  attachProcess(
    namespace: string,
    pod: string,
    container: string,
    program: { entry: string } | { path: string },
    args: string[],
  ): Promise<AttachedProcess>;
}

const sockets = new WeakMap<ObjectStore, ContainerRuntimeSocket>();

/** The kubelet publishes its socket for the store it serves (one node per store). */
export function publishRuntimeSocket(store: ObjectStore, socket: ContainerRuntimeSocket | undefined): void {
  if (socket) sockets.set(store, socket);
  else sockets.delete(store);
}

/** The node runtime of a store's cluster, once its kubelet runs. */
export function connectRuntimeSocket(store: ObjectStore): ContainerRuntimeSocket | undefined {
  return sockets.get(store);
}
