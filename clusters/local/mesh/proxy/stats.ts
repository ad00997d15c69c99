// The sidecar's metrics with Istio's real names, label sets and buckets (ISTIO-FACTS.md "Metrics"):
// istio standard metrics, envoy_server_* / envoy_cluster_manager_*, per-cluster stats gated by
// proxyStatsMatcher, and istio_agent_*.

import { Counter, Gauge, type Labels, Registry } from '../metrics/registry.js';
import type { MetricsConfig, WorkloadMeta } from '../model/proxy-config.js';

export const DURATION_BUCKETS_MS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
] as const;

export const ISTIO_LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;

export interface RequestRecord {
  reporter: 'source' | 'destination';
  source: WorkloadMeta | undefined;
  destination: WorkloadMeta | undefined;
  destinationService: { host: string; name: string; namespace: string } | undefined;
  responseCode: number;
  responseFlags: string;
  mtls: boolean;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

/** Per-cluster stats: the Prometheus name and Envoy's own stat name under `cluster.<cluster_name>.`. */
export const CLUSTER_STATS = {
  envoy_cluster_upstream_rq_retry: { envoy: 'upstream_rq_retry', type: 'counter' },
  envoy_cluster_upstream_rq_retry_overflow: { envoy: 'upstream_rq_retry_overflow', type: 'counter' },
  envoy_cluster_upstream_rq_retry_limit_exceeded: {
    envoy: 'upstream_rq_retry_limit_exceeded',
    type: 'counter',
  },
  envoy_cluster_upstream_rq_pending_overflow: { envoy: 'upstream_rq_pending_overflow', type: 'counter' },
  envoy_cluster_upstream_rq_timeout: { envoy: 'upstream_rq_timeout', type: 'counter' },
  envoy_cluster_upstream_rq_per_try_timeout: { envoy: 'upstream_rq_per_try_timeout', type: 'counter' },
  envoy_cluster_upstream_cx_connect_fail: { envoy: 'upstream_cx_connect_fail', type: 'counter' },
  envoy_cluster_upstream_cx_overflow: { envoy: 'upstream_cx_overflow', type: 'counter' },
  envoy_cluster_upstream_rq_total: { envoy: 'upstream_rq_total', type: 'counter' },
  envoy_cluster_upstream_rq_active: { envoy: 'upstream_rq_active', type: 'gauge' },
  envoy_cluster_upstream_rq_pending_active: { envoy: 'upstream_rq_pending_active', type: 'gauge' },
  envoy_cluster_outlier_detection_ejections_active: {
    envoy: 'outlier_detection.ejections_active',
    type: 'gauge',
  },
  envoy_cluster_outlier_detection_ejections_enforced_total: {
    envoy: 'outlier_detection.ejections_enforced_total',
    type: 'counter',
  },
  envoy_cluster_outlier_detection_ejections_overflow: {
    envoy: 'outlier_detection.ejections_overflow',
    type: 'counter',
  },
  // The upstream TLS handshakes of the cluster's transport socket (Istio mTLS): successes, and the failures by
  // kind (a failed verification is not also a connection_error).
  envoy_cluster_ssl_handshake: { envoy: 'ssl.handshake', type: 'counter' },
  envoy_cluster_ssl_connection_error: { envoy: 'ssl.connection_error', type: 'counter' },
  envoy_cluster_ssl_fail_verify_error: { envoy: 'ssl.fail_verify_error', type: 'counter' },
  envoy_cluster_ssl_fail_verify_san: { envoy: 'ssl.fail_verify_san', type: 'counter' },
} as const satisfies Record<string, { envoy: string; type: 'counter' | 'gauge' }>;

export type ClusterStatName = keyof typeof CLUSTER_STATS;
export const CLUSTER_STAT_NAMES = Object.keys(CLUSTER_STATS) as ClusterStatName[];

/**
 * Istio's `proxyStatsMatcher` as Envoy's stats_matcher inclusion list: regexps match the whole Envoy stat name
 * (RE2 full match), prefixes and suffixes its start and end. Envoy applies it when a stat is created, so a
 * stat that does not match never exists (not on /stats, not on /stats/prometheus).
 */
export interface StatsMatcher {
  inclusionRegexps: string[];
  inclusionPrefixes: string[];
  inclusionSuffixes: string[];
}

function compileMatcher(m: StatsMatcher): (envoyName: string) => boolean {
  const regexps = m.inclusionRegexps.flatMap((p) => {
    try {
      return [new RegExp(`^(?:${p})$`)];
    } catch {
      return [];
    }
  });
  return (name) =>
    regexps.some((re) => re.test(name)) ||
    m.inclusionPrefixes.some((p) => name.startsWith(p)) ||
    m.inclusionSuffixes.some((p) => name.endsWith(p));
}

function unknownIfEmpty(v: string | undefined): string {
  return v === undefined || v === '' ? 'unknown' : v;
}

export class ProxyStats {
  readonly registry = new Registry();
  readonly requests = this.registry.counter('istio_requests_total', 'Counter of requests', ISTIO_LABELS);
  readonly duration = this.registry.histogram(
    'istio_request_duration_milliseconds',
    'Request duration',
    DURATION_BUCKETS_MS,
    ISTIO_LABELS,
  );
  readonly requestBytes = this.registry.histogram(
    'istio_request_bytes',
    'Request size',
    [1, 10, 100, 1000, 10000, 100000, 1000000],
    ISTIO_LABELS,
  );
  readonly responseBytes = this.registry.histogram(
    'istio_response_bytes',
    'Response size',
    [1, 10, 100, 1000, 10000, 100000, 1000000],
    ISTIO_LABELS,
  );
  readonly serverLive = this.registry.gauge('envoy_server_live', 'Whether the server is live');
  readonly memoryAllocated = this.registry.gauge(
    'envoy_server_memory_allocated',
    'Current amount of allocated memory in bytes',
  );
  readonly memoryHeapSize = this.registry.gauge(
    'envoy_server_memory_heap_size',
    'Current reserved heap size in bytes',
  );
  readonly uptime = this.registry.gauge('envoy_server_uptime', 'Seconds since the server started');
  readonly daysUntilCertExpiring = this.registry.gauge(
    'envoy_server_days_until_first_cert_expiring',
    'Days until the next certificate being managed expires',
  );
  readonly activeClusters = this.registry.gauge(
    'envoy_cluster_manager_active_clusters',
    'Number of currently active (warmed) clusters',
  );
  readonly clusterAdded = this.registry.counter(
    'envoy_cluster_manager_cluster_added',
    'Total clusters added (either via static config or CDS)',
  );
  readonly clusterRemoved = this.registry.counter(
    'envoy_cluster_manager_cluster_removed',
    'Total clusters removed (via CDS)',
  );
  readonly cdsUpdateSuccess = this.registry.counter(
    'envoy_cluster_manager_cds_update_success',
    'Total CDS updates applied',
  );
  readonly cdsUpdateRejected = this.registry.counter(
    'envoy_cluster_manager_cds_update_rejected',
    'Total CDS updates rejected',
  );
  readonly certExpiry = this.registry.gauge(
    'istio_agent_cert_expiry_seconds',
    'The time remaining, in seconds, before the certificate chain will expire',
    ['resource_name'],
  );
  readonly outgoingRequests = this.registry.counter(
    'istio_agent_num_outgoing_requests',
    'Number of total outgoing requests (e.g. to a token exchange server, CA, etc.)',
    ['request_type'],
  );
  readonly failedOutgoingRequests = this.registry.counter(
    'istio_agent_num_failed_outgoing_requests',
    'Number of failed outgoing requests',
    ['request_type'],
  );
  readonly istiodConnectionFailures = this.registry.counter(
    'istio_agent_istiod_connection_failures',
    'The total number of connection failures to Istiod',
  );
  readonly istiodConnectionTerminations = this.registry.counter(
    'istio_agent_istiod_connection_terminations',
    'The total number of connection errors to Istiod',
    ['type'],
  );
  readonly build = this.registry.gauge('istio_build', 'Istio component build info', ['component', 'tag']);
  readonly xdsProxyRequests = this.registry.counter(
    'istio_agent_xds_proxy_requests',
    'The total number of Xds Proxy Requests',
  );
  readonly clusterStats = new Map<ClusterStatName, Counter | Gauge>(
    CLUSTER_STAT_NAMES.map((name) => [
      name,
      CLUSTER_STATS[name].type === 'gauge'
        ? this.registry.gauge(name, 'Per-cluster statistic', ['cluster_name'])
        : this.registry.counter(name, 'Per-cluster statistic', ['cluster_name']),
    ]),
  );
  /** Envoy stat name → value, for the admin `/stats?format=json` (only stats the matcher let exist). */
  private readonly envoyValues = new Map<string, number>();

