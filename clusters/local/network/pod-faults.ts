// Where the kube-proxy stand-in learns each pod's NetworkChaos rules: the chaos controller registers a lookup per
// store (pod IP → the rules of that pod's file), standing in for netem sitting on every pod's interface. Pods whose
// traffic a sidecar carries are left out by the lookup: their sidecar applies their rules (applied once).

import type { NetworkFaultRule } from '../chaos-hooks.js';
import type { ObjectStore } from '../store/types.js';

export type PodFaultLookup = (podIP: string) => NetworkFaultRule[];

const lookups = new WeakMap<ObjectStore, PodFaultLookup>();

export function registerPodFaultLookup(store: ObjectStore, lookup: PodFaultLookup | undefined): void {
  if (lookup) lookups.set(store, lookup);
  else lookups.delete(store);
}

/** The rules of a pod IP in this store's cluster ([] without Chaos Mesh or without faults). */
export function podFaults(store: ObjectStore, podIP: string): NetworkFaultRule[] {
  return lookups.get(store)?.(podIP) ?? [];
}
