// Envoy's router filter for one request to one cluster: pick a healthy host, take a connection slot from the
// circuit breakers (503 UO on overflow), send the attempt (with the chaos hooks' delay/loss on each leg), feed
// outlier detection, and retry per the route's policy — Envoy's RetryStateImpl order: limit first (URX), then
// the retry circuit breaker or budget (counted in upstream_rq_retry_overflow, flag UO), then a jittered
// back-off. The route timeout spans all attempts (504 UT); `perTryTimeout` bounds each one.

import type { ClientResponse, OutgoingHeaders, ServerResponse } from '../../programs/lib/http1/index.js';
import type { ClusterConfig, EndpointConfig, RouteConfig } from '../model/proxy-config.js';
import type { ChaosHooks } from './resilience/chaos-hooks.js';
import type { CpuBudget } from './resilience/cpu-budget.js';
import type { CircuitBreakers, ClusterResources, Release } from './resilience/circuit-breaker.js';
import type { HostResult, OutlierDetector, OutlierDetectors } from './resilience/outlier.js';
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
  /** The container's CPU limit, modelled (resilience/cpu-budget.ts); absent: no limit. */
  cpu?: CpuBudget;
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

/** One request's way through its attempts: what the retry decisions, the attempts and the replies share. */
interface ForwardState {
  readonly ctx: RouterContext;
  readonly cluster: ClusterConfig;
  readonly route: RouteConfig;
  readonly request: ForwardRequest;
  readonly downstream: ServerResponse;
  /** The caller's array: flags set before routing arrive in it, and the caller reads the final set from it. */
  readonly flags: string[];
  readonly random: () => number;
  readonly retryOn: ReturnType<typeof parseRetryOn>;
  /** Istio drops the retry policy for `attempts: 0`: no retries and no retry stats at all. */
  readonly retriesAllowed: number;
  readonly resources: ClusterResources;
  readonly detector: OutlierDetector | undefined;
  /** Aborted when the route timeout fires; it spans all attempts. */
  readonly timeout: AbortSignal;
  routeTimer: NodeJS.Timeout | undefined;
  /** The attempt on the wire, which the route timeout destroys. */
  inflight: InflightAttempt | undefined;
  /** Hosts already tried, which a retry avoids while others are left. */
  readonly tried: Set<string>;
  retriesUsed: number;
  /** The retry circuit breaker's slot for the retry in progress. */
  retryHold: Release | undefined;
  lastEndpoint: EndpointConfig | undefined;
}

/** What an attempt leads to: a reply already sent downstream, or another attempt. */
type Step = ForwardOutcome | 'retry';

function openForward(
  ctx: RouterContext,
  cluster: ClusterConfig,
  route: RouteConfig,
  request: ForwardRequest,
  downstream: ServerResponse,
  flags: string[],
): ForwardState {
  const hasTimeout = route.timeoutMs !== undefined && route.timeoutMs > 0;
  const controller = hasTimeout ? new AbortController() : undefined;
  const s: ForwardState = {
    ctx,
    cluster,
    route,
    request,
    downstream,
    flags,
    random: ctx.random ?? Math.random,
    retryOn: retryOnOf(route.retries),
    retriesAllowed: Math.max(0, route.retries.attempts),
    resources: ctx.breakers.for(cluster),
    detector: ctx.outliers.get(cluster.name),
    timeout: controller?.signal ?? NEVER_ABORTED,
    routeTimer: undefined,
    inflight: undefined,
    tried: new Set<string>(),
    retriesUsed: 0,
    retryHold: undefined,
    lastEndpoint: undefined,
  };
  if (controller) {
    s.routeTimer = setTimeout(() => {
      controller.abort();
      s.inflight?.destroy();
    }, route.timeoutMs);
  }
  return s;
}

function closeForward(s: ForwardState): void {
  s.retryHold?.();
  if (s.routeTimer) clearTimeout(s.routeTimer);
}