  /** Standard metrics the Telemetry API turned off, per reporter (setMetricsConfig). */
  private readonly disabled = { source: new Set<string>(), destination: new Set<string>() };

  /** From `proxy.istio.io/config` `proxyStatsMatcher`: per-cluster stats exist only when it includes them. */
  private included: (envoyName: string) => boolean = () => false;

  constructor(
    readonly self: WorkloadMeta,
    readonly clusterId = 'Kubernetes',
  ) {
    this.serverLive.set({}, 1);
  }

  setStatsMatcher(matcher: StatsMatcher): void {
    this.included = compileMatcher(matcher);
  }

  /**
   * The Telemetry API's metrics config as istiod pushed it. A side with a metric disabled stops reporting it, and
   * the series it had reported leave /stats/prometheus (their stats scope goes with the filter), so Prometheus
   * marks them stale; re-enabled, the metric starts again from zero. Agent and Envoy server stats are untouched.
   */
  setMetricsConfig(config: MetricsConfig | undefined): void {
    const next = { source: new Set(config?.client ?? []), destination: new Set(config?.server ?? []) };
    for (const reporter of ['source', 'destination'] as const) {
      for (const family of [this.requests, this.duration, this.requestBytes, this.responseBytes])
        if (next[reporter].has(family.name) && !this.disabled[reporter].has(family.name))
          family.removeMatching({ reporter });
      this.disabled[reporter] = next[reporter];
    }
  }

