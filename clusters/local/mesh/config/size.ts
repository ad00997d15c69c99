// How much configuration a proxy holds: the quantity real Envoy memory follows (clusters, endpoints, routes).

import type { ConfigSize, ProxyConfig } from '../model/proxy-config.js';

export function measureConfigSize(config: ProxyConfig): ConfigSize {
  const hosts = [...config.virtualHosts, ...config.gateway.flatMap((l) => l.virtualHosts)];
  return {
    clusters: config.clusters.length,
    endpoints: config.clusters.reduce((n, c) => n + c.endpoints.length, 0),
    routes: hosts.reduce((n, h) => n + h.routes.length, 0),
    virtualHosts: hosts.length,
    bytes: Buffer.byteLength(JSON.stringify(config)),
  };
}