function statOf(s: ForwardState, name: ClusterStatName): void {
  s.ctx.stat(name, s.cluster.name);
}

function hostKeyOf(endpoint: EndpointConfig): string {
  return `${endpoint.address}:${endpoint.port}`;
}

/** Outlier detection's input: every attempt's result, by host. */
function reportHost(s: ForwardState, endpoint: EndpointConfig, result: HostResult): void {
  s.detector?.report(hostKeyOf(endpoint), result);
}

/** RetryStateImpl::shouldRetry: true when a retry is scheduled; otherwise the flag says why not (URX, UO). */
function shouldRetry(s: ForwardState, retriable: boolean): boolean {
  s.retryHold?.();
  s.retryHold = undefined;
  if (!retriable || s.retriesAllowed === 0) return false;
  if (s.retriesUsed >= s.retriesAllowed) {
    statOf(s, 'envoy_cluster_upstream_rq_retry_limit_exceeded');
    s.flags.push('URX');
    return false;
  }
  s.retriesUsed += 1;
  const hold = s.resources.tryStartRetry();
  if (!hold) {
    statOf(s, 'envoy_cluster_upstream_rq_retry_overflow');
    s.flags.push('UO');
    return false;
  }
  s.retryHold = hold;
  statOf(s, 'envoy_cluster_upstream_rq_retry');
  return true;
}

function backOff(s: ForwardState): Promise<void> {
  return sleep(backoffMs(s.retriesUsed, s.route.retries, s.random), s.timeout);
}

// --- local replies: the proxy answers itself, and the outcome says why ---------------------------------------

function replyRouteTimeout(s: ForwardState, endpoint: EndpointConfig | undefined): ForwardOutcome {
  statOf(s, 'envoy_cluster_upstream_rq_timeout');
  s.flags.push('UT');
  const n = sendLocalReply(s.downstream, 504, formatFlags(s.flags), 'upstream request timeout');
  return {
    status: 504,
    flags: s.flags,
    details: 'response_timeout',
    responseBytes: n,
    mtls: endpoint?.mtls ?? false,
    ...(endpoint ? { endpoint, upstreamHost: hostKeyOf(endpoint) } : {}),
  };
}

function replyNoHealthyUpstream(s: ForwardState): ForwardOutcome {
  s.flags.push('UH');
  const n = sendLocalReply(s.downstream, 503, formatFlags(s.flags), 'no healthy upstream');
  return { status: 503, flags: s.flags, details: 'no_healthy_upstream', responseBytes: n, mtls: false };
}

function replyOverflow(s: ForwardState, endpoint: EndpointConfig): ForwardOutcome {
  statOf(s, 'envoy_cluster_upstream_rq_pending_overflow');
  s.flags.push('UO');
  const n = sendLocalReply(s.downstream, 503, formatFlags(s.flags), OVERFLOW_BODY);
  return { status: 503, flags: s.flags, details: 'overflow', responseBytes: n, mtls: endpoint.mtls };
}

function replyPerTryTimeout(s: ForwardState, endpoint: EndpointConfig): ForwardOutcome {
  s.flags.push('UT');
  const n = sendLocalReply(s.downstream, 504, formatFlags(s.flags), 'upstream request timeout');
  return {
    status: 504,
    flags: s.flags,
    details: 'upstream_per_try_timeout',
    responseBytes: n,
    endpoint,
    upstreamHost: hostKeyOf(endpoint),
    mtls: endpoint.mtls,
  };
}

function replyReset(s: ForwardState, endpoint: EndpointConfig, error: UpstreamConnectError): ForwardOutcome {
  const terminated = error.resetReason === 'connection termination';
  s.flags.push(terminated ? 'UC' : 'UF');
  const n = sendLocalReply(
    s.downstream,
    503,
    formatFlags(s.flags),
    upstreamErrorBody(error, s.retriesUsed > 0),
  );
  return {
    status: 503,
    flags: s.flags,
    details: terminated
      ? 'upstream_reset_before_response_started{connection_termination}'
      : 'upstream_reset_before_response_started{connection_failure}',
    ...(error.transportFailure ? { transportFailure: error.transportFailure } : {}),
    responseBytes: n,
    endpoint,
    upstreamHost: hostKeyOf(endpoint),
    mtls: endpoint.mtls,
  };
}

