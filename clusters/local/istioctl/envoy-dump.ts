// Pure: the emulated proxy's configuration (mesh/model/proxy-config.ts) presented as the Envoy objects real
// istioctl reads from a config dump — clusters, route configurations, endpoints and SDS secrets — in protobuf
// JSON (camelCase), so `-o json | jq` recipes written against real Istio work here.

import type {
  ClusterConfig,
  ProxyConfig,
  RouteConfig,
  RouteMatch,
  StringMatch,
} from '../mesh/model/proxy-config.js';
import { asNumber, asRecord, asString } from '../mesh/model/read.js';

export type Json = Record<string, unknown>;

/** Where the DestinationRule applied to a host comes from, as istiod records it in cluster metadata. */
export type DestinationRuleLookup = (host: string) => { name: string; namespace: string } | undefined;

export interface EnvoyCluster extends Json {
  name: string;
  type: string;
}

export interface EnvoyRoute extends Json {
  match: Json;
}

export interface EnvoyVirtualHost extends Json {
  name: string;
  domains: string[];
  routes: EnvoyRoute[];
}

export interface EnvoyRouteConfiguration extends Json {
  name: string;
  virtualHosts: EnvoyVirtualHost[];
}

/** One endpoint of one cluster, as Envoy's /clusters admin endpoint reports it. */
export interface HostStatus {
  cluster: string;
  /** `IP:PORT`, or `unix://PATH` for a pipe. */
  endpoint: string;
  address: string;
  port: number;
  healthStatus: string;
  failedOutlierCheck: boolean;
}

const UNLIMITED = 4294967295;
const ISTIO_CONFIG_PREFIX = '/apis/networking.istio.io/v1alpha3/namespaces';

function isIp(address: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(address) || address.includes(':');
}

function staticCluster(name: string, type: string, extra: Json = {}): EnvoyCluster {
  return { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name, type, ...extra };
}

/** Istio's static and passthrough clusters (bootstrap and listener plumbing) every proxy carries. */
function plumbingClusters(config: ProxyConfig): EnvoyCluster[] {
  const out = [
    staticCluster('BlackHoleCluster', 'STATIC', { connectTimeout: '10s' }),
    staticCluster('agent', 'STATIC', { connectTimeout: '0.250s' }),
    staticCluster('prometheus_stats', 'STATIC', { connectTimeout: '0.250s' }),
    staticCluster('sds-grpc', 'STATIC', { connectTimeout: '1s' }),
    staticCluster('xds-grpc', 'STATIC', { connectTimeout: '1s' }),
  ];
  if (config.node.mode === 'sidecar') {
    out.push(
      staticCluster('InboundPassthroughCluster', 'ORIGINAL_DST', {
        connectTimeout: '10s',
        lbPolicy: 'CLUSTER_PROVIDED',
      }),
      staticCluster('PassthroughCluster', 'ORIGINAL_DST', {
        connectTimeout: '10s',
        lbPolicy: 'CLUSTER_PROVIDED',
      }),
    );
  }
  return out;
}

/** DestinationRule connectionPool → Envoy circuit breakers (Istio's defaults are effectively unlimited). */
function circuitBreakers(policy: Json): Json {
  const pool = asRecord(policy.connectionPool);
  const http = asRecord(pool.http);
  const tcp = asRecord(pool.tcp);
  return {
    thresholds: [
      {
        maxConnections: asNumber(tcp.maxConnections) ?? UNLIMITED,
        maxPendingRequests: asNumber(http.http1MaxPendingRequests) ?? UNLIMITED,
        maxRequests: asNumber(http.http2MaxRequests) ?? UNLIMITED,
        maxRetries: asNumber(http.maxRetries) ?? UNLIMITED,
        trackRemaining: true,
      },
    ],
  };
}

