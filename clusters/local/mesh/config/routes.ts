// VirtualService HTTP routes → route configs: matches (uri exact/prefix/regex, headers, method, port),
// weighted destinations named `outbound|PORT|SUBSET|HOST` (a missing subset stays a dangling name: the proxy
// answers 503 NC, as Envoy does), retries (Istio's default policy when none), timeout and fault kept.

import type { KubeObject } from '../../../../harness/model/index.js';
import { parseDuration } from '../../../../harness/util/duration.js';
import type {
  FaultPolicy,
  RetryPolicy,
  RouteConfig,
  RouteMatch,
  StringMatch,
} from '../model/proxy-config.js';
import { asArray, asNumber, asRecord, asString } from '../model/read.js';
import type { RegistryService } from './registry.js';
import { nameOf, namespaceOf, qualifyHost, specOf } from './snapshot.js';

/** Envoy's policy when a VirtualService sets no retries (ISTIO-FACTS.md "Routing, retries, resilience"). */
export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const DEFAULT_RETRIES: RetryPolicy = { attempts: 2, retryOn: DEFAULT_RETRY_ON };

export function clusterName(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`;
}

function parseStringMatch(value: unknown): StringMatch | undefined {
  const m = asRecord(value);
  for (const kind of ['exact', 'prefix', 'regex'] as const) {
    const v = asString(m[kind]);
    if (v !== undefined) return { kind, value: v };
  }
  return undefined;
}

function parseMatch(value: unknown): RouteMatch {
  const m = asRecord(value);
  const headers: Record<string, StringMatch> = {};
  for (const [name, spec] of Object.entries(asRecord(m.headers))) {
    const parsed = parseStringMatch(spec);
    // Envoy lower-cases header names; values stay case-sensitive.
    if (parsed) headers[name.toLowerCase()] = parsed;
  }
  const uri = parseStringMatch(m.uri);
  const method = parseStringMatch(m.method);
  const port = asNumber(m.port);
  return {
    headers,
    ...(uri ? { uri } : {}),
    ...(method ? { method } : {}),
    ...(port !== undefined ? { port } : {}),
  };
}

/** Istio durations are protobuf Durations written as "1s", "0.5s", "100ms". */
function parseIstioDuration(value: unknown): number | undefined {
  const text = asString(value);
  return text === undefined ? undefined : parseDuration(text);
}

/** Istio: `percentage.value` (double), else the deprecated integer `percent`, else 100 %. */
function parsePercent(spec: Record<string, unknown>): number {
  const value = asNumber(asRecord(spec.percentage).value);
  if (value !== undefined) return value;
  const legacy = asNumber(spec.percent);
  return legacy !== undefined && legacy > 0 ? legacy : 100;
}

function parseFault(value: unknown): FaultPolicy | undefined {
  const f = asRecord(value);
  const out: FaultPolicy = {};
  const delay = asRecord(f.delay);
  const fixed = parseIstioDuration(delay.fixedDelay);
  if (fixed !== undefined) out.delay = { fixedDelayMs: fixed, percent: parsePercent(delay) };
  const abort = asRecord(f.abort);
  const status = asNumber(abort.httpStatus);
  if (status !== undefined) out.abort = { httpStatus: status, percent: parsePercent(abort) };
  return out.delay || out.abort ? out : undefined;
}

/**
 * Istio's route/retry ConvertPolicy: no `retries` → the default policy; `attempts` 0 or unset → no policy at
 * all; otherwise the default with `attempts`, `retryOn` (bare codes kept: the proxy splits them), `perTryTimeout`
 * and `backoff` (Envoy's base interval) overridden.
 */
function parseRetries(value: unknown): RetryPolicy {
  if (value === undefined || value === null) return DEFAULT_RETRIES;
  const r = asRecord(value);
  const attempts = asNumber(r.attempts) ?? 0;
  if (attempts <= 0) return { attempts: 0, retryOn: '' };
  const perTry = parseIstioDuration(r.perTryTimeout);
  const backoff = parseIstioDuration(r.backoff);
  const retryOn = asString(r.retryOn);
  return {
    attempts,
    retryOn: retryOn === undefined || retryOn.trim() === '' ? DEFAULT_RETRY_ON : retryOn,
    ...(perTry !== undefined ? { perTryTimeoutMs: perTry } : {}),
    ...(backoff !== undefined && backoff > 0 ? { backoffBaseMs: backoff } : {}),
  };
}

/**
 * The routes one VirtualService contributes to a virtual host of `service` on `port`.
 * `lookup` finds the destination service of a qualified host (for its port when the route names none).
 */
export function buildVirtualServiceRoutes(
  vs: KubeObject,
  port: number,
  lookup: (host: string) => RegistryService | undefined,
): RouteConfig[] {
  const ns = namespaceOf(vs);
  const routes: RouteConfig[] = [];
  asArray(specOf(vs).http).forEach((entry, index) => {
    const http = asRecord(entry);
    const match = asArray(http.match).map(parseMatch);
    // A match block pinned to another port does not apply to this virtual host.
    const applicable = match.filter((m) => m.port === undefined || m.port === port);
    if (match.length > 0 && applicable.length === 0) return;
    const clusters = asArray(http.route).map((r) => {
      const dest = asRecord(asRecord(r).destination);
      const host = qualifyHost(asString(dest.host) ?? '', ns);
      const service = lookup(host);
      const destPort =
        asNumber(asRecord(dest.port).number) ??
        (service && service.ports.length === 1 ? service.ports[0]?.port : undefined) ??
        port;
      return {
        cluster: clusterName(destPort, asString(dest.subset) ?? '', host),
        weight: asNumber(asRecord(r).weight) ?? 0,
      };
    });
    // One destination without weight takes all; otherwise weights are relative (weight / sum).
    if (clusters.length === 1 && clusters[0] && clusters[0].weight === 0) clusters[0].weight = 100;
    const timeoutMs = parseIstioDuration(http.timeout);
    const fault = parseFault(http.fault);
    routes.push({
      name: asString(http.name) ?? `${nameOf(vs)}.${index}`,
      match: applicable,
      clusters,
      retries: parseRetries(http.retries),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(fault ? { fault } : {}),
      source: `${ns}/${nameOf(vs)}`,
    });
  });
  return routes;
}

export function defaultRoute(host: string, port: number): RouteConfig {
  return {
    name: 'default',
    match: [],
    clusters: [{ cluster: clusterName(port, '', host), weight: 100 }],
    retries: DEFAULT_RETRIES,
    source: 'default',
  };
}
