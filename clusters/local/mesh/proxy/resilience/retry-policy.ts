// Envoy's retry decisions (pure), after source/common/router/retry_state_impl.cc: which upstream outcomes a
// route's `retry_on` retries, Istio's split of bare status codes into `retriable_status_codes`, and the fully
// jittered exponential back-off (base 25 ms unless the VirtualService sets `backoff`, max 10 × base).

import type { RetryPolicy } from '../../model/proxy-config.js';

export interface ParsedRetryOn {
  policies: Set<string>;
  /** Istio moves integers of `retryOn` here and adds `retriable-status-codes` (route/retry/retry.go). */
  codes: Set<number>;
}

/** What ended an attempt without a usable response, in Envoy's reset-reason terms. */
export type AttemptFailure = 'connect-failure' | 'reset' | 'per-try-timeout' | 'overflow';

export function parseRetryOn(retryOn: string): ParsedRetryOn {
  const policies = new Set<string>();
  const codes = new Set<number>();
  for (const raw of retryOn.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const n = Number(part);
    if (Number.isInteger(n) && n >= 100 && n <= 599) codes.add(n);
    else policies.add(part);
  }
  if (codes.size > 0) policies.add('retriable-status-codes');
  return { policies, codes };
}

/** RetryStateImpl::wouldRetryFromHeaders for an HTTP/1 upstream (gRPC policies never match plain HTTP). */
export function isRetriableStatus(parsed: ParsedRetryOn, status: number): boolean {
  const p = parsed.policies;
  if (p.has('5xx') && status >= 500) return true;
  if (p.has('gateway-error') && (status === 502 || status === 503 || status === 504)) return true;
  if (p.has('retriable-4xx') && status === 409) return true;
  if (p.has('retriable-status-codes') && parsed.codes.has(status)) return true;
  return false;
}

/**
 * RetryStateImpl::wouldRetryFromReset. Overflow is never retried. `5xx`, `gateway-error` and `reset` retry
 * every reset and per-try timeout; `connect-failure` only connection failures. `refused-stream` stands for the
 * HTTP/2 REFUSED_STREAM an Envoy-to-Envoy hop gets when the server side drops a stream before any response:
 * the emulation speaks HTTP/1 between sidecars, so a reset before headers counts as one (ISTIO-FACTS.md:
 * "connection failures and resets are retried" by default).
 */
export function isRetriableFailure(parsed: ParsedRetryOn, failure: AttemptFailure): boolean {
  const p = parsed.policies;
  if (failure === 'overflow') return false;
  if (p.has('5xx') || p.has('gateway-error') || p.has('reset')) return true;
  if (failure === 'connect-failure') return p.has('connect-failure');
  if (failure === 'reset') return p.has('refused-stream');
  return false;
}

export const DEFAULT_BACKOFF_BASE_MS = 25;

/** Envoy's JitteredExponentialBackOffStrategy: uniform in [0, min(base × 2^(n−1), max)), max = 10 × base. */
export function backoffMs(retryNumber: number, policy: RetryPolicy, random: () => number): number {
  const base = policy.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = policy.backoffMaxMs ?? base * 10;
  const ceiling = Math.min(base * 2 ** Math.max(0, retryNumber - 1), max);
  return Math.floor(random() * ceiling);
}