function outlierDetection(policy: Json): Json | undefined {
  const od = policy.outlierDetection;
  if (od === undefined) return undefined;
  const o = asRecord(od);
  return {
    consecutive5xx: asNumber(o.consecutive5xxErrors) ?? asNumber(o.consecutiveErrors) ?? 5,
    interval: asString(o.interval) ?? '10s',
    baseEjectionTime: asString(o.baseEjectionTime) ?? '30s',
    maxEjectionPercent: asNumber(o.maxEjectionPercent) ?? 10,
    enforcingConsecutive5xx: 100,
    enforcingSuccessRate: 0,
  };
}

function outboundCluster(c: ClusterConfig, lookupDr: DestinationRuleLookup): EnvoyCluster {
  const dns = c.endpoints.some((e) => !isIp(e.address));
  const dr = lookupDr(c.host);
  const od = outlierDetection(c.trafficPolicy);
  return {
    '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    name: c.name,
    type: dns ? 'STRICT_DNS' : 'EDS',
    ...(dns
      ? {}
      : {
          edsClusterConfig: {
            edsConfig: { ads: {}, initialFetchTimeout: '0s', resourceApiVersion: 'V3' },
            serviceName: c.name,
          },
        }),
    connectTimeout: asString(asRecord(asRecord(c.trafficPolicy.connectionPool).tcp).connectTimeout) ?? '10s',
    lbPolicy: 'LEAST_REQUEST',
    circuitBreakers: circuitBreakers(c.trafficPolicy),
    ...(od ? { outlierDetection: od } : {}),
    commonLbConfig: {},
    metadata: {
      filterMetadata: {
        istio: {
          ...(dr ? { config: `${ISTIO_CONFIG_PREFIX}/${dr.namespace}/destination-rule/${dr.name}` } : {}),
          services: [{ host: c.host, name: c.service.name, namespace: c.service.namespace }],
          ...(c.subset ? { subset: c.subset } : {}),
        },
      },
    },
    filters: [{ name: 'istio.metadata_exchange' }],
  };
}

/** Every cluster of the proxy, sorted as istioctl sorts them (host, subset, port, direction). */
export function buildEnvoyClusters(config: ProxyConfig, lookupDr: DestinationRuleLookup): EnvoyCluster[] {
  const clusters: EnvoyCluster[] = [
    ...config.clusters.map((c) => outboundCluster(c, lookupDr)),
    ...config.inbound.ports.map((p) =>
      staticCluster(`inbound|${p.targetPort}||`, 'ORIGINAL_DST', {
        connectTimeout: '10s',
        lbPolicy: 'CLUSTER_PROVIDED',
        metadata: { filterMetadata: { istio: { services: [{ host: p.service }] } } },
      }),
    ),
    ...plumbingClusters(config),
  ];
  const unique = new Map(clusters.map((c) => [c.name, c]));
  return [...unique.values()].sort((a, b) => compareSubsetKeys(a.name, b.name));
}

export interface SubsetKey {
  direction: string;
  port: number;
  subset: string;
  host: string;
}

/** `outbound|8080|v1|reviews.demo.svc.cluster.local` → its parts; other names are a host with no port. */
export function parseSubsetKey(name: string): SubsetKey | undefined {
  const parts = name.split('|');
  if (parts.length < 4) return undefined;
  return {
    direction: parts[0] ?? '',
    port: Number(parts[1] ?? 0) || 0,
    subset: parts[2] ?? '',
    host: parts.slice(3).join('|'),
  };
}

function compareSubsetKeys(a: string, b: string): number {
  const ka = parseSubsetKey(a) ?? { direction: '', port: 0, subset: '', host: a };
  const kb = parseSubsetKey(b) ?? { direction: '', port: 0, subset: '', host: b };
  const cmp = (x: string | number, y: string | number): number => (x < y ? -1 : x > y ? 1 : 0);
  return (
    cmp(ka.host, kb.host) ||
    cmp(ka.subset, kb.subset) ||
    cmp(ka.port, kb.port) ||
    cmp(ka.direction, kb.direction)
  );
}

