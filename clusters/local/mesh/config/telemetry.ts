// Istio's Telemetry API (telemetry.istio.io/v1 Telemetry), metrics part: which standard metrics a proxy's
// Prometheus stats filter reports, per side. As istiod merges it (pilot/pkg/model/telemetry.go): the root
// namespace's selector-less Telemetry, then the proxy namespace's selector-less one, then one selecting the
// workload; each later `metrics` entry may replace the providers and its overrides are applied after the earlier
// ones, so a workload's override wins over the namespace's and the namespace's over the mesh's.

import type { KubeObject } from '../../../../harness/model/index.js';
import type { MetricsConfig, ProxyNode } from '../model/proxy-config.js';
import { asArray, asBoolean, asRecord, asString, asStringMap } from '../model/read.js';
import {
  type MeshOptions,
  type MeshSnapshot,
  matchesLabels,
  nameOf,
  namespaceOf,
  specOf,
} from './snapshot.js';

/** The Telemetry API's metric names → the Prometheus names the stats filter exports (telemetry.go). */
export const TELEMETRY_METRICS = {
  REQUEST_COUNT: 'istio_requests_total',
  REQUEST_DURATION: 'istio_request_duration_milliseconds',
  REQUEST_SIZE: 'istio_request_bytes',
  RESPONSE_SIZE: 'istio_response_bytes',
  TCP_OPENED_CONNECTIONS: 'istio_tcp_connections_opened_total',
  TCP_CLOSED_CONNECTIONS: 'istio_tcp_connections_closed_total',
  TCP_SENT_BYTES: 'istio_tcp_sent_bytes_total',
  TCP_RECEIVED_BYTES: 'istio_tcp_received_bytes_total',
  GRPC_REQUEST_MESSAGES: 'istio_request_messages_total',
  GRPC_RESPONSE_MESSAGES: 'istio_response_messages_total',
} as const;

type TelemetryMetric = keyof typeof TELEMETRY_METRICS;
const ALL_METRICS = Object.keys(TELEMETRY_METRICS) as TelemetryMetric[];

/** The mesh's default metrics provider (Istio's default install: `defaultProviders.metrics: [prometheus]`). */
export const PROMETHEUS_PROVIDER = 'prometheus';

/** Every standard metric reported on both sides: a proxy no Telemetry touches. */
export const DEFAULT_METRICS_CONFIG: MetricsConfig = { client: [], server: [] };

function creationOrder(a: KubeObject, b: KubeObject): number {
  return (
    String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
    nameOf(a).localeCompare(nameOf(b))
  );
}

function selectorOf(t: KubeObject): Record<string, string> {
  return asStringMap(asRecord(specOf(t).selector).matchLabels);
}

/** The Telemetry objects that apply to a proxy, least specific first (root, namespace, workload). */
export function applicableTelemetries(
  snapshot: MeshSnapshot,
  node: ProxyNode,
  options: MeshOptions,
): KubeObject[] {
  const sorted = [...snapshot.telemetries].sort(creationOrder);
  const selectorless = (ns: string) =>
    sorted.find((t) => namespaceOf(t) === ns && Object.keys(selectorOf(t)).length === 0);
  const root = selectorless(options.rootNamespace);
  const namespaceWide = node.namespace === options.rootNamespace ? undefined : selectorless(node.namespace);
  const workload = sorted.find((t) => {
    const selector = selectorOf(t);
    return (
      namespaceOf(t) === node.namespace &&
      Object.keys(selector).length > 0 &&
      matchesLabels(selector, node.labels)
    );
  });
  return [root, namespaceWide, workload].filter((t): t is KubeObject => t !== undefined);
}

function providerNames(metrics: Record<string, unknown>): string[] | undefined {
  const names = asArray(metrics.providers).flatMap((p) => asString(asRecord(p).name) ?? []);
  return names.length === 0 ? undefined : names;
}

/**
 * The metrics each side of the proxy does not report to Prometheus. `client` is the outbound side (and every
 * gateway: Istio builds a gateway's listeners with the client class), reporter="source"; `server` the inbound
 * side, reporter="destination". Overrides for other providers change nothing here.
 */
export function buildMetricsConfig(
  snapshot: MeshSnapshot,
  node: ProxyNode,
  options: MeshOptions,
): MetricsConfig {
  const disabled = { client: new Set<string>(), server: new Set<string>() };
  let providers = [PROMETHEUS_PROVIDER];
  const sources: string[] = [];
  for (const telemetry of applicableTelemetries(snapshot, node, options)) {
    for (const metrics of asArray(specOf(telemetry).metrics).map(asRecord)) {
      providers = providerNames(metrics) ?? providers;
      if (!providers.includes(PROMETHEUS_PROVIDER)) continue;
      sources.push(`${namespaceOf(telemetry)}/${nameOf(telemetry)}`);
      for (const override of asArray(metrics.overrides).map(asRecord)) applyOverride(disabled, override);
    }
  }
  return {
    client: [...disabled.client].sort(),
    server: [...disabled.server].sort(),
    ...(sources.length === 0 ? {} : { sources: [...new Set(sources)] }),
  };
}

/** One `overrides[]` entry: `match.metric` (ALL_METRICS), `match.mode` (CLIENT_AND_SERVER), `disabled`. */
function applyOverride(
  disabled: { client: Set<string>; server: Set<string> },
  override: Record<string, unknown>,
): void {
  const flag = asBoolean(override.disabled);
  if (flag === undefined) return; // tag overrides only: the metric is still reported
  const match = asRecord(override.match);
  const metric = asString(match.metric) ?? 'ALL_METRICS';
  const names =
    metric === 'ALL_METRICS'
      ? ALL_METRICS.map((m) => TELEMETRY_METRICS[m])
      : metric in TELEMETRY_METRICS
        ? [TELEMETRY_METRICS[metric as TelemetryMetric]]
        : [];
  const mode = asString(match.mode) ?? 'CLIENT_AND_SERVER';
  const sides = mode === 'CLIENT' ? ['client'] : mode === 'SERVER' ? ['server'] : ['client', 'server'];
  for (const side of sides as ('client' | 'server')[])
    for (const name of names) flag ? disabled[side].add(name) : disabled[side].delete(name);
}
