// Envoy's router filter for one request to one cluster: pick a healthy host, take a connection slot from the
// circuit breakers (503 UO on overflow), send the attempt (with the chaos hooks' delay/loss on each leg), feed
// outlier detection, and retry per the route's policy — Envoy's RetryStateImpl order: limit first (URX), then
// the retry circuit breaker or budget (counted in upstream_rq_retry_overflow, flag UO), then a jittered
// back-off. The route timeout spans all attempts (504 UT); `perTryTimeout` bounds each one.

import type { OutgoingHeaders, ServerResponse } from '../../programs/lib/http1/index.js';
import type { ClusterConfig, EndpointConfig, RouteConfig } from '../model/proxy-config.js';
import type { ChaosHooks } from './resilience/chaos-hooks.js';
import type { CircuitBreakers, Release } from './resilience/circuit-breaker.js';
import type { HostResult, OutlierDetectors } from './resilience/outlier.js';
import {
  type AttemptFailure,
  backoffMs,
  isRetriableFailure,
  isRetriableStatus,
  parseRetryOn,
} from './resilience/retry-policy.js';
import { formatFlags } from './resilience/flags.js';
import type { ClusterStatName } from './stats.js';
import { UpstreamConnectError, upstreamErrorBody } from './transport.js';
import {
  type AttemptResult,
  attemptOnce,
  encodePeerMetadata,
  type ForwardOutcome,
  type ForwardRequest,
  type InflightAttempt,
  ORIGINAL_DST_HEADER,
  PEER_METADATA_HEADER,
  pipeResponse,
  sendLocalReply,
  type UpstreamPool,
} from './upstream.js';

export interface RouterContext {
  pool: UpstreamPool;
  breakers: CircuitBreakers;
  outliers: OutlierDetectors;
  chaos: ChaosHooks;
  stat: (name: ClusterStatName, cluster: string) => void;
  random?: () => number;
}

const OVERFLOW_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';

/** The signal of a request without a route timeout: nothing ever aborts it, so one serves every request. */
const NEVER_ABORTED = new AbortController().signal;

/** A route's `retryOn` parsed once per route object (routes are rebuilt only when a new config arrives). */
const parsedRetryOn = new WeakMap<RouteConfig['retries'], ReturnType<typeof parseRetryOn>>();
function retryOnOf(retries: RouteConfig['retries']): ReturnType<typeof parseRetryOn> {
  let parsed = parsedRetryOn.get(retries);
  if (!parsed) {
    parsed = parseRetryOn(retries.retryOn);
    parsedRetryOn.set(retries, parsed);
  }
  return parsed;
}

/** Waits `ms`, or less when `signal` aborts (the route timeout fired). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function failureOf(result: AttemptResult): AttemptFailure {
  if (result.timedOut) return 'per-try-timeout';
  if (result.error?.resetReason === 'connection failure') return 'connect-failure';
  return 'reset';
}

/**
 * Forwards to the cluster with the route's retries, timeouts and the cluster's circuit breakers, writing the
 * response to `downstream`. `flags` holds flags set before routing (DI). Resolves once the response is sent.
 */
