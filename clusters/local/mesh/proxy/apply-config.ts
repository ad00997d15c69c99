// A new config (from istiod's stream or the config file, sources.ts) taking effect: the state every part
// reads is replaced at once, and the caches derived from the previous config are dropped.

import type { ProxyConfig } from '../model/proxy-config.js';
import { ensureGatewayListeners } from './listeners.js';
import { indexRoutes } from './route-table.js';
import type { ProxyState } from './state.js';
import type { ProxyStats } from './stats.js';
import { encodePeerMetadata } from './upstream.js';

function countClusterChanges(stats: ProxyStats, previous: ProxyConfig | undefined, next: ProxyConfig): void {
  const before = new Set(previous?.clusters.map((c) => c.name) ?? []);
  const after = new Set(next.clusters.map((c) => c.name));
  stats.clusterAdded.inc({}, [...after].filter((n) => !before.has(n)).length);
  stats.clusterRemoved.inc({}, [...before].filter((n) => !after.has(n)).length);
}

/** Applies a validated config; returns an error text to NACK (never: a validated config always applies). */
export function applyConfig(state: ProxyState, next: ProxyConfig): string | undefined {
  const { stats } = state;
  countClusterChanges(stats, state.config, next);
  // istiod knows the workload (owner, labels): from now on metrics use its view of who we are.
  Object.assign(state.self, next.node.workload);
  state.peerMetadata = encodePeerMetadata(state.self, state.options.podIP);
  state.inboundRoutes.clear();
  state.inboundPorts.clear();
  state.config = next;
  state.outboundIndex = indexRoutes(next, next.virtualHosts);
  state.outliers.sync(next.clusters);
  state.resident.apply(next);
  stats.setMetricsConfig(next.metrics);
  stats.activeClusters.set({}, next.clusters.length);
  stats.cdsUpdateSuccess.inc();
  if (state.options.mode === 'router') void ensureGatewayListeners(state, next);
  return undefined;
}
