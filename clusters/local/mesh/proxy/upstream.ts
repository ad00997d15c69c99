// Forwarding one request to a cluster the way Envoy's router does: pick an endpoint, open (or reuse) a
// connection — Istio mTLS to in-mesh endpoints' inbound port, plaintext otherwise — retry per policy, apply the
// route timeout and fault, and stream the response back. Outcomes carry Envoy's response flags.

import http from 'node:http';
import type { Socket } from 'node:net';
import type { ClusterConfig, EndpointConfig, RouteConfig, WorkloadMeta } from '../model/proxy-config.js';
import type { ClusterStatName } from './stats.js';
import {
  connectMtls,
  connectPlain,
  UpstreamConnectError,
  upstreamErrorBody,
  type WorkloadTls,
} from './transport.js';

/** The inbound capture port of a sidecar: where iptables would redirect traffic to an in-mesh pod. */
export const INBOUND_PORT = 15006;
/** Stand-in for SO_ORIGINAL_DST: the pod address and port the client meant, carried to the server sidecar. */
export const ORIGINAL_DST_HEADER = 'x-meshdrill-original-dst';
export const PEER_METADATA_HEADER = 'x-envoy-peer-metadata';

export interface ForwardOutcome {
  status: number;
  flags: string[];
  details: string;
  transportFailure?: string;
  upstreamHost?: string;
  endpoint?: EndpointConfig;
  responseBytes: number;
  upstreamServiceTimeMs?: number;
  mtls: boolean;
}

type ConnectFn = (options: unknown, callback: (error: Error | null, socket?: Socket) => void) => undefined;

export class UpstreamPool {
  private readonly agents = new Map<string, http.Agent>();
  private readonly roundRobin = new Map<string, number>();
  private tlsGeneration = 0;

  constructor(
    private readonly getTls: () => WorkloadTls | undefined,
    readonly connectTimeoutMs = 1000,
  ) {}

  /** New certificates: new connections use them; old pooled connections drain on their own. */
  rotate(): void {
    this.tlsGeneration += 1;
    const old = [...this.agents.values()];
    this.agents.clear();
    setTimeout(() => {
      for (const a of old) a.destroy();
    }, 10_000).unref();
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  agentFor(endpoint: EndpointConfig, cluster: ClusterConfig): http.Agent {
    const key = `${endpoint.address}:${endpoint.port}|${endpoint.mtls ? 'mtls' : 'plain'}|${endpoint.inMesh}|${this.tlsGeneration}`;
    let agent = this.agents.get(key);
    if (agent) return agent;
    agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, keepAliveMsecs: 1000 });
    const port = endpoint.inMesh ? INBOUND_PORT : endpoint.port;
    const connect: ConnectFn = (_options, callback) => {
      const tls = this.getTls();
      const opening: Promise<Socket> = endpoint.mtls
        ? tls
          ? connectMtls({
              host: endpoint.address,
              port,
              tls,
              expectedIdentity:
                endpoint.workload.principal === 'unknown'
                  ? undefined
                  : `spiffe://${endpoint.workload.principal}`,
              sni: `outbound_.${cluster.port}_.${cluster.subset}_.${cluster.host}`,
              timeoutMs: this.connectTimeoutMs,
            })
          : Promise.reject(
              new UpstreamConnectError('connection failure', 'no workload certificate yet (SDS)'),
            )
        : connectPlain(endpoint.address, port, this.connectTimeoutMs);
      opening.then(
        (socket) => callback(null, socket),
        (error: Error) => callback(error),
      );
      return undefined;
    };
    (agent as unknown as { createConnection: ConnectFn }).createConnection = connect;
    this.agents.set(key, agent);
    return agent;
  }

  /** Round robin over endpoints, avoiding hosts already tried when another exists (previous_hosts predicate). */
  pickEndpoint(cluster: ClusterConfig, tried: Set<string>): EndpointConfig | undefined {
    const eps = cluster.endpoints;
    if (eps.length === 0) return undefined;
    const start = this.roundRobin.get(cluster.name) ?? 0;
    this.roundRobin.set(cluster.name, start + 1);
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[(start + i) % eps.length] as EndpointConfig;
      if (!tried.has(`${ep.address}:${ep.port}`)) return ep;
    }
    return eps[start % eps.length];
  }
}

