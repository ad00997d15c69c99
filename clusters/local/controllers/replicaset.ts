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

async function reconcileReplicaSet(
  store: ObjectStore,
  events: EventRecorder,
  key: string,
  loop: () => ControllerLoop,
): Promise<void> {
  const { namespace, name } = splitKey(key);
  const rs = store.get(RESOURCES.replicasets, namespace, name) as ReplicaSet | undefined;
  if (!rs || rs.metadata.deletionTimestamp) return;
  const pods = (store.list(RESOURCES.pods, { namespace }).items as Pod[]).filter(
    (p) => controllerOf(p)?.uid === rs.metadata.uid,
  );
  const active = pods.filter((p) => !isPodTerminating(p) && !isPodFinished(p));
  const desired = rs.spec.replicas ?? 1;
  let failed: unknown;

  if (active.length < desired) {
    for (let i = active.length; i < desired; i++) {
      try {
        const template = rs.spec.template;
        const pod = await store.create(RESOURCES.pods, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            generateName: `${rs.metadata.name}-`,
            namespace,
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
        failed = error;
        break;
      }
    }
  } else if (active.length > desired) {
    for (const pod of rankForDeletion(active).slice(0, active.length - desired)) {
      await store.delete(RESOURCES.pods, namespace, pod.metadata.name).catch((e: unknown) => {
        if (!(e instanceof StoreError && e.code === 404)) throw e;
      });
      events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, {
        source: SOURCE,
      });
    }
  }

  const now = Date.now();
  const current = (store.list(RESOURCES.pods, { namespace }).items as Pod[]).filter(
    (p) => controllerOf(p)?.uid === rs.metadata.uid && !isPodTerminating(p) && !isPodFinished(p),
  );
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
  const fresh = store.get(RESOURCES.replicasets, namespace, name);
  if (fresh && JSON.stringify(fresh.status) !== JSON.stringify(status)) {
    await store.updateStatus(RESOURCES.replicasets, { ...fresh, status });
  }
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