/** The domains istiod puts on a sidecar's outbound virtual host: FQDN, short forms within reach, with ports. */
export function expandDomains(host: string, port: number, proxyNamespace: string): string[] {
  const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(host);
  if (!m) return [host, `${host}:${port}`];
  const [, name, ns] = m;
  const forms = [host, `${name}.${ns}.svc`, `${name}.${ns}`];
  if (ns === proxyNamespace) forms.splice(1, 0, name as string);
  return forms.flatMap((d) => [d, `${d}:${port}`]);
}

function stringMatcher(m: StringMatch): Json {
  if (m.kind === 'exact') return { exact: m.value };
  if (m.kind === 'prefix') return { prefix: m.value };
  return { safeRegex: { regex: m.value } };
}

function envoyMatches(route: RouteConfig): Json[] {
  const blocks: RouteMatch[] = route.match.length > 0 ? route.match : [{ headers: {} }];
  return blocks.map((m) => {
    const path: Json = !m.uri
      ? { prefix: '/' }
      : m.uri.kind === 'exact'
        ? { path: m.uri.value }
        : m.uri.kind === 'prefix'
          ? { prefix: m.uri.value }
          : { safeRegex: { regex: m.uri.value } };
    const headers = Object.entries(m.headers).map(([name, value]) => ({
      name,
      stringMatch: stringMatcher(value),
    }));
    if (m.method) headers.push({ name: ':method', stringMatch: stringMatcher(m.method) });
    return { ...path, caseSensitive: true, ...(headers.length > 0 ? { headers } : {}) };
  });
}

function envoyRouteAction(route: RouteConfig): Json {
  const first = route.clusters[0];
  const target =
    route.clusters.length === 1 && first
      ? { cluster: first.cluster }
      : {
          weightedClusters: {
            clusters: route.clusters.map((c) => ({ name: c.cluster, weight: c.weight })),
          },
        };
  const statusCodes = route.retries.retryOn
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  return {
    ...target,
    timeout: route.timeoutMs !== undefined ? `${route.timeoutMs / 1000}s` : '0s',
    retryPolicy: {
      retryOn: route.retries.retryOn,
      numRetries: route.retries.attempts,
      ...(route.retries.perTryTimeoutMs !== undefined
        ? { perTryTimeout: `${route.retries.perTryTimeoutMs / 1000}s` }
        : {}),
      retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
      hostSelectionRetryMaxAttempts: '5',
      ...(statusCodes.length > 0 ? { retriableStatusCodes: statusCodes } : {}),
    },
    maxGrpcTimeout: '0s',
  };
}

function vsPath(source: string): string | undefined {
  const [ns, name] = source.split('/');
  return ns && name ? `${ISTIO_CONFIG_PREFIX}/${ns}/virtual-service/${name}` : undefined;
}

function envoyRoutes(routes: RouteConfig[], vhostName: string): EnvoyRoute[] {
  return routes.flatMap((route) =>
    envoyMatches(route).map((match) => {
      const config = vsPath(route.source);
      const fault = route.fault;
      return {
        name: route.name,
        match,
        route: envoyRouteAction(route),
        ...(config ? { metadata: { filterMetadata: { istio: { config } } } } : {}),
        decorator: { operation: `${vhostName}/*` },
        ...(fault
          ? {
              typedPerFilterConfig: {
                'envoy.filters.http.fault': {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
                  ...(fault.abort
                    ? {
                        abort: {
                          httpStatus: fault.abort.httpStatus,
                          percentage: { numerator: fault.abort.percent },
                        },
                      }
                    : {}),
                  ...(fault.delay
                    ? {
                        delay: {
                          fixedDelay: `${fault.delay.fixedDelayMs / 1000}s`,
                          percentage: { numerator: fault.delay.percent },
                        },
                      }
                    : {}),
                },
              },
            }
          : {}),
      };
    }),
  );
}