function retryOnList(route: RouteConfig): Set<string> {
  return new Set(
    route.retries.retryOn
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

function isRetriableStatus(status: number, retryOn: Set<string>): boolean {
  if (retryOn.has(String(status))) return true;
  if (retryOn.has('5xx') && status >= 500) return true;
  if (retryOn.has('gateway-error') && (status === 502 || status === 503 || status === 504)) return true;
  return false;
}

/** Connect failures always count as retriable under Istio's policies; resets too (ISTIO-FACTS.md). */
function isRetriableError(error: UpstreamConnectError, retryOn: Set<string>): boolean {
  if (error.resetReason === 'connection failure') {
    return (
      retryOn.has('connect-failure') ||
      retryOn.has('5xx') ||
      retryOn.has('gateway-error') ||
      retryOn.has('reset')
    );
  }
  return (
    retryOn.has('reset') ||
    retryOn.has('5xx') ||
    retryOn.has('gateway-error') ||
    retryOn.has('connect-failure') ||
    retryOn.has('refused-stream')
  );
}

function backoffMs(attempt: number, random: () => number): number {
  // Envoy: fully jittered exponential back-off, base 25 ms, capped at 10 × base.
  const ceiling = Math.min(25 * 2 ** (attempt - 1), 250);
  return Math.floor(random() * ceiling);
}

const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

export function forwardableHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

interface AttemptResult {
  response?: http.IncomingMessage;
  error?: UpstreamConnectError;
  timedOut?: boolean;
}

function attemptOnce(
  pool: UpstreamPool,
  cluster: ClusterConfig,
  endpoint: EndpointConfig,
  request: { method: string; path: string; headers: http.OutgoingHttpHeaders; body: Buffer },
  perTryTimeoutMs: number | undefined,
  onRequest: (req: http.ClientRequest) => void,
): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const req = http.request({
      agent: pool.agentFor(endpoint, cluster),
      host: endpoint.address,
      port: endpoint.port,
      method: request.method,
      path: request.path,
      headers: request.headers,
    });
    onRequest(req);
    let timer: NodeJS.Timeout | undefined;
    if (perTryTimeoutMs !== undefined) {
      timer = setTimeout(() => {
        req.destroy();
        resolve({ timedOut: true });
      }, perTryTimeoutMs);
    }
    req.once('response', (response) => {
      if (timer) clearTimeout(timer);
      resolve({ response });
    });
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (error instanceof UpstreamConnectError) resolve({ error });
      else if (error.code === 'ECONNREFUSED')
        resolve({ error: new UpstreamConnectError('connection failure', 'delayed connect error: 111') });
      else resolve({ error: new UpstreamConnectError('connection termination', undefined) });
    });
    req.end(request.body);
  });
}

export interface ForwardRequest {
  method: string;
  path: string;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
  self: WorkloadMeta;
  /** Inbound (sidecar → app): headers pass through untouched, no peer metadata is added. */
  inbound?: boolean;
}

/** Sends a proxy-generated response (flags in `x-envoy-response-flags`, Envoy's body text). */
export function sendLocalReply(
  res: http.ServerResponse,
  status: number,
  flags: string,
  body: string,
): number {
  if (res.headersSent || res.destroyed) return 0;
  const payload = Buffer.from(body);
  res.writeHead(status, {
    'content-type': 'text/plain',
    'content-length': payload.length,
    server: 'envoy',
    ...(flags === '-' ? {} : { 'x-envoy-response-flags': flags }),
  });
  res.end(payload);
  return payload.length;
}

/**
 * Forwards to the cluster with the route's retries and timeout, writing the response to `downstream`.
 * Resolves once the response has been fully sent (or the downstream went away).
 */
