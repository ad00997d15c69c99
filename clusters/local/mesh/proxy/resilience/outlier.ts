// Outlier detection for one cluster, after Envoy's source/common/upstream/outlier_detection_impl.cc with the
// defaults Istio writes (cluster_traffic_policy.go): consecutive 5xx (5) and, when set, consecutive gateway
// errors eject a host at once; an interval sweep (10 s) brings hosts back after baseEjectionTime (30 s) × the
// times ejected (capped at 300 s); an ejection happens only while the ejected share, counting it, stays within
// maxEjectionPercent (10): Istio never sets `always_eject_one_host`, so with fewer than 10 hosts the default
// ejects nothing.
// Locally originated failures (connect failure, reset, timeout) count as 5xx/gateway errors unless
// `splitExternalLocalOriginErrors` is set. Only exists when the DestinationRule sets `outlierDetection`.

import { parseDuration } from '../../../../../harness/util/duration.js';
import { asBoolean, asNumber, asRecord, asString } from '../../model/read.js';

export interface OutlierConfig {
  consecutive5xx: number;
  consecutiveGatewayErrors: number;
  consecutiveLocalOriginFailures: number;
  splitExternalLocalOriginErrors: boolean;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionTimeMs: number;
  maxEjectionPercent: number;
}

/** What an attempt told about a host. */
/** What the detector tells its owner (stats): an ejection, a refused ejection, hosts returned. */
export type OutlierEvent = 'eject' | 'overflow' | 'uneject';

export type HostResult = { kind: 'status'; status: number } | { kind: 'local-failure' };

function durationMs(value: unknown, fallback: number): number {
  const text = asString(value);
  const ms = text === undefined ? undefined : parseDuration(text);
  return ms === undefined ? fallback : ms;
}

/** `trafficPolicy.outlierDetection` → config; undefined when the rule sets none (no detector at all). */
export function parseOutlierDetection(trafficPolicy: Record<string, unknown>): OutlierConfig | undefined {
  if (trafficPolicy.outlierDetection === undefined) return undefined;
  const od = asRecord(trafficPolicy.outlierDetection);
  // `consecutiveErrors` is the deprecated spelling of the gateway-error count.
  const legacy = asNumber(od.consecutiveErrors);
  return {
    consecutive5xx: asNumber(od.consecutive5xxErrors) ?? 5,
    consecutiveGatewayErrors: asNumber(od.consecutiveGatewayErrors) ?? legacy ?? 0,
    consecutiveLocalOriginFailures: asNumber(od.consecutiveLocalOriginFailures) ?? 5,
    splitExternalLocalOriginErrors: asBoolean(od.splitExternalLocalOriginErrors) ?? false,
    intervalMs: durationMs(od.interval, 10_000),
    baseEjectionTimeMs: durationMs(od.baseEjectionTime, 30_000),
    maxEjectionTimeMs: 300_000,
    maxEjectionPercent: asNumber(od.maxEjectionPercent) ?? 10,
  };
}

export interface HostOutlierState {
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocal: number;
  ejected: boolean;
  timesEjected: number;
  /** Envoy's eject-time back-off multiplier: +1 per ejection, −1 per healthy base period. */
  backoff: number;
  lastEjectionMs?: number;
  lastUnejectionMs?: number;
}

