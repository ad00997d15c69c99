// Memory that follows configuration size, as Envoy's does (ISTIO-FACTS.md "Sidecar memory and OOM"): each
// cluster, endpoint and route holds a resident, touched buffer sized like Envoy's per-object cost, so a flood
// of visible services really raises RSS (and the kubelet's OOM kill is real) while a Sidecar scope lowers it.

import type { ProxyConfig } from '../model/proxy-config.js';

export interface ResidentCosts {
  bytesPerCluster: number;
  bytesPerEndpoint: number;
  bytesPerRoute: number;
}

/**
 * Defaults in the range measured for Envoy with Istio's stats (tens of KiB per cluster once its stats, load
 * balancer and connection-pool structures exist). Override with MESHDRILL_PROXY_BYTES_PER_{CLUSTER,ENDPOINT,ROUTE}.
 */
export const DEFAULT_COSTS: ResidentCosts = {
  bytesPerCluster: 64 * 1024,
  bytesPerEndpoint: 2 * 1024,
  bytesPerRoute: 4 * 1024,
};

export function costsFromEnv(env: NodeJS.ProcessEnv): ResidentCosts {
  const read = (key: string, fallback: number): number => {
    const v = Number(env[key]);
    return Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  return {
    bytesPerCluster: read('MESHDRILL_PROXY_BYTES_PER_CLUSTER', DEFAULT_COSTS.bytesPerCluster),
    bytesPerEndpoint: read('MESHDRILL_PROXY_BYTES_PER_ENDPOINT', DEFAULT_COSTS.bytesPerEndpoint),
    bytesPerRoute: read('MESHDRILL_PROXY_BYTES_PER_ROUTE', DEFAULT_COSTS.bytesPerRoute),
  };
}

export class ResidentConfig {
  /** Per cluster name: one buffer sized by the cluster and its endpoints. Kept across pushes when unchanged. */
  private readonly clusters = new Map<string, Buffer>();
  private routes: Buffer = Buffer.alloc(0);

  constructor(private readonly costs: ResidentCosts) {}

  apply(config: ProxyConfig): void {
    const seen = new Set<string>();
    for (const c of config.clusters) {
      seen.add(c.name);
      const size = this.costs.bytesPerCluster + c.endpoints.length * this.costs.bytesPerEndpoint;
      const current = this.clusters.get(c.name);
      // Filled, not zeroed: zero pages can stay unmapped and would not count in RSS.
      if (!current || current.length !== size)
        this.clusters.set(c.name, Buffer.alloc(size, c.name.length % 251 || 1));
    }
    for (const name of [...this.clusters.keys()]) if (!seen.has(name)) this.clusters.delete(name);
    const routeCount =
      config.virtualHosts.reduce((n, v) => n + v.routes.length, 0) +
      config.gateway.reduce((n, l) => n + l.virtualHosts.reduce((m, v) => m + v.routes.length, 0), 0);
    const routeBytes = routeCount * this.costs.bytesPerRoute;
    if (this.routes.length !== routeBytes) this.routes = Buffer.alloc(routeBytes, 7);
  }

  residentBytes(): number {
    let total = this.routes.length;
    for (const b of this.clusters.values()) total += b.length;
    return total;
  }
}