export async function forwardToCluster(
  ctx: RouterContext,
  cluster: ClusterConfig,
  route: RouteConfig,
  request: ForwardRequest,
  downstream: ServerResponse,
  flags: string[] = [],
): Promise<ForwardOutcome> {
  const random = ctx.random ?? Math.random;
  const stat = (name: ClusterStatName): void => ctx.stat(name, cluster.name);
  const retryOn = retryOnOf(route.retries);
  // Istio drops the retry policy for `attempts: 0`: no retries and no retry stats at all.
  const retriesAllowed = Math.max(0, route.retries.attempts);
  const resources = ctx.breakers.for(cluster);
  const detector = ctx.outliers.get(cluster.name);
  let inflight: InflightAttempt | undefined;
  const hasTimeout = route.timeoutMs !== undefined && route.timeoutMs > 0;
  const timeout = hasTimeout ? new AbortController() : { signal: NEVER_ABORTED, abort: () => undefined };
  const globalTimer = hasTimeout
    ? setTimeout(() => {
        timeout.abort();
        inflight?.destroy();
      }, route.timeoutMs)
    : undefined;
  const tried = new Set<string>();
  let retriesUsed = 0;
  let retryHold: Release | undefined;
  let lastEndpoint: EndpointConfig | undefined;
  const report = (endpoint: EndpointConfig, result: HostResult): void =>
    detector?.report(`${endpoint.address}:${endpoint.port}`, result);

  /** RetryStateImpl::shouldRetry: true when a retry is scheduled; otherwise the flag says why not (URX, UO). */
  const shouldRetry = (retriable: boolean): boolean => {
    retryHold?.();
    retryHold = undefined;
    if (!retriable || retriesAllowed === 0) return false;
    if (retriesUsed >= retriesAllowed) {
      stat('envoy_cluster_upstream_rq_retry_limit_exceeded');
      flags.push('URX');
      return false;
    }
    retriesUsed += 1;
    const hold = resources.tryStartRetry();
    if (!hold) {
      stat('envoy_cluster_upstream_rq_retry_overflow');
      flags.push('UO');
      return false;
    }
    retryHold = hold;
    stat('envoy_cluster_upstream_rq_retry');
    return true;
  };
  const backOff = (): Promise<void> => sleep(backoffMs(retriesUsed, route.retries, random), timeout.signal);

  const timeoutReply = (endpoint: EndpointConfig | undefined): ForwardOutcome => {
    stat('envoy_cluster_upstream_rq_timeout');
    flags.push('UT');
    const n = sendLocalReply(downstream, 504, formatFlags(flags), 'upstream request timeout');
    return {
      status: 504,
      flags,
      details: 'response_timeout',
      responseBytes: n,
      mtls: endpoint?.mtls ?? false,
      ...(endpoint ? { endpoint, upstreamHost: `${endpoint.address}:${endpoint.port}` } : {}),
    };
  };

  try {
    for (;;) {
      if (timeout.signal.aborted) return timeoutReply(lastEndpoint);
      const endpoint = ctx.pool.pickEndpoint(cluster, tried, (key) => detector?.isEjected(key) ?? false);
      if (!endpoint) {
        flags.push('UH');
        const n = sendLocalReply(downstream, 503, formatFlags(flags), 'no healthy upstream');
        return { status: 503, flags, details: 'no_healthy_upstream', responseBytes: n, mtls: false };
      }
      lastEndpoint = endpoint;
      const hostKey = `${endpoint.address}:${endpoint.port}`;
      tried.add(hostKey);

      // The connection pool and its circuit breakers: overflow is a local reset and is never retried.
      const acquired = resources.acquire(timeout.signal);
      if (acquired instanceof Promise) stat('envoy_cluster_upstream_cx_overflow');
      const slot: Release | 'overflow' | 'aborted' = acquired instanceof Promise ? await acquired : acquired;
      if (slot === 'aborted') return timeoutReply(endpoint);
      if (slot === 'overflow') {
        stat('envoy_cluster_upstream_rq_pending_overflow');
        flags.push('UO');
        const n = sendLocalReply(downstream, 503, formatFlags(flags), OVERFLOW_BODY);
        return { status: 503, flags, details: 'overflow', responseBytes: n, mtls: endpoint.mtls };
      }
      const release = slot;
      let released = false;
      const done = (): void => {
        if (!released) release();
        released = true;
      };

      try {
        const attemptNumber = retriesUsed + 1;
        const headers: OutgoingHeaders = request.inbound
          ? request.headers
          : {
              ...request.headers,
              'x-envoy-attempt-count': String(attemptNumber),
              [PEER_METADATA_HEADER]:
                request.peerMetadata ?? encodePeerMetadata(request.self, request.sourceIp),
            };
        if (endpoint.inMesh) headers[ORIGINAL_DST_HEADER] = hostKey;
        stat('envoy_cluster_upstream_rq_total');
        const attemptStart = performance.now();

        // Chaos hooks: the request leg goes `to` the peer, the response leg comes `from` it.
        const toLeg = request.inbound
          ? { delayMs: 0, dropped: false }
          : ctx.chaos.leg('to', endpoint.address);
        await sleep(toLeg.delayMs, timeout.signal);
        let result: AttemptResult;
        if (toLeg.dropped) {
          // The SYN (or the request) never arrives: what the client sees is a connect timeout.
          await sleep(ctx.pool.connectTimeoutMs, timeout.signal);
          result = { error: new UpstreamConnectError('connection failure', 'delayed connect error: 110') };
        } else {
          result = await attemptOnce(
            ctx.pool,
            cluster,
            endpoint,
            { method: request.method, path: request.path, headers, body: request.body },
            route.retries.perTryTimeoutMs,
            (r) => {
              inflight = r;
            },
          );
        }
        if (result.response && !request.inbound) {
          const fromLeg = ctx.chaos.leg('from', endpoint.address);
          if (fromLeg.dropped) {
            result.response.destroy();
            await sleep(ctx.pool.connectTimeoutMs, timeout.signal);
            result = { error: new UpstreamConnectError('connection termination', undefined) };
          } else {
            await sleep(fromLeg.delayMs, timeout.signal);
          }
        }
        if (timeout.signal.aborted) {
          result.response?.discard();
          report(endpoint, { kind: 'local-failure' });
          return timeoutReply(endpoint);
        }

        if (result.response) {
          const status = result.response.statusCode ?? 502;
          report(endpoint, { kind: 'status', status });
          if (isRetriableStatus(retryOn, status)) {
            // Decided before draining: when no retry is allowed this response goes downstream.
            if (shouldRetry(true)) {
              result.response.discard();
              done();
              await backOff();
              continue;
            }
          }
          const serviceTime = Math.round(performance.now() - attemptStart);
          const responseBytes = await pipeResponse(result.response, downstream, serviceTime, flags);
          return {
            status,
            flags,
            details: 'via_upstream',
            responseBytes,
            endpoint,
            upstreamHost: hostKey,
            upstreamServiceTimeMs: serviceTime,
            mtls: endpoint.mtls,
          };
        }

        // No response: a connect failure, a reset, or the per-try timeout.
        const failure = failureOf(result);
        report(endpoint, { kind: 'local-failure' });
        if (failure === 'connect-failure') stat('envoy_cluster_upstream_cx_connect_fail');
        if (failure === 'per-try-timeout') stat('envoy_cluster_upstream_rq_per_try_timeout');
        done();
        if (shouldRetry(isRetriableFailure(retryOn, failure))) {
          await backOff();
          continue;
        }
        if (timeout.signal.aborted) return timeoutReply(endpoint);
        if (failure === 'per-try-timeout') {
          flags.push('UT');
          const n = sendLocalReply(downstream, 504, formatFlags(flags), 'upstream request timeout');
          return {
            status: 504,
            flags,
            details: 'upstream_per_try_timeout',
            responseBytes: n,
            endpoint,
            upstreamHost: hostKey,
            mtls: endpoint.mtls,
          };
        }
        const error = result.error ?? new UpstreamConnectError('connection termination', undefined);
        flags.push(error.resetReason === 'connection termination' ? 'UC' : 'UF');
        const n = sendLocalReply(
          downstream,
          503,
          formatFlags(flags),
          upstreamErrorBody(error, retriesUsed > 0),
        );
        return {
          status: 503,
          flags,
          details:
            error.resetReason === 'connection termination'
              ? 'upstream_reset_before_response_started{connection_termination}'
              : 'upstream_reset_before_response_started{connection_failure}',
          ...(error.transportFailure ? { transportFailure: error.transportFailure } : {}),
          responseBytes: n,
          endpoint,
          upstreamHost: hostKey,
          mtls: endpoint.mtls,
        };
      } finally {
        done();
      }
    }
  } finally {
    retryHold?.();
    if (globalTimer) clearTimeout(globalTimer);
  }
}