function prefixRoute(prefix: string, cluster: string): EnvoyRoute {
  return { match: { prefix }, route: { cluster } };
}

/** A sidecar's outbound routes, one per port (`8080`), each ending with the `allow_any` passthrough host. */
function outboundRouteConfigs(config: ProxyConfig): EnvoyRouteConfiguration[] {
  const byPort = new Map<number, EnvoyVirtualHost[]>();
  for (const vh of config.virtualHosts) {
    const list = byPort.get(vh.port) ?? [];
    const host = vh.domains[0] ?? vh.name;
    list.push({
      name: vh.name,
      domains: expandDomains(host, vh.port, config.node.namespace),
      routes: envoyRoutes(vh.routes, vh.name),
      includeRequestAttemptCount: true,
    });
    byPort.set(vh.port, list);
  }
  return [...byPort.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([port, virtualHosts]) => {
      virtualHosts.push({
        name: 'allow_any',
        domains: ['*'],
        routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }],
      });
      return { name: String(port), virtualHosts, validateClusters: false, ignorePortInHostMatching: true };
    });
}

/** A gateway's route `http.PORT` per listener; a listener without hosts gets a blackhole host. */
function gatewayRouteConfigs(config: ProxyConfig): EnvoyRouteConfiguration[] {
  return config.gateway.map((listener) => {
    const virtualHosts: EnvoyVirtualHost[] = listener.virtualHosts.map((vh) => ({
      name: vh.name,
      domains: vh.domains.flatMap((d) => [d, `${d}:*`]).filter((d, i, all) => all.indexOf(d) === i),
      routes: envoyRoutes(vh.routes, vh.name),
      includeRequestAttemptCount: true,
    }));
    if (virtualHosts.length === 0) {
      virtualHosts.push({ name: `blackhole:${listener.serverPort}`, domains: ['*'], routes: [] });
    }
    return { name: `http.${listener.listenPort}`, virtualHosts, validateClusters: false };
  });
}

/** One inbound route per served port, and for a sidecar the inbound passthrough. */
function inboundRouteConfigs(config: ProxyConfig): EnvoyRouteConfiguration[] {
  const out: EnvoyRouteConfiguration[] = config.inbound.ports.map((p) => ({
    name: `inbound|${p.targetPort}||`,
    virtualHosts: [
      {
        name: `inbound|http|${p.port}`,
        domains: ['*'],
        routes: [
          {
            ...prefixRoute('/', `inbound|${p.targetPort}||`),
            decorator: { operation: `${p.service}:${p.port}/*` },
          },
        ],
      },
    ],
    validateClusters: false,
  }));
  if (config.node.mode === 'sidecar') {
    out.push({
      name: 'InboundPassthroughCluster',
      virtualHosts: [
        {
          name: 'inbound|http|0',
          domains: ['*'],
          routes: [prefixRoute('/', 'InboundPassthroughCluster')],
        },
      ],
      validateClusters: false,
    });
  }
  return out;
}

/** The static listeners on 15090/15021 (stats and readiness) share the `backend` virtual host. */
function backendRouteConfig(): EnvoyRouteConfiguration {
  return {
    name: '',
    virtualHosts: [
      {
        name: 'backend',
        domains: ['*'],
        routes: [
          prefixRoute('/stats/prometheus', 'prometheus_stats'),
          prefixRoute('/healthz/ready', 'agent'),
        ],
      },
    ],
  };
}

/**
 * Route configurations as Envoy holds them: a sidecar groups outbound virtual hosts by port (route `8080`),
 * has one inbound route per served port and the static `backend` host for stats and health; a gateway has one
 * route `http.PORT` per listener.
 */
export function buildEnvoyRoutes(config: ProxyConfig): EnvoyRouteConfiguration[] {
  return [
    ...outboundRouteConfigs(config),
    ...gatewayRouteConfigs(config),
    ...inboundRouteConfigs(config),
    backendRouteConfig(),
  ];
}

