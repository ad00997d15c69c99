// The upstream side of the proxy: connection pools per endpoint (Istio mTLS to in-mesh endpoints' inbound port,
// plaintext otherwise), endpoint picking, one attempt, local replies and response streaming. The retry loop,
// timeouts and circuit breakers around them live in router.ts.

import type { Socket } from 'node:net';
import {
  type ClientResponse,
  ConnectionPool,
  type Headers,
  type OutgoingHeaders,
  type ServerResponse,
} from '../../programs/lib/http1/index.js';
import type { ClusterConfig, EndpointConfig, WorkloadMeta } from '../model/proxy-config.js';
import { type ConnectionLifetime, parseConnectionLifetime } from './resilience/connection-lifetime.js';
import { formatFlags } from './resilience/flags.js';
import type { ClusterStatName } from './stats.js';
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
  private readonly pools = new Map<string, ConnectionPool>();
  private readonly roundRobin = new Map<string, number>();
  private tlsGeneration = 0;

  constructor(
    private readonly getTls: () => WorkloadTls | undefined,
    readonly connectTimeoutMs = 1000,
    /** The pod's clock offset (TimeChaos); 0 leaves validity to the TLS stack's own check. */
    private readonly clockOffsetMs: () => number = () => 0,
    /** Counts a per-cluster stat (the TLS handshake outcomes); the proxy's stats matcher decides if it exists. */
    private readonly stat: (name: ClusterStatName, cluster: string) => void = () => undefined,
  ) {}

  /** New certificates: new connections use them; old pooled connections drain on their own. */
  rotate(): void {
    this.tlsGeneration += 1;
    const old = [...this.pools.values()];
    this.pools.clear();
    setTimeout(() => {
      for (const p of old) p.destroy();
    }, 10_000).unref();
  }

  close(): void {
    for (const p of this.pools.values()) p.destroy();
    this.pools.clear();
  }

  /** The keep-alive connections to one endpoint, within the cluster's connection lifetime limits. */
  poolFor(endpoint: EndpointConfig, cluster: ClusterConfig): ConnectionPool {
    const { lifetime, key: lifetimeKey } = lifetimeOf(cluster.trafficPolicy);
    const key = `${endpointKeyOf(endpoint)}|${this.tlsGeneration}|${lifetimeKey}`;
    let pool = this.pools.get(key);
    if (pool) return pool;
    const port = endpoint.inMesh ? INBOUND_PORT : endpoint.port;
    const connect = (): Promise<Socket> => {
      if (!endpoint.mtls) return connectPlain(endpoint.address, port, this.connectTimeoutMs);
      const tls = this.getTls();
      if (!tls) {
        return Promise.reject(
          new UpstreamConnectError('connection failure', 'no workload certificate yet (SDS)'),
        );
      }
      return connectMtls({
        host: endpoint.address,
        port,
        tls,
        expectedIdentity:
          endpoint.workload.principal === 'unknown' ? undefined : `spiffe://${endpoint.workload.principal}`,
        sni: `outbound_.${cluster.port}_.${cluster.subset}_.${cluster.host}`,
        timeoutMs: this.connectTimeoutMs,
        ...(this.clockOffsetMs() !== 0 ? { now: Date.now() + this.clockOffsetMs() } : {}),
      }).then(
        (socket) => {
          this.stat('envoy_cluster_ssl_handshake', cluster.name);
          return socket;
        },
        (error: unknown) => {
          if (error instanceof UpstreamConnectError && error.tlsStat)
            this.stat(`envoy_cluster_ssl_${error.tlsStat}`, cluster.name);
          throw error;
        },
      );
    };
    pool = new ConnectionPool(connect, lifetime);
    this.pools.set(key, pool);
    return pool;
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
export function forwardableHeaders(headers: Headers, drop?: ReadonlySet<string>): OutgoingHeaders {
  const out: OutgoingHeaders = {};
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
  response?: ClientResponse;
  error?: UpstreamConnectError;
  timedOut?: boolean;
}

/** An attempt in flight; destroying it closes its connection (the route timeout does that). */
export interface InflightAttempt {
  destroy(): void;
}

/** Envoy's reset reason for an error on an upstream connection. */
function resetOf(error: NodeJS.ErrnoException): UpstreamConnectError {
  if (error instanceof UpstreamConnectError) return error;
  if (error.code === 'ECONNREFUSED')
    return new UpstreamConnectError('connection failure', 'delayed connect error: 111');
  return new UpstreamConnectError('connection termination', undefined);
}

export function attemptOnce(
  pool: UpstreamPool,
  cluster: ClusterConfig,
  endpoint: EndpointConfig,
  request: { method: string; path: string; headers: OutgoingHeaders; body: Buffer },
  perTryTimeoutMs: number | undefined,
  onRequest: (attempt: InflightAttempt) => void,
): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let settled = false;
    let destroyConnection: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const settle = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(result);
    };
    const fail = (error: NodeJS.ErrnoException): void => settle({ error: resetOf(error) });
    onRequest({
      destroy() {
        fail(new UpstreamConnectError('connection termination', undefined));
        destroyConnection?.();
      },
    });
    if (perTryTimeoutMs !== undefined) {
      timer = setTimeout(() => {
        settle({ timedOut: true });
        destroyConnection?.();
      }, perTryTimeoutMs);
    }
    const headers =
      request.headers.host === undefined
        ? { ...request.headers, host: `${endpoint.address}:${endpoint.port}` }
        : request.headers;
    pool
      .poolFor(endpoint, cluster)
      .acquire()
      .then((connection) => {
        if (settled) {
          // Timed out or destroyed while connecting: the new connection is not used for this attempt.
          connection.destroy();
          return;
        }
        destroyConnection = () => connection.destroy();
        connection.send(
          { method: request.method, path: request.path, headers, body: request.body },
          { response: (response) => settle({ response }), error: fail },
        );
      }, fail);
  });
}

export interface ForwardRequest {
  method: string;
  path: string;
  headers: OutgoingHeaders;
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
export function sendLocalReply(res: ServerResponse, status: number, flags: string, body: string): number {
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
  response: ClientResponse,
  downstream: ServerResponse,
  serviceTimeMs: number,
  flags: string[],
): Promise<number> {
  return new Promise((resolve) => {
    const headers = forwardableHeaders(response.headers, PEER_METADATA_ONLY);
    headers['x-envoy-upstream-service-time'] = String(serviceTimeMs);
    if (flags.length > 0) headers['x-envoy-response-flags'] = formatFlags(flags);
    let bytes = 0;
    if (!downstream.headersSent) downstream.writeHead(response.statusCode, headers);
    response.consume({
      data(chunk) {
        bytes += chunk.length;
        downstream.write(chunk);
      },
      end() {
        downstream.end();
        resolve(bytes);
      },
      abort() {
        downstream.destroy();
        resolve(bytes);
      },
    });
  });
}
