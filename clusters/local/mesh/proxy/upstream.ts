// The upstream side of the proxy: connection pools per endpoint (Istio mTLS to in-mesh endpoints' inbound port,
// plaintext otherwise), endpoint picking, one attempt, local replies and response streaming. The retry loop,
// timeouts and circuit breakers around them live in router.ts.

import http from 'node:http';
import type { Socket } from 'node:net';
import type { ClusterConfig, EndpointConfig, WorkloadMeta } from '../model/proxy-config.js';
import {
  type ConnectionLifetime,
  enforceConnectionLifetime,
  parseConnectionLifetime,
} from './resilience/connection-lifetime.js';
import { formatFlags } from './resilience/flags.js';
import { connectMtls, connectPlain, UpstreamConnectError, type WorkloadTls } from './transport.js';

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

// Config objects are replaced, never mutated, when a push arrives: what is derived from one is kept with it.
const lifetimes = new WeakMap<object, { lifetime: ConnectionLifetime; key: string }>();
function lifetimeOf(trafficPolicy: Record<string, unknown>): { lifetime: ConnectionLifetime; key: string } {
  let found = lifetimes.get(trafficPolicy);
  if (!found) {
    const lifetime = parseConnectionLifetime(trafficPolicy);
    found = { lifetime, key: JSON.stringify(lifetime) };
    lifetimes.set(trafficPolicy, found);
  }
  return found;
}

const endpointKeys = new WeakMap<EndpointConfig, string>();
function endpointKeyOf(endpoint: EndpointConfig): string {
  let key = endpointKeys.get(endpoint);
  if (key === undefined) {
    key = `${endpoint.address}:${endpoint.port}|${endpoint.mtls ? 'mtls' : 'plain'}|${endpoint.inMesh}`;
    endpointKeys.set(endpoint, key);
  }
  return key;
}

/** Istio's HTTP metadata exchange header: the workload's metadata (and, here, its pod IP) as base64 JSON. */
export function encodePeerMetadata(self: WorkloadMeta, sourceIp: string | undefined): string {
  return Buffer.from(JSON.stringify({ ...self, ...(sourceIp ? { ip: sourceIp } : {}) })).toString('base64');
}

export class UpstreamPool {
  private readonly agents = new Map<string, http.Agent>();
  private readonly roundRobin = new Map<string, number>();
  private tlsGeneration = 0;

  constructor(
    private readonly getTls: () => WorkloadTls | undefined,
    readonly connectTimeoutMs = 1000,
    /** The pod's clock offset (TimeChaos); 0 leaves validity to the TLS stack's own check. */
    private readonly clockOffsetMs: () => number = () => 0,
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
    const { lifetime, key: lifetimeKey } = lifetimeOf(cluster.trafficPolicy);
    const key = `${endpointKeyOf(endpoint)}|${this.tlsGeneration}|${lifetimeKey}`;
    let agent = this.agents.get(key);
    if (agent) return agent;
    agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, keepAliveMsecs: 1000 });
    const lifetimes = enforceConnectionLifetime(agent, lifetime);
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
              ...(this.clockOffsetMs() !== 0 ? { now: Date.now() + this.clockOffsetMs() } : {}),
            })
          : Promise.reject(
              new UpstreamConnectError('connection failure', 'no workload certificate yet (SDS)'),
            )
        : connectPlain(endpoint.address, port, this.connectTimeoutMs);
      opening.then(
        (socket) => {
          lifetimes.track(socket);
          callback(null, socket);
        },
        (error: Error) => callback(error),
      );
      return undefined;
    };
    (agent as unknown as { createConnection: ConnectFn }).createConnection = connect;
    this.agents.set(key, agent);
    return agent;
  }

  /**
   * Round robin over the healthy endpoints (not ejected by outlier detection; the panic threshold is off, as
   * Istio sets it with outlier detection), avoiding hosts already tried when another exists (previous_hosts).
   */
  pickEndpoint(
    cluster: ClusterConfig,
    tried: Set<string>,
    ejected: (key: string) => boolean = () => false,
  ): EndpointConfig | undefined {
    const eps = cluster.endpoints.filter((e) => !ejected(`${e.address}:${e.port}`));
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

const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

/** The headers a hop passes on: all but hop-by-hop ones and those in `drop` (left out, never deleted after). */
export function forwardableHeaders(
  headers: http.IncomingHttpHeaders,
  drop?: ReadonlySet<string>,
): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k) && !drop?.has(k)) out[k] = v;
  }
  return out;
}

/** The mesh's own request headers, which the server sidecar strips before the app. */
export const MESH_HEADERS: ReadonlySet<string> = new Set([ORIGINAL_DST_HEADER, PEER_METADATA_HEADER]);
/** The response's metadata exchange header, which the client sidecar strips before the caller. */
const PEER_METADATA_ONLY: ReadonlySet<string> = new Set([PEER_METADATA_HEADER]);

export interface AttemptResult {
  response?: http.IncomingMessage;
  error?: UpstreamConnectError;
  timedOut?: boolean;
}

export function attemptOnce(
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
  /** This pod's IP, carried in the peer metadata so the server side knows the source pod (chaos `from` rules). */
  sourceIp?: string;
  /** `self` and `sourceIp` already encoded (the proxy encodes them once per config). */
  peerMetadata?: string;
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

/** Streams an upstream response downstream; resolves with the body bytes sent. */
export function pipeResponse(
  response: http.IncomingMessage,
  downstream: http.ServerResponse,
  serviceTimeMs: number,
  flags: string[],
): Promise<number> {
  return new Promise((resolve) => {
    const headers = forwardableHeaders(response.headers, PEER_METADATA_ONLY);
    headers['x-envoy-upstream-service-time'] = String(serviceTimeMs);
    if (flags.length > 0) headers['x-envoy-response-flags'] = formatFlags(flags);
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
