// The Envoy-like proxy (sidecar or gateway): starts its parts over one shared state (state.ts), stops them.
//   listeners.ts     outbound, inbound (TLS sniffing, mTLS) and gateway listeners
//   outbound.ts      the sidecar's outbound requests → routing.ts (route, fault, router.ts: retries…)
//   inbound.ts       the sidecar's inbound requests → the app (mTLS mode, peer identity, authorization)
//   admin-server.ts  readiness, Prometheus stats and the Envoy admin API
//   sources.ts       certificates and configuration (istiod or files) → apply-config.ts
// Imperative shell around the pure route table, authz and stats modules.

import type net from 'node:net';
import type { ProxyConfig } from '../model/proxy-config.js';
import { createAdminServers } from './admin-server.js';
import { applyConfig } from './apply-config.js';
import { closeServer, createInboundListener, createOutboundServer, listen } from './listeners.js';
import { DEFAULT_PORTS, type ProxyOptions, type ProxyPorts } from './options.js';
import { startCertificates, startConfigSource } from './sources.js';
import { createProxyState } from './state.js';
import type { ProxyStats } from './stats.js';

export { DEFAULT_PORTS, type ProxyOptions, type ProxyPorts } from './options.js';
export { splitAbsoluteUrl } from './outbound.js';

export interface RunningProxy {
  readonly stats: ProxyStats;
  config(): ProxyConfig | undefined;
  ready(): boolean;
  close(): Promise<void>;
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const ports: ProxyPorts = { ...DEFAULT_PORTS, ...options.ports };
  const state = createProxyState(options);
  const closers: (() => void | Promise<void>)[] = [() => state.chaos.stop(), () => state.outliers.stop()];

  const outboundServer = createOutboundServer(state);
  const inbound = createInboundListener(state);
  const admin = createAdminServers(state);
  const servers: [net.Server, number][] = [
    [admin.stats, ports.stats],
    [admin.ready, ports.ready],
    [admin.admin, ports.admin],
  ];
  if (options.mode === 'sidecar') {
    servers.push([outboundServer, ports.outbound], [inbound.server, ports.inbound]);
  }
  for (const [server, port] of servers) await listen(server, port, options.podIP);

  state.certs = startCertificates(state, inbound.refreshTls);
  // The provider may have loaded material before `certs` was assigned: apply it now.
  inbound.refreshTls();
  closers.push(() => state.certs?.stop());
  closers.push(startConfigSource(state, (next) => applyConfig(state, next)));

  return {
    stats: state.stats,
    config: () => state.config,
    ready: () => state.config !== undefined,
    async close() {
      for (const c of closers) await c();
      state.pool.close();
      inbound.destroySockets();
      await Promise.all([...servers.map(([s]) => s), ...state.gatewayServers.values()].map(closeServer));
    },
  };
}