export class OutlierDetector {
  readonly hosts = new Map<string, HostOutlierState>();
  ejectionsEnforced = 0;
  ejectionsOverflow = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly config: OutlierConfig,
    private readonly now: () => number = Date.now,
    private readonly onEvent: (event: OutlierEvent) => void = () => undefined,
  ) {
    this.timer = setInterval(() => this.sweep(), Math.max(10, config.intervalMs));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Keeps state for hosts still in the cluster, adds new ones, forgets removed ones (EDS update). */
  syncHosts(keys: string[]): void {
    const keep = new Set(keys);
    for (const k of [...this.hosts.keys()]) if (!keep.has(k)) this.hosts.delete(k);
    for (const k of keys) if (!this.hosts.has(k)) this.hosts.set(k, freshState());
  }

  isEjected(key: string): boolean {
    return this.hosts.get(key)?.ejected ?? false;
  }

  ejectionsActive(): number {
    let n = 0;
    for (const h of this.hosts.values()) if (h.ejected) n += 1;
    return n;
  }

  report(key: string, result: HostResult): void {
    const h = this.hosts.get(key);
    if (!h) return;
    const c = this.config;
    const local = result.kind === 'local-failure';
    if (local && c.splitExternalLocalOriginErrors) {
      h.consecutiveLocal += 1;
      if (h.consecutiveLocal >= c.consecutiveLocalOriginFailures) this.eject(key, h);
      return;
    }
    // Not split: a local failure is what the router answers on the host's behalf (503) — a 5xx and a gateway error.
    const status = result.kind === 'status' ? result.status : 503;
    if (status < 500) {
      h.consecutive5xx = 0;
      h.consecutiveGateway = 0;
      if (!local) h.consecutiveLocal = 0;
      return;
    }
    h.consecutive5xx += 1;
    const gateway = local || status === 502 || status === 503 || status === 504;
    h.consecutiveGateway = gateway ? h.consecutiveGateway + 1 : 0;
    if (c.consecutive5xx > 0 && h.consecutive5xx >= c.consecutive5xx) this.eject(key, h);
    else if (c.consecutiveGatewayErrors > 0 && h.consecutiveGateway >= c.consecutiveGatewayErrors)
      this.eject(key, h);
  }

  private eject(key: string, h: HostOutlierState): void {
    if (h.ejected) return;
    // Counters restart whether or not the ejection happens (the detector resets them on each detection).
    h.consecutive5xx = 0;
    h.consecutiveGateway = 0;
    h.consecutiveLocal = 0;
    const active = this.ejectionsActive();
    const percent = (100 * (active + 1)) / Math.max(1, this.hosts.size);
    // DetectorImpl::ejectHost: `ejected_percent <= max_ejection_percent`, the ejection counted; the exception
    // for the first host is `always_eject_one_host`, which Istio's DestinationRule cannot set.
    if (percent > Math.min(100, this.config.maxEjectionPercent)) {
      this.ejectionsOverflow += 1;
      this.onEvent('overflow');
      return;
    }
    h.ejected = true;
    h.timesEjected += 1;
    h.backoff += 1;
    h.lastEjectionMs = this.now();
    this.ejectionsEnforced += 1;
    this.onEvent('eject');
    void key;
  }

  /** The interval sweep: un-eject hosts whose time is up; decay the back-off of hosts that stayed healthy. */
  sweep(): void {
    const now = this.now();
    const base = this.config.baseEjectionTimeMs;
    const max = Math.max(base, this.config.maxEjectionTimeMs);
    let changed = false;
    for (const h of this.hosts.values()) {
      if (!h.ejected) {
        if (h.backoff > 0 && h.lastUnejectionMs !== undefined && now - h.lastUnejectionMs >= base * h.backoff)
          h.backoff -= 1;
        continue;
      }
      if (Math.min(base * h.backoff, max) <= now - (h.lastEjectionMs ?? now)) {
        h.ejected = false;
        h.lastUnejectionMs = now;
        changed = true;
      }
    }
    if (changed) this.onEvent('uneject');
  }

  /** When the host is due back (for /clusters), in epoch ms. */
  ejectedUntil(h: HostOutlierState): number | undefined {
    if (!h.ejected || h.lastEjectionMs === undefined) return undefined;
    return (
      h.lastEjectionMs +
      Math.min(this.config.baseEjectionTimeMs * h.backoff, Math.max(this.config.baseEjectionTimeMs, 300_000))
    );
  }
}

function freshState(): HostOutlierState {
  return {
    consecutive5xx: 0,
    consecutiveGateway: 0,
    consecutiveLocal: 0,
    ejected: false,
    timesEjected: 0,
    backoff: 0,
  };
}

/**
 * One detector per cluster that has `outlierDetection`. A push that changes the cluster's traffic policy (any
 * of it: connection pool, TLS, load balancer, outlier detection) is a CDS update of a changed cluster, which
 * Envoy answers with a new cluster and a new detector (ClusterManagerImpl::addOrUpdateCluster): every
 * ejection ends at that push. Endpoint changes are EDS and keep the detector (and the state of the hosts left).
 */
export class OutlierDetectors {
  private readonly detectors = new Map<string, { key: string; detector: OutlierDetector }>();

  constructor(
    private readonly onEvent: (cluster: string, event: OutlierEvent | 'reset', active: number) => void,
  ) {}

  sync(
    clusters: {
      name: string;
      trafficPolicy: Record<string, unknown>;
      endpoints: { address: string; port: number }[];
    }[],
  ): void {
    const seen = new Set<string>();
    for (const c of clusters) {
      const config = parseOutlierDetection(c.trafficPolicy);
      if (!config) continue;
      seen.add(c.name);
      const key = JSON.stringify(c.trafficPolicy);
      let entry = this.detectors.get(c.name);
      if (!entry || entry.key !== key) {
        entry?.detector.stop();
        const detector: OutlierDetector = new OutlierDetector(config, Date.now, (event) =>
          this.onEvent(c.name, event, detector.ejectionsActive()),
        );
        entry = { key, detector };
        this.detectors.set(c.name, entry);
        this.onEvent(c.name, 'reset', 0);
      }
      entry.detector.syncHosts(c.endpoints.map((e) => `${e.address}:${e.port}`));
    }
    for (const [name, entry] of [...this.detectors]) {
      if (seen.has(name)) continue;
      entry.detector.stop();
      this.detectors.delete(name);
    }
  }

  get(cluster: string): OutlierDetector | undefined {
    return this.detectors.get(cluster)?.detector;
  }

  stop(): void {
    for (const e of this.detectors.values()) e.detector.stop();
    this.detectors.clear();
  }
}