  setInclusionRegexps(patterns: string[]): void {
    this.setStatsMatcher({ inclusionRegexps: patterns, inclusionPrefixes: [], inclusionSuffixes: [] });
  }

  /** Envoy's name of a per-cluster stat: `cluster.outbound|8080||x.ns.svc.cluster.local.upstream_rq_retry`. */
  static envoyName(name: ClusterStatName, cluster: string): string {
    return `cluster.${cluster}.${CLUSTER_STATS[name].envoy}`;
  }

  incCluster(name: ClusterStatName, cluster: string, by = 1): void {
    const envoyName = ProxyStats.envoyName(name, cluster);
    if (!this.included(envoyName)) return;
    const metric = this.clusterStats.get(name);
    if (metric instanceof Counter) metric.inc({ cluster_name: cluster }, by);
    this.envoyValues.set(envoyName, (this.envoyValues.get(envoyName) ?? 0) + by);
  }

  setClusterGauge(name: ClusterStatName, cluster: string, value: number): void {
    const envoyName = ProxyStats.envoyName(name, cluster);
    if (!this.included(envoyName)) return;
    const metric = this.clusterStats.get(name);
    if (metric instanceof Gauge) metric.set({ cluster_name: cluster }, value);
    this.envoyValues.set(envoyName, value);
  }

  /** Envoy's `/stats?format=json` shape: `{ stats: [{ name, value }] }`, sorted by name. */
  renderJson(): { stats: { name: string; value: number }[] } {
    this.registry.render();
    const server: [string, number][] = [
      ['server.live', this.serverLive.get()],
      ['server.memory_allocated', this.memoryAllocated.get()],
      ['server.memory_heap_size', this.memoryHeapSize.get()],
      ['server.uptime', this.uptime.get()],
      ['server.days_until_first_cert_expiring', this.daysUntilCertExpiring.get()],
      ['cluster_manager.active_clusters', this.activeClusters.get()],
      ['cluster_manager.cluster_added', this.clusterAdded.get()],
      ['cluster_manager.cluster_removed', this.clusterRemoved.get()],
      ['cluster_manager.cds.update_success', this.cdsUpdateSuccess.get()],
      ['cluster_manager.cds.update_rejected', this.cdsUpdateRejected.get()],
    ];
    const all = [...server, ...this.envoyValues.entries()].map(([name, value]) => ({ name, value }));
    return { stats: all.sort((a, b) => a.name.localeCompare(b.name)) };
  }

  record(r: RequestRecord): void {
    const labels: Labels = {
      reporter: r.reporter,
      source_workload: unknownIfEmpty(r.source?.name),
      source_workload_namespace: unknownIfEmpty(r.source?.namespace),
      source_principal: r.source && r.mtls ? `spiffe://${r.source.principal}` : 'unknown',
      source_app: unknownIfEmpty(r.source?.app),
      source_version: unknownIfEmpty(r.source?.version),
      source_cluster: this.clusterId,
      destination_workload: unknownIfEmpty(r.destination?.name),
      destination_workload_namespace: unknownIfEmpty(r.destination?.namespace),
      destination_principal: r.destination && r.mtls ? `spiffe://${r.destination.principal}` : 'unknown',
      destination_app: unknownIfEmpty(r.destination?.app),
      destination_version: unknownIfEmpty(r.destination?.version),
      destination_service: unknownIfEmpty(r.destinationService?.host),
      destination_service_name: unknownIfEmpty(r.destinationService?.name),
      destination_service_namespace: unknownIfEmpty(r.destinationService?.namespace),
      destination_cluster: this.clusterId,
      request_protocol: 'http',
      response_code: String(r.responseCode),
      grpc_response_status: '',
      response_flags: r.responseFlags,
      // The source cannot know what the server accepted: Istio reports `unknown` there.
      connection_security_policy: r.reporter === 'source' ? 'unknown' : r.mtls ? 'mutual_tls' : 'none',
    };
    const off = this.disabled[r.reporter];
    if (!off.has(this.requests.name)) this.requests.inc(labels);
    if (!off.has(this.duration.name)) this.duration.observe(labels, r.durationMs);
    if (!off.has(this.requestBytes.name)) this.requestBytes.observe(labels, r.requestBytes);
    if (!off.has(this.responseBytes.name)) this.responseBytes.observe(labels, r.responseBytes);
  }

  render(): string {
    return this.registry.render();
  }
}
