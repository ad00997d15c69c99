// Pod admission and teardown: the kubelet's watch on pods. An unbound pod goes to the scheduler; a pod bound to
// this node gets a PodWorker (its own IP from the pool); a terminating pod's containers are stopped with its grace
// period, then the pod is deleted for good (grace 0, uid precondition) and its IP and sandbox freed.

import type { Pod } from '../controllers/kube-types.js';
import { RESOURCES } from '../controllers/resources.js';
import { StoreError, type WatchEvent } from '../store/types.js';
import type { IpPool } from './ip-pool.js';
import { PodWorker, type PodWorkerDeps } from './pod-worker.js';
import { schedule } from './scheduler.js';
import { type KubeletState, podKey } from './state.js';

export interface PodSync {
  /** Stops watching pods (the workers keep running; the composer's teardown stops them). */
  stop(): void;
}

/** The grace period a deleting pod was given (deletionGracePeriodSeconds, else its spec's, else 30 s). */
function deletionGraceSeconds(pod: Pod): number {
  return typeof pod.metadata.deletionGracePeriodSeconds === 'number'
    ? pod.metadata.deletionGracePeriodSeconds
    : (pod.spec.terminationGracePeriodSeconds ?? 30);
}

export function startPodSync(state: KubeletState, workerDeps: PodWorkerDeps, pool: IpPool): PodSync {
  const { store, workers, nodeName } = state;

  /** Removes the pod from the store for good: grace 0, and only this pod (uid), not a new one of its name. */
  const deleteNow = (pod: Pod) =>
    store.delete(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name, {
      gracePeriodSeconds: 0,
      preconditions: { uid: pod.metadata.uid },
    });

  const finishDeletion = async (worker: PodWorker, graceSeconds: number): Promise<void> => {
    await worker.terminate(graceSeconds);
    pool.release(worker.podIP);
    worker.removeSandbox();
    workers.delete(worker.key);
    const meta = worker.pod.metadata;
    const current = store.get(RESOURCES.pods, meta.namespace, meta.name);
    if (current && current.metadata.uid === meta.uid) {
      await deleteNow(worker.pod).catch((e: unknown) => {
        if (!(e instanceof StoreError && (e.code === 404 || e.code === 409))) throw e;
      });
    }
  };

  const onTerminating = (pod: Pod, worker: PodWorker | undefined): void => {
    if (worker) {
      worker.pod = pod;
      void finishDeletion(worker, deletionGraceSeconds(pod)).catch(() => undefined);
    } else {
      void deleteNow(pod).catch(() => undefined);
    }
  };

  const admit = (pod: Pod, key: string): void => {
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const created = new PodWorker(pod, pool.allocate(), workerDeps);
    workers.set(key, created);
    created.start();
  };

  const onPod = (event: WatchEvent): void => {
    if (state.stopped) return;
    const pod = event.object as Pod;
    const key = podKey(pod.metadata.namespace, pod.metadata.name);
    const worker = workers.get(key);
    if (event.type === 'DELETED') {
      // Force-deleted (or finished by us): stop what still runs, with a short grace as the kubelet does.
      if (worker && worker.pod.metadata.uid === pod.metadata.uid)
        void finishDeletion(worker, 2).catch(() => undefined);
      return;
    }
    if (worker && worker.pod.metadata.uid !== pod.metadata.uid) return; // an old pod of the same name still stopping
    if (!pod.spec.nodeName) {
      if (!pod.metadata.deletionTimestamp) void schedule(state, pod).catch(() => undefined);
      return;
    }
    if (pod.spec.nodeName !== nodeName) return;
    if (pod.metadata.deletionTimestamp) onTerminating(pod, worker);
    else if (worker) worker.applySpec(pod);
    else admit(pod, key);
  };

  const existing = store.list(RESOURCES.pods);
  const watch = store.watch(RESOURCES.pods, { sinceResourceVersion: existing.resourceVersion }, onPod);
  for (const pod of existing.items) onPod({ type: 'ADDED', object: pod });
  return { stop: () => watch.stop() };
}