// --- one attempt -------------------------------------------------------------------------------------------

/** The next host by the load balancer, skipping ejected hosts and (while others are left) tried ones. */
function pickEndpoint(s: ForwardState): EndpointConfig | undefined {
  const endpoint = s.ctx.pool.pickEndpoint(s.cluster, s.tried, (key) => s.detector?.isEjected(key) ?? false);
  if (endpoint) {
    s.lastEndpoint = endpoint;
    s.tried.add(hostKeyOf(endpoint));
  }
  return endpoint;
}

/** A connection slot from the circuit breakers; waiting for one counts as a connection overflow. */
function takeSlot(s: ForwardState): ReturnType<ClusterResources['acquire']> {
  const acquired = s.resources.acquire(s.timeout);
  if (acquired instanceof Promise) statOf(s, 'envoy_cluster_upstream_cx_overflow');
  return acquired;
}

/** Releases the slot once, however many of the attempt's exits call it. */
function releaseOnce(release: Release): Release {
  let released = false;
  return () => {
    if (!released) release();
    released = true;
  };
}

/** Outbound attempts carry the attempt count and the peer metadata; inbound ones pass headers untouched. */
function attemptHeaders(
  request: ForwardRequest,
  endpoint: EndpointConfig,
  attemptNumber: number,
): OutgoingHeaders {
  const headers: OutgoingHeaders = request.inbound
    ? request.headers
    : {
        ...request.headers,
        'x-envoy-attempt-count': String(attemptNumber),
        [PEER_METADATA_HEADER]: request.peerMetadata ?? encodePeerMetadata(request.self, request.sourceIp),
      };
  if (endpoint.inMesh) headers[ORIGINAL_DST_HEADER] = hostKeyOf(endpoint);
  return headers;
}

/** Sends the attempt through the chaos hooks: the request leg goes `to` the peer, the response leg comes `from` it. */
async function sendThroughChaos(
  s: ForwardState,
  endpoint: EndpointConfig,
  headers: OutgoingHeaders,
): Promise<AttemptResult> {
  const { ctx, request } = s;
  const toLeg = request.inbound ? { delayMs: 0, dropped: false } : ctx.chaos.leg('to', endpoint.address);
  await sleep(toLeg.delayMs, s.timeout);
  let result: AttemptResult;
  if (toLeg.dropped) {
    // The SYN (or the request) never arrives: what the client sees is a connect timeout.
    await sleep(ctx.pool.connectTimeoutMs, s.timeout);
    result = { error: new UpstreamConnectError('connection failure', 'delayed connect error: 110') };
  } else {
    result = await attemptOnce(
      ctx.pool,
      s.cluster,
      endpoint,
      { method: request.method, path: request.path, headers, body: request.body },
      s.route.retries.perTryTimeoutMs,
      (r) => {
        s.inflight = r;
      },
    );
  }
  if (result.response && !request.inbound) {
    const fromLeg = ctx.chaos.leg('from', endpoint.address);
    if (fromLeg.dropped) {
      result.response.destroy();
      await sleep(ctx.pool.connectTimeoutMs, s.timeout);
      result = { error: new UpstreamConnectError('connection termination', undefined) };
    } else {
      await sleep(fromLeg.delayMs, s.timeout);
    }
  }
  return result;
}

