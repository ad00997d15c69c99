// Envoy's per-cluster circuit breakers (resource manager) as Istio configures them from a DestinationRule
// `connectionPool` and `retryBudget`. Istio sets every threshold to 2^32−1 unless the rule caps it, so by
// default nothing limits connections, pending requests, requests or concurrent retries (ISTIO-FACTS.md).
//
// The HTTP/1 pool is reduced to its effect: an attempt holds one connection while in flight (HTTP/1 has one
// request per connection), waits as "pending" when `maxConnections` are busy, and overflows (503 UO) when the
// pending queue is full or `http2MaxRequests` attempts are already active.

import { asNumber, asRecord } from '../../model/read.js';

export const UNLIMITED = 2 ** 32 - 1;

export interface Thresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
  /** Envoy's retry_budget: when set it replaces max_retries. */
  retryBudget?: { percent: number; minRetryConcurrency: number };
}

/** Istio: a 0 or missing cap means "unlimited" (2^32−1). */
function cap(value: unknown): number {
  const n = asNumber(value);
  return n === undefined || n <= 0 ? UNLIMITED : Math.floor(n);
}

/** DestinationRule `trafficPolicy` (subset and port-level already merged) → thresholds. */
export function parseThresholds(trafficPolicy: Record<string, unknown>): Thresholds {
  const pool = asRecord(trafficPolicy.connectionPool);
  const http = asRecord(pool.http);
  const tcp = asRecord(pool.tcp);
  const budget = trafficPolicy.retryBudget;
  const b = asRecord(budget);
  return {
    maxConnections: cap(tcp.maxConnections),
    maxPendingRequests: cap(http.http1MaxPendingRequests),
    maxRequests: cap(http.http2MaxRequests),
    maxRetries: cap(http.maxRetries),
    ...(budget !== undefined
      ? {
          retryBudget: {
            percent: asNumber(b.percent) ?? asNumber(asRecord(b.percent).value) ?? 20,
            minRetryConcurrency: asNumber(b.minRetryConcurrency) ?? 3,
          },
        }
      : {}),
  };
}

/** The retry cap in force: the budget's share of active + pending requests (at least the minimum), or max_retries. */
export function maxActiveRetries(t: Thresholds, activeRequests: number, pendingRequests: number): number {
  if (!t.retryBudget) return t.maxRetries;
  const share = Math.floor((t.retryBudget.percent / 100) * (activeRequests + pendingRequests));
  return Math.max(t.retryBudget.minRetryConcurrency, share);
}

export type Release = () => void;

/** Live resource counts of one cluster and the queue of attempts waiting for a connection. */
export class ClusterResources {
  activeRequests = 0;
  activeRetries = 0;
  private readonly pending: (() => void)[] = [];

  constructor(readonly thresholds: Thresholds) {}

  get pendingRequests(): number {
    return this.pending.length;
  }

  /**
   * A connection slot for one attempt: at once when fewer than maxConnections are busy, else after waiting
   * in the pending queue; 'overflow' when the queue is full or too many requests are active.
   */
  acquire(signal?: AbortSignal): Release | 'overflow' | Promise<Release | 'overflow' | 'aborted'> {
    const t = this.thresholds;
    if (this.activeRequests < t.maxConnections) {
      if (this.activeRequests >= t.maxRequests) return 'overflow';
      return this.take();
    }
    if (this.pending.length >= t.maxPendingRequests) return 'overflow';
    return new Promise((resolve) => {
      const waiter = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.activeRequests >= t.maxRequests ? 'overflow' : this.take());
      };
      // A request that times out while pending leaves the queue (Envoy cancels the pool request).
      const onAbort = (): void => {
        const i = this.pending.indexOf(waiter);
        if (i >= 0) this.pending.splice(i, 1);
        resolve('aborted');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.push(waiter);
    });
  }

  private take(): Release {
    this.activeRequests += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.activeRequests -= 1;
      const next = this.pending.shift();
      if (next) next();
    };
  }

  /** RetryStateImpl: a retry holds the `retries` resource from being scheduled until its attempt ends. */
  tryStartRetry(): Release | undefined {
    const limit = maxActiveRetries(this.thresholds, this.activeRequests, this.pending.length);
    if (this.activeRetries >= limit) return undefined;
    this.activeRetries += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.activeRetries -= 1;
    };
  }
}

/** Resources per cluster name; rebuilt when a cluster's thresholds change (Envoy rebuilds a changed cluster). */
export class CircuitBreakers {
  private readonly clusters = new Map<string, { key: string; resources: ClusterResources }>();

  /** Thresholds per trafficPolicy object: a pushed config is never mutated, so each is parsed once. */
  private readonly parsed = new WeakMap<object, { thresholds: Thresholds; key: string }>();

  for(cluster: { name: string; trafficPolicy: Record<string, unknown> }): ClusterResources {
    let parsed = this.parsed.get(cluster.trafficPolicy);
    if (!parsed) {
      const thresholds = parseThresholds(cluster.trafficPolicy);
      parsed = { thresholds, key: JSON.stringify(thresholds) };
      this.parsed.set(cluster.trafficPolicy, parsed);
    }
    const { thresholds, key } = parsed;
    const existing = this.clusters.get(cluster.name);
    if (existing && existing.key === key) return existing.resources;
    const resources = new ClusterResources(thresholds);
    this.clusters.set(cluster.name, { key, resources });
    return resources;
  }

  peek(name: string): ClusterResources | undefined {
    return this.clusters.get(name)?.resources;
  }
}
