// The proxy's state: everything its parts share, created once by startProxy (proxy.ts) and handed to each
// part. Each field says who writes it and who reads it. What only one part uses stays inside that part
// (the inbound listener's sockets and TLS server, routing.ts's virtual host cache).

import type { Http1Server } from '../../programs/lib/http1/index.js';
import type {
  ClusterConfig,
  InboundPort,
  ProxyConfig,
  RouteConfig,
  WorkloadMeta,
} from '../model/proxy-config.js';
import type { CertProvider } from './cert-agent.js';
import { type ProxyOptions, trustDomainOf } from './options.js';
import { costsFromEnv, ResidentConfig } from './resident-config.js';
import { type ChaosHooks, NO_CHAOS, startChaosHooks } from './resilience/chaos-hooks.js';
import { CpuBudget } from './resilience/cpu-budget.js';
import { CircuitBreakers } from './resilience/circuit-breaker.js';
import { OutlierDetectors } from './resilience/outlier.js';
import type { RouteIndex } from './route-table.js';
import type { RouterContext } from './router.js';
import { ProxyStats } from './stats.js';
import { encodePeerMetadata, UpstreamPool } from './upstream.js';

/** The inbound cluster `inbound|PORT||` of a port and service, with its route and this proxy's metadata. */
export interface InboundRoute {
  cluster: ClusterConfig;
  route: RouteConfig;
  selfMetadata: string;
}

export interface ProxyState {
  /** Written: startProxy. Read: every part (mode, pod IP, namespace, passthrough resolver). */
  readonly options: ProxyOptions;
  /** Where access log lines go. Written: createProxyState. Read: record.ts, listeners.ts (warnings). */
  readonly log: (line: string) => void;
  /**
   * Who this proxy is, in metrics and peer metadata. Written: createProxyState (from the options), then
   * apply-config.ts in place (istiod's view of the workload). Read: inbound.ts, routing.ts, stats.
   */
  readonly self: WorkloadMeta;
  /** Written: createProxyState. Read: record.ts (requests), admin-server.ts, sources.ts, apply-config.ts. */
  readonly stats: ProxyStats;
  /** Network faults, the pod's clock. Written: createProxyState. Read: inbound.ts, listeners.ts, router. */
  readonly chaos: ChaosHooks;
  /** Written: createProxyState. Read: apply-config.ts (each config), admin-server.ts (/memory). */
  readonly resident: ResidentConfig;
  /** Upstream connections. Written: createProxyState. Read: router, inbound.ts, listeners.ts (rotation). */
  readonly pool: UpstreamPool;
  /** Written: createProxyState. Read: router.ts, admin-server.ts (/clusters). */
  readonly breakers: CircuitBreakers;
  /** Written: createProxyState; synced by apply-config.ts. Read: router.ts, admin-server.ts (/clusters). */
  readonly outliers: OutlierDetectors;
  /** What router.ts's forwardToCluster needs. Written: createProxyState. Read: routing.ts, inbound.ts. */
  readonly router: RouterContext;
  /**
   * The config in force; undefined until the first one arrives. Written: apply-config.ts. Read: inbound.ts
   * (ports, mTLS modes, authorization), routing.ts (gateway authorization), listeners.ts (TLS sniffing),
   * admin-server.ts (readiness, config_dump, clusters), startProxy (config(), ready()).
   */
  config: ProxyConfig | undefined;
  /** The sidecar's outbound route table. Written: apply-config.ts. Read: outbound.ts. */
  outboundIndex: RouteIndex | undefined;
  /** Gateway route tables by listen port. Written: listeners.ts (ensureGatewayListeners). Read: the same. */
  readonly gatewayIndexes: Map<number, RouteIndex>;
  /** Gateway listeners by listen port. Written: listeners.ts (ensureGatewayListeners). Read: proxy.ts. */
  readonly gatewayServers: Map<number, Http1Server>;
  /**
   * The workload certificate provider. Written: startProxy (once sources.ts has started it). Read: the
   * upstream pool (mTLS), listeners.ts (the inbound TLS context), admin-server.ts (readiness, config_dump,
   * certs).
   */
  certs: CertProvider | undefined;
  /**
   * The metadata-exchange header this proxy sends, encoded again only when istiod's view of the workload
   * changes. Written: createProxyState, apply-config.ts. Read: routing.ts.
   */
  peerMetadata: string;
  /**
   * inboundPortFor per (Host, original destination), for the current config. Written: inbound.ts (fills),
   * apply-config.ts (clears). Read: inbound.ts.
   */
  readonly inboundPorts: Map<string, InboundPort | undefined>;
  /**
   * The inbound cluster and route per (port, service), built once per config. Written: inbound.ts (fills),
   * apply-config.ts (clears). Read: inbound.ts.
   */
  readonly inboundRoutes: Map<string, InboundRoute>;
}

