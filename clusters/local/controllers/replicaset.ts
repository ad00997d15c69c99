// ReplicaSet controller: keeps spec.replicas pods alive (creating from the template, deleting the least
// useful first), reports FailedCreate when admission rejects a pod, and writes the ReplicaSet status.

import { StoreError, type ObjectStore } from '../store/types.js';
import type { EventRecorder } from './events.js';
import type { Pod, ReplicaSet } from './kube-types.js';
import { controllerOf, isPodFinished, isPodReady, isPodTerminating, ownerReferenceTo } from './kube-types.js';
import { matchesSelector } from './labels.js';
import { RESOURCES } from './resources.js';
import { type ControllerLoop, objectKey, splitKey, startControllerLoop } from './work-queue.js';

const SOURCE = { component: 'replicaset-controller' };

/** Deletion order of surplus pods: unscheduled, pending, not ready, then the newest (controller.ActivePods). */
export function rankForDeletion(pods: Pod[]): Pod[] {
  const score = (p: Pod): number =>
    !p.spec.nodeName ? 0 : p.status?.phase === 'Pending' ? 1 : !isPodReady(p) ? 2 : 3;
  return [...pods].sort((a, b) => {
    const d = score(a) - score(b);
    if (d !== 0) return d;
    return a.metadata.creationTimestamp < b.metadata.creationTimestamp ? 1 : -1;
  });
}

function availableFor(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return ready !== undefined && now - Date.parse(ready.lastTransitionTime) >= minReadySeconds * 1000;
}

/** Creates the missing pods; returns the admission error that stopped it, if any (after recording it). */
async function createMissingPods(
  store: ObjectStore,
  events: EventRecorder,
  rs: ReplicaSet,
  count: number,
): Promise<unknown> {
  const template = rs.spec.template;
  for (let i = 0; i < count; i++) {
    try {
      const pod = await store.create(RESOURCES.pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: `${rs.metadata.name}-`,
          namespace: rs.metadata.namespace,
          labels: { ...(template.metadata?.labels ?? {}) },
          ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
          ownerReferences: [ownerReferenceTo(rs)],
        },
        spec: structuredClone(template.spec),
      });
      events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, {
        source: SOURCE,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      events.record(rs, 'Warning', 'FailedCreate', `Error creating: ${message}`, { source: SOURCE });
      return error;
    }
  }
  return undefined;
}

async function deleteSurplusPods(
  store: ObjectStore,
  events: EventRecorder,
  rs: ReplicaSet,
  active: Pod[],
  count: number,
): Promise<void> {
  for (const pod of rankForDeletion(active).slice(0, count)) {
    await store.delete(RESOURCES.pods, rs.metadata.namespace, pod.metadata.name).catch((e: unknown) => {
      if (!(e instanceof StoreError && e.code === 404)) throw e;
    });
    events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, { source: SOURCE });
  }
}

function activePodsOf(store: ObjectStore, rs: ReplicaSet): Pod[] {
  return (store.list(RESOURCES.pods, { namespace: rs.metadata.namespace }).items as Pod[]).filter(
    (p) => controllerOf(p)?.uid === rs.metadata.uid && !isPodTerminating(p) && !isPodFinished(p),
  );
}

/** Writes the status of the pods as they are now; pods not yet available long enough bring a recheck. */
async function writeReplicaSetStatus(
  store: ObjectStore,
  rs: ReplicaSet,
  key: string,
  loop: () => ControllerLoop,
): Promise<void> {
  const now = Date.now();
  const current = activePodsOf(store, rs);
  const minReady = rs.spec.minReadySeconds ?? 0;
  const status = {
    replicas: current.length,
    fullyLabeledReplicas: current.filter((p) =>
      matchesSelector({ matchLabels: rs.spec.template.metadata?.labels ?? {} }, p.metadata.labels),
    ).length,
    readyReplicas: current.filter(isPodReady).length,
    availableReplicas: current.filter((p) => availableFor(p, minReady, now)).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  if (minReady > 0 && status.readyReplicas > status.availableReplicas) loop().enqueue(key, minReady * 1000);
  const fresh = store.get(RESOURCES.replicasets, rs.metadata.namespace, rs.metadata.name);
  if (fresh && JSON.stringify(fresh.status) !== JSON.stringify(status)) {
    await store.updateStatus(RESOURCES.replicasets, { ...fresh, status });
  }
}

async function reconcileReplicaSet(
  store: ObjectStore,
  events: EventRecorder,
  key: string,
  loop: () => ControllerLoop,
): Promise<void> {
  const { namespace, name } = splitKey(key);
  const rs = store.get(RESOURCES.replicasets, namespace, name) as ReplicaSet | undefined;
  if (!rs || rs.metadata.deletionTimestamp) return;
  const active = activePodsOf(store, rs);
  const desired = rs.spec.replicas ?? 1;
  let failed: unknown;
  if (active.length < desired) failed = await createMissingPods(store, events, rs, desired - active.length);
  else if (active.length > desired)
    await deleteSurplusPods(store, events, rs, active, active.length - desired);
  // The status is written even when a create failed, so it shows the pods that do exist.
  await writeReplicaSetStatus(store, rs, key, loop);
  if (failed !== undefined) throw failed;
}

export function startReplicaSetController(store: ObjectStore, events: EventRecorder): ControllerLoop {
  const loop: ControllerLoop = startControllerLoop({
    name: 'replicaset',
    store,
    sources: [
      { key: RESOURCES.replicasets, toKeys: (e) => [objectKey(e.object)] },
      {
        key: RESOURCES.pods,
        toKeys: (e) => {
          const owner = controllerOf(e.object);
          return owner?.kind === 'ReplicaSet' ? [`${e.object.metadata.namespace}/${owner.name}`] : [];
        },
      },
    ],
    initialKeys: () => store.list(RESOURCES.replicasets).items.map(objectKey),
    reconcile: (key) => reconcileReplicaSet(store, events, key, () => loop),
  });
  return loop;
}
