// Where the kube-proxy stand-in learns each pod's NetworkChaos rules: the chaos controller publishes a table per
// store (pod IP → the rules of that pod's file), standing in for netem sitting on every pod's interface, and
// publishes it again whenever a rule changes. Pods whose traffic a sidecar carries are left out of the table:
// their sidecar applies their rules (applied once). The kube-proxy runs on a thread of its own, so it is handed
// the whole table on each change rather than asking per connection.

import type { NetworkFaultRule } from '../chaos-hooks.js';
import type { ObjectStore } from '../store/types.js';

/** pod IP → the rules the kube-proxy applies to that pod's traffic. */
export type PodFaultTable = ReadonlyMap<string, NetworkFaultRule[]>;

const EMPTY: PodFaultTable = new Map();
const tables = new WeakMap<ObjectStore, PodFaultTable>();
const subscribers = new WeakMap<ObjectStore, Set<(table: PodFaultTable) => void>>();

/** Replaces the store's table (undefined: no Chaos Mesh any more) and tells every subscriber. */
export function publishPodFaults(store: ObjectStore, table: PodFaultTable | undefined): void {
  if (table) tables.set(store, table);
  else tables.delete(store);
  for (const notify of subscribers.get(store) ?? []) notify(table ?? EMPTY);
}

/** Calls `notify` with the current table now and with each new one; returns the unsubscribe. */
export function watchPodFaults(store: ObjectStore, notify: (table: PodFaultTable) => void): () => void {
  let set = subscribers.get(store);
  if (!set) {
    set = new Set();
    subscribers.set(store, set);
  }
  set.add(notify);
  notify(tables.get(store) ?? EMPTY);
  return () => set.delete(notify);
}

/** The rules of a pod IP in this store's cluster ([] without Chaos Mesh or without faults). */
export function podFaults(store: ObjectStore, podIP: string): NetworkFaultRule[] {
  return tables.get(store)?.get(podIP) ?? [];
}