function selfOf(options: ProxyOptions): WorkloadMeta {
  return {
    name: options.podName,
    namespace: options.namespace,
    app: options.podName,
    version: 'unknown',
    principal: `${trustDomainOf(options)}/ns/${options.namespace}/sa/${options.serviceAccount}`,
    serviceAccount: options.serviceAccount,
  };
}

function createStats(self: WorkloadMeta, options: ProxyOptions): ProxyStats {
  const stats = new ProxyStats(self);
  // The data plane's version as Prometheus sees it (merged metrics on :15020), like the real agent's.
  if (options.istioVersion) stats.build.set({ component: 'proxy', tag: options.istioVersion }, 1);
  stats.setStatsMatcher(
    options.statsMatcher ?? {
      inclusionRegexps: options.statsInclusionRegexps ?? [],
      inclusionPrefixes: [],
      inclusionSuffixes: [],
    },
  );
  return stats;
}

function createChaos(options: ProxyOptions, log: (line: string) => void): ChaosHooks {
  return options.chaosFiles && (options.chaosFiles.networkFaults || options.chaosFiles.timeOffset)
    ? startChaosHooks(options.chaosFiles, log)
    : NO_CHAOS;
}

/** The process's memory and uptime, refreshed whenever the stats are collected. */
function exportProcessStats(stats: ProxyStats, started: number): void {
  stats.registry.onCollect(() => {
    const mem = process.memoryUsage();
    stats.memoryAllocated.set({}, mem.heapUsed + mem.external + mem.arrayBuffers);
    stats.memoryHeapSize.set({}, mem.rss);
    stats.uptime.set({}, Math.floor((Date.now() - started) / 1000));
  });
}

function createOutliers(stats: ProxyStats): OutlierDetectors {
  return new OutlierDetectors((cluster, event, active) => {
    stats.setClusterGauge('envoy_cluster_outlier_detection_ejections_active', cluster, active);
    if (event === 'eject')
      stats.incCluster('envoy_cluster_outlier_detection_ejections_enforced_total', cluster);
    if (event === 'overflow') stats.incCluster('envoy_cluster_outlier_detection_ejections_overflow', cluster);
  });
}

export function createProxyState(options: ProxyOptions): ProxyState {
  const log = options.log ?? (() => undefined);
  const self = selfOf(options);
  const stats = createStats(self, options);
  const chaos = createChaos(options, log);
  const resident = new ResidentConfig(options.costs ?? costsFromEnv(process.env));
  exportProcessStats(stats, Date.now());
  const pool = new UpstreamPool(
    () => state.certs?.current(),
    options.connectTimeoutMs ?? 1000,
    () => chaos.offsetMs(),
    (name, cluster) => stats.incCluster(name, cluster),
  );
  const breakers = new CircuitBreakers();
  const outliers = createOutliers(stats);
  const state: ProxyState = {
    options,
    log,
    self,
    stats,
    chaos,
    resident,
    pool,
    breakers,
    outliers,
    router: {
      pool,
      breakers,
      outliers,
      chaos,
      stat: (name, cluster) => stats.incCluster(name, cluster),
      ...(options.cpu ? { cpu: new CpuBudget(options.cpu) } : {}),
    },
    config: undefined,
    outboundIndex: undefined,
    gatewayIndexes: new Map(),
    gatewayServers: new Map(),
    certs: undefined,
    peerMetadata: encodePeerMetadata(self, options.podIP),
    inboundPorts: new Map(),
    inboundRoutes: new Map(),
  };
  return state;
}