/** A response arrived: retried when its status is retriable and a retry is allowed, else streamed downstream. */
async function acceptResponse(
  s: ForwardState,
  endpoint: EndpointConfig,
  response: ClientResponse,
  attemptStart: number,
  release: Release,
): Promise<Step> {
  const status = response.statusCode ?? 502;
  reportHost(s, endpoint, { kind: 'status', status });
  // Decided before draining: when no retry is allowed this response goes downstream.
  if (isRetriableStatus(s.retryOn, status) && shouldRetry(s, true)) {
    response.discard();
    release();
    await backOff(s);
    return 'retry';
  }
  const serviceTime = Math.round(performance.now() - attemptStart);
  const responseBytes = await pipeResponse(response, s.downstream, serviceTime, s.flags);
  return {
    status,
    flags: s.flags,
    details: 'via_upstream',
    responseBytes,
    endpoint,
    upstreamHost: hostKeyOf(endpoint),
    upstreamServiceTimeMs: serviceTime,
    mtls: endpoint.mtls,
  };
}

/** No response: a connect failure, a reset, or the per-try timeout — retried when the policy allows. */
async function recoverFromFailure(
  s: ForwardState,
  endpoint: EndpointConfig,
  result: AttemptResult,
  release: Release,
): Promise<Step> {
  const failure = failureOf(result);
  reportHost(s, endpoint, { kind: 'local-failure' });
  if (failure === 'connect-failure') statOf(s, 'envoy_cluster_upstream_cx_connect_fail');
  if (failure === 'per-try-timeout') statOf(s, 'envoy_cluster_upstream_rq_per_try_timeout');
  release();
  if (shouldRetry(s, isRetriableFailure(s.retryOn, failure))) {
    await backOff(s);
    return 'retry';
  }
  if (s.timeout.aborted) return replyRouteTimeout(s, endpoint);
  if (failure === 'per-try-timeout') return replyPerTryTimeout(s, endpoint);
  return replyReset(
    s,
    endpoint,
    result.error ?? new UpstreamConnectError('connection termination', undefined),
  );
}

/** One attempt on an endpoint holding a connection slot. */
async function attemptOn(s: ForwardState, endpoint: EndpointConfig, release: Release): Promise<Step> {
  const headers = attemptHeaders(s.request, endpoint, s.retriesUsed + 1);
  statOf(s, 'envoy_cluster_upstream_rq_total');
  const attemptStart = performance.now();
  const result = await sendThroughChaos(s, endpoint, headers);
  if (s.timeout.aborted) {
    result.response?.discard();
    reportHost(s, endpoint, { kind: 'local-failure' });
    return replyRouteTimeout(s, endpoint);
  }
  if (result.response) return acceptResponse(s, endpoint, result.response, attemptStart, release);
  return recoverFromFailure(s, endpoint, result, release);
}

/** One round of the retry loop: pick a host, take a connection slot, attempt. */
async function attemptNext(s: ForwardState): Promise<Step> {
  if (s.timeout.aborted) return replyRouteTimeout(s, s.lastEndpoint);
  const endpoint = pickEndpoint(s);
  if (!endpoint) return replyNoHealthyUpstream(s);
  // The connection pool and its circuit breakers: overflow is a local reset and is never retried.
  const acquired = takeSlot(s);
  const slot = acquired instanceof Promise ? await acquired : acquired;
  if (slot === 'aborted') return replyRouteTimeout(s, endpoint);
  if (slot === 'overflow') return replyOverflow(s, endpoint);
  const release = releaseOnce(slot);
  try {
    return await attemptOn(s, endpoint, release);
  } finally {
    release();
  }
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
  const s = openForward(ctx, cluster, route, request, downstream, flags);
  try {
    // A throttled worker: the request waits for CPU under the route timeout, which answers 504 UT.
    const cpu = ctx.cpu?.acquire(s.timeout);
    if ((cpu instanceof Promise ? await cpu : cpu) === 'aborted') return replyRouteTimeout(s, undefined);
    for (;;) {
      const step = await attemptNext(s);
      if (step !== 'retry') return step;
    }
  } finally {
    closeForward(s);
  }
}