export async function forwardToCluster(
  pool: UpstreamPool,
  cluster: ClusterConfig,
  route: RouteConfig,
  request: ForwardRequest,
  downstream: http.ServerResponse,
  stat: (name: ClusterStatName) => void = () => undefined,
  random: () => number = Math.random,
): Promise<ForwardOutcome> {
  const started = performance.now();
  const retryOn = retryOnList(route);
  const maxAttempts = 1 + Math.max(0, route.retries.attempts);
  const tried = new Set<string>();
  let lastError: UpstreamConnectError | undefined;
  let lastEndpoint: EndpointConfig | undefined;
  let inflight: http.ClientRequest | undefined;
  let globalTimedOut = false;
  const globalTimer =
    route.timeoutMs !== undefined && route.timeoutMs > 0
      ? setTimeout(() => {
          globalTimedOut = true;
          inflight?.destroy();
        }, route.timeoutMs)
      : undefined;
  try {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const endpoint = pool.pickEndpoint(cluster, tried);
      if (!endpoint) {
        const n = sendLocalReply(downstream, 503, 'UH', 'no healthy upstream');
        return { status: 503, flags: ['UH'], details: 'no_healthy_upstream', responseBytes: n, mtls: false };
      }
      lastEndpoint = endpoint;
      tried.add(`${endpoint.address}:${endpoint.port}`);
      const headers: http.OutgoingHttpHeaders = request.inbound
        ? request.headers
        : {
            ...request.headers,
            'x-envoy-attempt-count': String(attempt),
            [PEER_METADATA_HEADER]: Buffer.from(JSON.stringify(request.self)).toString('base64'),
          };
      if (endpoint.inMesh) headers[ORIGINAL_DST_HEADER] = `${endpoint.address}:${endpoint.port}`;
      if (attempt > 1) stat('envoy_cluster_upstream_rq_retry');
      stat('envoy_cluster_upstream_rq_total');
      const attemptStart = performance.now();
      const result = await attemptOnce(
        pool,
        cluster,
        endpoint,
        { method: request.method, path: request.path, headers, body: request.body },
        route.retries.perTryTimeoutMs,
        (r) => {
          inflight = r;
        },
      );
      if (globalTimedOut) {
        result.response?.resume();
        const n = sendLocalReply(downstream, 504, 'UT', 'upstream request timeout');
        return {
          status: 504,
          flags: ['UT'],
          details: 'response_timeout',
          responseBytes: n,
          endpoint,
          upstreamHost: `${endpoint.address}:${endpoint.port}`,
          mtls: endpoint.mtls,
        };
      }
      const canRetry = attempt < maxAttempts;
      if (result.response) {
        const status = result.response.statusCode ?? 502;
        if (canRetry && isRetriableStatus(status, retryOn)) {
          result.response.resume();
          await new Promise((r) => setTimeout(r, backoffMs(attempt, random)));
          continue;
        }
        const exhausted = attempt > 1 && isRetriableStatus(status, retryOn);
        if (exhausted) stat('envoy_cluster_upstream_rq_retry_limit_exceeded');
        const flags = exhausted ? ['URX'] : [];
        const serviceTime = Math.round(performance.now() - attemptStart);
        const responseBytes = await pipeResponse(result.response, downstream, serviceTime, flags);
        return {
          status,
          flags,
          details: 'via_upstream',
          responseBytes,
          endpoint,
          upstreamHost: `${endpoint.address}:${endpoint.port}`,
          upstreamServiceTimeMs: serviceTime,
          mtls: endpoint.mtls,
        };
      }
      if (result.timedOut) {
        lastError = new UpstreamConnectError('timeout', undefined);
        if (canRetry && (retryOn.has('5xx') || retryOn.has('gateway-error') || retryOn.has('reset')))
          continue;
        const n = sendLocalReply(downstream, 504, 'UT', 'upstream request timeout');
        return {
          status: 504,
          flags: ['UT'],
          details: 'upstream_per_try_timeout',
          responseBytes: n,
          endpoint,
          mtls: endpoint.mtls,
        };
      }
      lastError = result.error;
      if (lastError?.resetReason === 'connection failure') stat('envoy_cluster_upstream_cx_connect_fail');
      if (lastError && canRetry && isRetriableError(lastError, retryOn)) {
        await new Promise((r) => setTimeout(r, backoffMs(attempt, random)));
        continue;
      }
      break;
    }
    const error = lastError ?? new UpstreamConnectError('connection failure', undefined);
    const retried = tried.size > 1 || maxAttempts > 1;
    const flags = [error.resetReason === 'connection termination' ? 'UC' : 'UF'];
    if (retried && maxAttempts > 1) {
      flags.push('URX');
      stat('envoy_cluster_upstream_rq_retry_limit_exceeded');
    }
    const n = sendLocalReply(
      downstream,
      503,
      flags.join(','),
      upstreamErrorBody(error, retried && maxAttempts > 1),
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
      ...(lastEndpoint
        ? { endpoint: lastEndpoint, upstreamHost: `${lastEndpoint.address}:${lastEndpoint.port}` }
        : {}),
      mtls: lastEndpoint?.mtls ?? false,
    };
  } finally {
    if (globalTimer) clearTimeout(globalTimer);
    void started;
  }
}

/** Streams an upstream response downstream; resolves with the body bytes sent. */
export function pipeResponse(
  response: http.IncomingMessage,
  downstream: http.ServerResponse,
  serviceTimeMs: number,
  flags: string[],
): Promise<number> {
  return new Promise((resolve) => {
    const headers = forwardableHeaders(response.headers);
    delete headers[PEER_METADATA_HEADER];
    headers['x-envoy-upstream-service-time'] = String(serviceTimeMs);
    if (flags.length > 0) headers['x-envoy-response-flags'] = flags.join(',');
    let bytes = 0;
    if (!downstream.headersSent) downstream.writeHead(response.statusCode ?? 502, headers);
    response.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      downstream.write(chunk);
    });
    response.once('end', () => {
      downstream.end();
      resolve(bytes);
    });
    response.once('error', () => {
      downstream.destroy();
      resolve(bytes);
    });
  });
}