/** Endpoints from the pushed configuration, all HEALTHY (used when the proxy serves no /clusters). */
export function endpointsFromConfig(config: ProxyConfig): HostStatus[] {
  const out: HostStatus[] = [];
  for (const c of config.clusters) {
    for (const e of c.endpoints) {
      out.push({
        cluster: c.name,
        endpoint: `${e.address}:${e.port}`,
        address: e.address,
        port: e.port,
        healthStatus: 'HEALTHY',
        failedOutlierCheck: false,
      });
    }
  }
  const fixed: [string, string, number][] = [
    ['agent', '127.0.0.1', 15020],
    ['prometheus_stats', '127.0.0.1', 15000],
  ];
  for (const [cluster, address, port] of fixed) {
    out.push({
      cluster,
      endpoint: `${address}:${port}`,
      address,
      port,
      healthStatus: 'HEALTHY',
      failedOutlierCheck: false,
    });
  }
  for (const [cluster, path] of [
    ['sds-grpc', './var/run/secrets/workload-spiffe-uds/socket'],
    ['xds-grpc', './etc/istio/proxy/XDS'],
  ] as const) {
    out.push({
      cluster,
      endpoint: `unix://${path}`,
      address: path,
      port: 0,
      healthStatus: 'HEALTHY',
      failedOutlierCheck: false,
    });
  }
  return out;
}

/**
 * Parses Envoy's `/clusters?format=json` (snake_case as Envoy writes it; camelCase accepted too) into host
 * statuses. Returns undefined when the body is not that document.
 */
export function parseClustersAdmin(body: unknown): HostStatus[] | undefined {
  const doc = asRecord(body);
  const statuses = doc.cluster_statuses ?? doc.clusterStatuses;
  if (!Array.isArray(statuses)) return undefined;
  const out: HostStatus[] = [];
  for (const cs of statuses.map(asRecord)) {
    const cluster = asString(cs.name) ?? '';
    const hosts = cs.host_statuses ?? cs.hostStatuses;
    for (const h of (Array.isArray(hosts) ? hosts : []).map(asRecord)) {
      const address = asRecord(h.address);
      const sock = asRecord(address.socket_address ?? address.socketAddress);
      const pipe = asRecord(address.pipe);
      const health = asRecord(h.health_status ?? h.healthStatus);
      const ip = asString(sock.address);
      const port = asNumber(sock.port_value ?? sock.portValue) ?? 0;
      const pipePath = asString(pipe.path);
      out.push({
        cluster,
        endpoint: ip !== undefined ? `${ip}:${port}` : `unix://${pipePath ?? ''}`,
        address: ip ?? pipePath ?? '',
        port,
        healthStatus: asString(health.eds_health_status ?? health.edsHealthStatus) ?? 'HEALTHY',
        failedOutlierCheck: (health.failed_outlier_check ?? health.failedOutlierCheck) === true,
      });
    }
  }
  return out;
}

/** Host statuses as the ClusterStatus objects istioctl prints for `proxy-config endpoint -o json`. */
export function hostStatusesAsJson(hosts: HostStatus[]): Json[] {
  const byCluster = new Map<string, HostStatus[]>();
  for (const h of hosts) byCluster.set(h.cluster, [...(byCluster.get(h.cluster) ?? []), h]);
  return [...byCluster.entries()].map(([name, list]) => ({
    name,
    addedViaApi: parseSubsetKey(name) !== undefined,
    hostStatuses: list.map((h) => ({
      address: h.endpoint.startsWith('unix://')
        ? { pipe: { path: h.address } }
        : { socketAddress: { address: h.address, portValue: h.port } },
      healthStatus: {
        edsHealthStatus: h.healthStatus,
        ...(h.failedOutlierCheck ? { failedOutlierCheck: true } : {}),
      },
      weight: 1,
      locality: {},
    })),
  }));
}
