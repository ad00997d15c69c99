// The Envoy admin API on :15000 (pure renderers; admin-server.ts serves them). Shapes follow Envoy's JSON
// so the istioctl emulation and drills can read them; the field list is documented in
// docs/local-target-fidelity.md.
//   /config_dump      { config, certificate: { notAfter }, certificates: [...], clock, networkFaults }
//   /certs            { certificates: [{ cert_chain: [...], ca_cert: [...] }] }  (Envoy's /certs)
//   /clusters         Envoy's text lines `CLUSTER::HOST:PORT::health_flags::healthy` (…?format=json below)
//   /stats?format=json { stats: [{ name, value }] }

import { X509Certificate } from 'node:crypto';
import type { NetworkFaultRule } from '../../chaos-hooks.js';
import type { ClusterConfig, ProxyConfig } from '../model/proxy-config.js';
import type { CircuitBreakers } from './resilience/circuit-breaker.js';
import type { OutlierDetectors } from './resilience/outlier.js';
import type { WorkloadTls } from './transport.js';

export interface CertificateDetails {
  serial_number: string;
  subject: string;
  subject_alt_names: { uri?: string; dns?: string }[];
  valid_from: string;
  expiration_time: string;
  /** Whole days left on the pod's clock (negative once expired), as Envoy reports. */
  days_until_expiration: number;
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export function describeCertificate(pem: string, now: number): CertificateDetails | undefined {
  try {
    const cert = new X509Certificate(pem);
    const sans = (cert.subjectAltName ?? '')
      .split(', ')
      .filter(Boolean)
      .map((s) =>
        s.startsWith('URI:') ? { uri: s.slice(4) } : s.startsWith('DNS:') ? { dns: s.slice(4) } : {},
      );
    const validTo = new Date(cert.validTo);
    return {
      serial_number: cert.serialNumber.toLowerCase(),
      subject: (cert.subject ?? '').replace(/\n/g, ','),
      subject_alt_names: sans,
      valid_from: new Date(cert.validFrom).toISOString(),
      expiration_time: validTo.toISOString(),
      days_until_expiration: Math.floor((validTo.getTime() - now) / 86_400_000),
    };
  } catch {
    return undefined;
  }
}

/** Envoy's /certs: the workload chain (leaf first) and the root it trusts. */
export function renderCerts(tls: WorkloadTls | undefined, now: number) {
  if (!tls) return { certificates: [] };
  const describe = (pem: string) =>
    splitPem(pem)
      .map((c) => describeCertificate(c, now))
      .filter((c): c is CertificateDetails => c !== undefined);
  return { certificates: [{ cert_chain: describe(tls.certChainPem), ca_cert: describe(tls.rootPem) }] };
}

export function renderConfigDump(
  config: ProxyConfig | undefined,
  tls: WorkloadTls | undefined,
  notAfter: Date | undefined,
  clock: { now: number; offsetMs: number },
  networkFaults: NetworkFaultRule[] = [],
) {
  return {
    config: config ?? null,
    certificate: { notAfter: notAfter?.toISOString() ?? null },
    ...renderCerts(tls, clock.now),
    clock: { now: new Date(clock.now).toISOString(), offsetMs: clock.offsetMs },
    networkFaults,
  };
}

export interface ClusterStatus {
  name: string;
  added_via_api: true;
  circuit_breakers: {
    thresholds: {
      max_connections: number;
      max_pending_requests: number;
      max_requests: number;
      max_retries: number;
      retry_budget?: { budget_percent: number; min_retry_concurrency: number };
    }[];
  };
  outlier_detection?: Record<string, number | boolean>;
  host_statuses: {
    address: { socket_address: { address: string; port_value: number } };
    stats: { name: string; value: number }[];
    health_status: { eds_health_status: 'HEALTHY'; failed_outlier_check?: true };
    outlier?: { times_ejected: number; ejected: boolean; ejected_until?: string };
  }[];
}

/** Envoy's /clusters?format=json (`cluster_statuses`), with the outlier state of each host. */
export function renderClusters(
  clusters: ClusterConfig[],
  breakers: CircuitBreakers,
  outliers: OutlierDetectors,
): { cluster_statuses: ClusterStatus[] } {
  return {
    cluster_statuses: clusters.map((c) => {
      const resources = breakers.for(c);
      const t = resources.thresholds;
      const detector = outliers.get(c.name);
      return {
        name: c.name,
        added_via_api: true,
        circuit_breakers: {
          thresholds: [
            {
              max_connections: t.maxConnections,
              max_pending_requests: t.maxPendingRequests,
              max_requests: t.maxRequests,
              max_retries: t.maxRetries,
              ...(t.retryBudget
                ? {
                    retry_budget: {
                      budget_percent: t.retryBudget.percent,
                      min_retry_concurrency: t.retryBudget.minRetryConcurrency,
                    },
                  }
                : {}),
            },
          ],
        },
        ...(detector
          ? {
              outlier_detection: {
                consecutive_5xx: detector.config.consecutive5xx,
                consecutive_gateway_failure: detector.config.consecutiveGatewayErrors,
                interval_ms: detector.config.intervalMs,
                base_ejection_time_ms: detector.config.baseEjectionTimeMs,
                max_ejection_percent: detector.config.maxEjectionPercent,
                ejections_active: detector.ejectionsActive(),
                ejections_enforced_total: detector.ejectionsEnforced,
                ejections_overflow: detector.ejectionsOverflow,
              },
            }
          : {}),
        host_statuses: c.endpoints.map((e) => {
          const key = `${e.address}:${e.port}`;
          const state = detector?.hosts.get(key);
          const until = state ? detector?.ejectedUntil(state) : undefined;
          return {
            address: { socket_address: { address: e.address, port_value: e.port } },
            stats: [
              { name: 'rq_active', value: resources.activeRequests },
              { name: 'rq_pending_active', value: resources.pendingRequests },
            ],
            health_status: {
              eds_health_status: 'HEALTHY' as const,
              ...(state?.ejected ? { failed_outlier_check: true as const } : {}),
            },
            ...(state
              ? {
                  outlier: {
                    times_ejected: state.timesEjected,
                    ejected: state.ejected,
                    ...(until !== undefined ? { ejected_until: new Date(until).toISOString() } : {}),
                  },
                }
              : {}),
          };
        }),
      };
    }),
  };
}

/** Envoy's plain-text /clusters lines for the same data. */
export function renderClustersText(status: { cluster_statuses: ClusterStatus[] }): string {
  const lines: string[] = [];
  for (const c of status.cluster_statuses) {
    const t = c.circuit_breakers.thresholds[0];
    if (t) {
      lines.push(`${c.name}::default_priority::max_connections::${t.max_connections}`);
      lines.push(`${c.name}::default_priority::max_pending_requests::${t.max_pending_requests}`);
      lines.push(`${c.name}::default_priority::max_requests::${t.max_requests}`);
      lines.push(`${c.name}::default_priority::max_retries::${t.max_retries}`);
    }
    for (const h of c.host_statuses) {
      const host = `${c.name}::${h.address.socket_address.address}:${h.address.socket_address.port_value}`;
      for (const s of h.stats) lines.push(`${host}::${s.name}::${s.value}`);
      lines.push(
        `${host}::health_flags::${h.health_status.failed_outlier_check ? '/failed_outlier_check' : 'healthy'}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
