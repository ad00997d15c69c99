// Garbage collector: deletes objects whose controller owner is gone (background propagation), found both
// when an owner is deleted and by a periodic sweep for orphans left by a crash or a race.

import { StoreError, type ObjectStore, type ResourceKey, type StoredObject } from '../store/types.js';
import { RESOURCES } from './resources.js';

export interface GarbageCollector {
  sweep(): Promise<number>;
  stop(): void;
}

/** Kinds that own others, and kinds that are owned, in this emulation. */
const OWNER_KINDS: Record<string, ResourceKey> = {
  Deployment: RESOURCES.deployments,
  ReplicaSet: RESOURCES.replicasets,
  Job: RESOURCES.jobs,
  Service: RESOURCES.services,
};
const DEPENDENT_KEYS: ResourceKey[] = [
  RESOURCES.replicasets,
  RESOURCES.pods,
  RESOURCES.endpointslices,
  RESOURCES.endpoints,
];

function isOwnerGone(store: ObjectStore, object: StoredObject): boolean {
  const refs = object.metadata.ownerReferences ?? [];
  if (refs.length === 0) return false;
  // As in Kubernetes: an object is garbage only when *all* its owners are gone.
  return refs.every((ref) => {
    const key = OWNER_KINDS[ref.kind];
    if (!key) return false;
    const owner = store.get(key, object.metadata.namespace, ref.name);
    return owner === undefined || owner.metadata.uid !== ref.uid;
  });
}

export function startGarbageCollector(store: ObjectStore, sweepIntervalMs = 2000): GarbageCollector {
  let stopped = false;
  let sweeping: Promise<number> | undefined;

  const collect = async (key: ResourceKey, object: StoredObject): Promise<boolean> => {
    try {
      await store.delete(key, object.metadata.namespace, object.metadata.name);
      return true;
    } catch (error) {
      if (error instanceof StoreError && error.code === 404) return false;
      throw error;
    }
  };

  const sweep = async (): Promise<number> => {
    let removed = 0;
    for (const key of DEPENDENT_KEYS) {
      for (const object of store.list(key).items) {
        if (stopped) return removed;
        if (object.metadata.deletionTimestamp === undefined && isOwnerGone(store, object)) {
          if (await collect(key, object)) removed++;
        }
      }
    }
    return removed;
  };
  const sweepOnce = (): Promise<number> => {
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };

  const watches = Object.values(OWNER_KINDS).map((key) =>
    store.watch(key, { sinceResourceVersion: store.currentResourceVersion() }, (event) => {
      if (event.type === 'DELETED') void sweepOnce().catch(() => undefined);
    }),
  );
  const timer = setInterval(() => void sweepOnce().catch(() => undefined), sweepIntervalMs);
  timer.unref();

  return {
    sweep: sweepOnce,
    stop(): void {
      stopped = true;
      clearInterval(timer);
      for (const w of watches) w.stop();
    },
  };
}
