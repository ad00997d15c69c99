// The Envoy-like proxy (sidecar or gateway): listeners, config application, certificates, admin/stats/ready
// endpoints. Imperative shell around the pure route table, authz and stats modules.

import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { spiffeId } from './workload-csr.js';
import {
  createHttp1Server,
  type Http1Server,
  type ServerRequest,
  type ServerResponse,
  serveHttp1,
} from '../../programs/lib/http1/index.js';
import { CONTENT_TYPE } from '../metrics/registry.js';
import type {
  ClusterConfig,
  InboundPort,
  ProxyConfig,
  RouteConfig,
  VirtualHostConfig,
  WorkloadMeta,
} from '../model/proxy-config.js';
import { asRecord, asString } from '../model/read.js';
import { type AccessLogEntry, formatAccessLog } from './access-log.js';
import { renderCerts, renderClusters, renderClustersText, renderConfigDump } from './admin.js';
import { evaluateAuthorization } from './authz.js';
import { type CertProvider, startCertAgent, startFileCerts } from './cert-agent.js';
import { costsFromEnv, ResidentConfig, type ResidentCosts } from './resident-config.js';
import { expandHost, findVirtualHost, indexRoutes, type RouteIndex, selectRoute } from './route-table.js';
import { ProxyStats, type StatsMatcher } from './stats.js';
import { alertForVerifyError, isValidAt, uriSans } from './transport.js';
import { type ChaosHooks, NO_CHAOS, startChaosHooks } from './resilience/chaos-hooks.js';
import { CircuitBreakers } from './resilience/circuit-breaker.js';
import { decideFault } from './resilience/fault-injection.js';
import { formatFlags } from './resilience/flags.js';
import { OutlierDetectors } from './resilience/outlier.js';
import { forwardToCluster, type RouterContext } from './router.js';
import {
  encodePeerMetadata,
  type ForwardOutcome,
  forwardableHeaders,
  MESH_HEADERS,
  ORIGINAL_DST_HEADER,
  PEER_METADATA_HEADER,
  sendLocalReply,
  UpstreamPool,
} from './upstream.js';
import { istiodCertSource, startXdsClient, validateConfig, type XdsClient } from './xds-client.js';

export interface ProxyPorts {
  outbound: number;
  inbound: number;
  stats: number;
  ready: number;
  admin: number;
}

export const DEFAULT_PORTS: ProxyPorts = {
  outbound: 15001,
  inbound: 15006,
  stats: 15020,
  ready: 15021,
  admin: 15000,
};

export interface ProxyOptions {
  mode: 'sidecar' | 'router';
  podIP: string;
  podName: string;
  namespace: string;
  serviceAccount: string;
  trustDomain?: string;
  ports?: Partial<ProxyPorts>;
  /** Configuration source: istiod's stream, or a JSON file (re-read when it changes). */
  config: { kind: 'xds'; istiodUrl: string } | { kind: 'file'; path: string };
  certs:
    | { kind: 'istiod'; istiodUrl: string; ttlMs: number }
    | { kind: 'files'; certChain: string; key: string; root: string };
  statsInclusionRegexps?: string[];
  /** `proxyStatsMatcher` (regexps, prefixes, suffixes); replaces statsInclusionRegexps when given. */
  statsMatcher?: StatsMatcher;
  /** The chaos hooks files (clusters/local/chaos-hooks.ts), polled for changes. */
  chaosFiles?: { networkFaults?: string; timeOffset?: string };
  costs?: ResidentCosts;
  /** Where access log lines go (the program passes stdout). */
  log?: (line: string) => void;
  /** Resolves a host outside the proxy's config (passthrough) to an address. */
  resolveHost?: (host: string) => string;
  connectTimeoutMs?: number;
}

export interface RunningProxy {
  readonly stats: ProxyStats;
  config(): ProxyConfig | undefined;
  ready(): boolean;
  close(): Promise<void>;
}

interface SocketInfo {
  mtls: boolean;
  peerPrincipal?: string;
}

interface PeerMetadata {
  workload: WorkloadMeta | undefined;
  /** The source pod IP a client sidecar put in its peer metadata (the emulation's addition to Istio's fields). */
  ip: string | undefined;
}

function parsePeerMetadata(text: string): PeerMetadata {
  try {
    const m = asRecord(JSON.parse(Buffer.from(text, 'base64').toString('utf8')));
    const ip = asString(m.ip);
    const name = asString(m.name);
    const namespace = asString(m.namespace);
    if (!name || !namespace) return { workload: undefined, ip };
    return {
      workload: {
        name,
        namespace,
        app: asString(m.app) ?? name,
        version: asString(m.version) ?? 'unknown',
        principal: asString(m.principal) ?? 'unknown',
        serviceAccount: asString(m.serviceAccount) ?? 'unknown',
      },
      ip,
    };
  } catch {
    return { workload: undefined, ip: undefined };
  }
}

const NO_PEER: PeerMetadata = { workload: undefined, ip: undefined };
/** Idle time before a downstream connection is closed (Envoy's HTTP idle timeout is 1 h; 30 s is enough here). */
const KEEP_ALIVE_MS = 30_000;
/** A client sidecar sends the same header on every request: decode each distinct value once (bounded). */
const peerMetadataCache = new Map<string, PeerMetadata>();

function decodePeerMetadata(value: string | string[] | undefined): PeerMetadata {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return NO_PEER;
  let found = peerMetadataCache.get(text);
  if (!found) {
    found = parsePeerMetadata(text);
    if (peerMetadataCache.size >= 1024) peerMetadataCache.clear();
    peerMetadataCache.set(text, found);
  }
  return found;
}

function serviceOfHost(
  host: string | undefined,
): { host: string; name: string; namespace: string } | undefined {
  if (!host) return undefined;
  const parts = host.split('.');
  return { host, name: parts[0] ?? host, namespace: parts[1] ?? 'unknown' };
}

/** Authorities and paths the WHATWG URL parser returns unchanged (apart from the host's case). */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(?::[1-9]\d{0,3})?$/;
const PLAIN_PATH = /^(?:[/?][A-Za-z0-9\-._~!$&()*+,;=:@/?%]*)?$/;

/**
 * The authority and path of an absolute-form request target (`http://host:port/path?query`), as an app with
 * HTTP_PROXY sends it, with what `new URL` would give. Plain targets (the usual case) skip the URL parser;
 * anything it would rewrite (dot segments, characters it escapes, userinfo, IPv6) still goes through it.
 */
export function splitAbsoluteUrl(target: string): { host: string; path: string } {
  const start = target.indexOf('//') + 2;
  let end = start;
  while (end < target.length && target[end] !== '/' && target[end] !== '?') end += 1;
  const host = target.slice(start, end);
  const rest = target.slice(end);
  if (start < 2 || !PLAIN_HOST.test(host) || !PLAIN_PATH.test(rest) || rest.includes('/.')) {
    const url = new URL(target);
    return { host: url.host, path: `${url.pathname}${url.search}` };
  }
  const defaultPort = target.startsWith('https:') ? ':443' : ':80';
  const lower = host.toLowerCase();
  return {
    host: lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower,
    path: rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest,
  };
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const ports: ProxyPorts = { ...DEFAULT_PORTS, ...options.ports };
  const trustDomain = options.trustDomain ?? 'cluster.local';
  const log = options.log ?? (() => undefined);
  const self: WorkloadMeta = {
    name: options.podName,
    namespace: options.namespace,
    app: options.podName,
    version: 'unknown',
    principal: `${trustDomain}/ns/${options.namespace}/sa/${options.serviceAccount}`,
    serviceAccount: options.serviceAccount,
  };
  const stats = new ProxyStats(self);
  stats.setStatsMatcher(
    options.statsMatcher ?? {
      inclusionRegexps: options.statsInclusionRegexps ?? [],
      inclusionPrefixes: [],
      inclusionSuffixes: [],
    },
  );
  const chaos: ChaosHooks =
    options.chaosFiles && (options.chaosFiles.networkFaults || options.chaosFiles.timeOffset)
      ? startChaosHooks(options.chaosFiles, log)
      : NO_CHAOS;
  const resident = new ResidentConfig(options.costs ?? costsFromEnv(process.env));
  const started = Date.now();
  stats.registry.onCollect(() => {
    const mem = process.memoryUsage();
    stats.memoryAllocated.set({}, mem.heapUsed + mem.external + mem.arrayBuffers);
    stats.memoryHeapSize.set({}, mem.rss);
    stats.uptime.set({}, Math.floor((Date.now() - started) / 1000));
  });

  let config: ProxyConfig | undefined;
  let outboundIndex: RouteIndex | undefined;
  const gatewayIndexes = new Map<number, RouteIndex>();
  const gatewayServers = new Map<number, Http1Server>();
  let certs: CertProvider | undefined;
  const pool = new UpstreamPool(
    () => certs?.current(),
    options.connectTimeoutMs ?? 1000,
    () => chaos.offsetMs(),
  );
  const socketInfo = new WeakMap<net.Socket, SocketInfo>();
  const closers: (() => void | Promise<void>)[] = [() => chaos.stop()];
  const breakers = new CircuitBreakers();
  const outliers = new OutlierDetectors((cluster, event, active) => {
    stats.setClusterGauge('envoy_cluster_outlier_detection_ejections_active', cluster, active);
    if (event === 'eject')
      stats.incCluster('envoy_cluster_outlier_detection_ejections_enforced_total', cluster);
    if (event === 'overflow') stats.incCluster('envoy_cluster_outlier_detection_ejections_overflow', cluster);
  });
  closers.push(() => outliers.stop());
  // The metadata-exchange header this proxy sends, encoded again only when istiod's view of the workload changes.
  let peerMetadata = encodePeerMetadata(self, options.podIP);
  const router: RouterContext = {
    pool,
    breakers,
    outliers,
    chaos,
    stat: (name, cluster) => stats.incCluster(name, cluster),
  };

  // --- request handling -------------------------------------------------------------------------------

  const finish = (
    req: ServerRequest,
    start: number,
    startDate: Date,
    reporter: 'source' | 'destination',
    outcome: ForwardOutcome & { cluster?: string; route?: string },
    labels: {
      source: WorkloadMeta | undefined;
      destination: WorkloadMeta | undefined;
      service: { host: string; name: string; namespace: string } | undefined;
      mtls: boolean;
    },
    requestBytes: number,
  ): void => {
    const durationMs = performance.now() - start;
    const flags = formatFlags(outcome.flags);
    stats.record({
      reporter,
      source: labels.source,
      destination: labels.destination,
      destinationService: labels.service,
      responseCode: outcome.status,
      responseFlags: flags,
      mtls: labels.mtls,
      durationMs,
      requestBytes,
      responseBytes: outcome.responseBytes,
    });
    const entry: AccessLogEntry = {
      start: startDate,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      protocol: `HTTP/${req.httpVersion}`,
      responseCode: outcome.status,
      responseFlags: flags,
      responseCodeDetails: outcome.details,
      bytesReceived: requestBytes,
      bytesSent: outcome.responseBytes,
      durationMs,
      downstreamRemoteAddress: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      downstreamLocalAddress: `${req.socket.localAddress}:${req.socket.localPort}`,
    };
    // Assigned one by one rather than spread: this runs for every request.
    if (outcome.transportFailure) entry.upstreamTransportFailureReason = outcome.transportFailure;
    if (outcome.upstreamServiceTimeMs !== undefined)
      entry.upstreamServiceTimeMs = outcome.upstreamServiceTimeMs;
    const { headers } = req;
    if (typeof headers['user-agent'] === 'string') entry.userAgent = headers['user-agent'];
    if (typeof headers['x-request-id'] === 'string') entry.requestId = headers['x-request-id'];
    if (headers.host) entry.authority = headers.host;
    if (outcome.upstreamHost) entry.upstreamHost = outcome.upstreamHost;
    if (outcome.cluster) entry.upstreamCluster = outcome.cluster;
    if (outcome.route) entry.routeName = outcome.route;
    log(formatAccessLog(entry));
  };

  // The virtual host for a Host and port is decided once per route table, as Envoy's route config does.
  const virtualHosts = new WeakMap<RouteIndex, Map<string, VirtualHostConfig | undefined>>();
  const virtualHostFor = (
    index: RouteIndex,
    host: string,
    port: number,
    anyPort: boolean,
  ): VirtualHostConfig | undefined => {
    let known = virtualHosts.get(index);
    if (!known) {
      known = new Map();
      virtualHosts.set(index, known);
    }
    const key = `${host}:${port}`;
    if (known.has(key)) return known.get(key);
    const hosts = options.mode === 'sidecar' ? expandHost(host, options.namespace) : [host];
    const found = findVirtualHost(index, hosts, port, anyPort);
    if (known.size >= 4096) known.clear();
    known.set(key, found);
    return found;
  };

  /** Outbound (sidecar) and gateway requests: route, fault, forward, record at reporter="source". */
  const handleRouted = async (
    req: ServerRequest,
    res: ServerResponse,
    index: RouteIndex | undefined,
    target: { host: string; port: number; path: string; anyPort: boolean },
  ): Promise<void> => {
    const start = performance.now();
    const startDate = new Date();
    const body = req.body;
    const headers = forwardableHeaders(req.headers);
    if (!headers['x-request-id']) headers['x-request-id'] = crypto.randomUUID();
    headers['x-forwarded-proto'] = 'http';
    const facts = {
      host: target.host,
      port: target.port,
      path: target.path,
      method: req.method ?? 'GET',
      headers: req.headers as Record<string, string | undefined>,
    };
    if (options.mode === 'router' && config && config.inbound.authorization.length > 0) {
      // A gateway enforces the AuthorizationPolicies that select it before routing (downstream is plaintext).
      const peerIp = req.socket.remoteAddress;
      const decision = evaluateAuthorization(config.inbound.authorization, {
        principal: undefined,
        namespace: undefined,
        path: target.path,
        method: facts.method,
        port: target.port,
        ...(peerIp ? { sourceIp: peerIp } : {}),
        host: target.host,
        headers: facts.headers,
      });
      if (!decision.allowed) {
        const n = sendLocalReply(res, 403, '-', 'RBAC: access denied');
        finish(
          req,
          start,
          startDate,
          'source',
          {
            status: 403,
            flags: [],
            details: decision.details ?? 'rbac_access_denied_matched_policy[none]',
            responseBytes: n,
            mtls: false,
          },
          { source: self, destination: undefined, service: undefined, mtls: false },
          body.length,
        );
        return;
      }
    }
    const vh = index ? virtualHostFor(index, target.host, target.port, target.anyPort) : undefined;
    const decision = index
      ? selectRoute(index, vh, facts, Math.random())
      : ({ kind: 'no-route', flag: 'NR', status: 404 } as const);
    const noLabels = { source: self, destination: undefined, service: undefined, mtls: false };
    if (decision.kind === 'passthrough') {
      if (options.mode === 'router') {
        const n = sendLocalReply(res, 404, 'NR', '');
        finish(
          req,
          start,
          startDate,
          'source',
          { status: 404, flags: ['NR'], details: 'route_not_found', responseBytes: n, mtls: false },
          noLabels,
          body.length,
        );
        return;
      }
      const address = options.resolveHost?.(target.host) ?? target.host;
      const passthrough: ClusterConfig = {
        name: 'PassthroughCluster',
        host: target.host,
        port: target.port,
        subset: '',
        service: { name: target.host, namespace: 'unknown' },
        endpoints: [
          {
            address,
            port: target.port,
            inMesh: false,
            mtls: false,
            labels: {},
            workload: {
              name: 'unknown',
              namespace: 'unknown',
              app: 'unknown',
              version: 'unknown',
              principal: 'unknown',
              serviceAccount: 'unknown',
            },
          },
        ],
        trafficPolicy: {},
      };
      const route: RouteConfig = {
        name: 'allow_any',
        match: [],
        clusters: [],
        retries: { attempts: 0, retryOn: '' },
        source: 'passthrough',
      };
      const outcome = await forwardToCluster(
        router,
        passthrough,
        route,
        {
          method: facts.method,
          path: target.path,
          headers,
          body,
          self,
          sourceIp: options.podIP,
          peerMetadata,
        },
        res,
      );
      finish(
        req,
        start,
        startDate,
        'source',
        { ...outcome, cluster: 'PassthroughCluster' },
        { ...noLabels, service: { host: target.host, name: target.host, namespace: 'unknown' } },
        body.length,
      );
      return;
    }
    if (decision.kind === 'no-route' || decision.kind === 'no-cluster') {
      const n = sendLocalReply(res, decision.status, decision.flag, '');
      const service = vh ? serviceOfHost(vh.domains[0]) : undefined;
      finish(
        req,
        start,
        startDate,
        'source',
        {
          status: decision.status,
          flags: [decision.flag],
          details: decision.kind === 'no-route' ? 'route_not_found' : 'cluster_not_found',
          responseBytes: n,
          mtls: false,
          ...(decision.kind === 'no-cluster'
            ? { cluster: decision.clusterName, route: decision.route.name }
            : {}),
        },
        { ...noLabels, service },
        body.length,
      );
      return;
    }
    const { cluster, route } = decision;
    const service = { host: cluster.host, name: cluster.service.name, namespace: cluster.service.namespace };
    // The fault filter runs before the router: delay first (DI), then abort (FI).
    const fault = decideFault(route.fault, Math.random);
    const preFlags: string[] = [];
    if (fault.delayMs !== undefined) {
      preFlags.push('DI');
      await new Promise((r) => setTimeout(r, fault.delayMs));
    }
    if (fault.abort) {
      preFlags.push('FI');
      const n = sendLocalReply(res, fault.abort.httpStatus, formatFlags(preFlags), 'fault filter abort');
      finish(
        req,
        start,
        startDate,
        'source',
        {
          status: fault.abort.httpStatus,
          flags: preFlags,
          details: 'fault_filter_abort',
          responseBytes: n,
          mtls: false,
          cluster: cluster.name,
          route: route.name,
        },
        { ...noLabels, service },
        body.length,
      );
      return;
    }
    const outcome = await forwardToCluster(
      router,
      cluster,
      route,
      { method: facts.method, path: target.path, headers, body, self, sourceIp: options.podIP, peerMetadata },
      res,
      preFlags,
    );
    finish(
      req,
      start,
      startDate,
      'source',
      { ...outcome, cluster: cluster.name, route: route.name },
      { source: self, destination: outcome.endpoint?.workload, service, mtls: outcome.mtls },
      body.length,
    );
  };

  const handleOutbound = (req: ServerRequest, res: ServerResponse): void => {
    let host = req.headers.host ?? '';
    let path = req.url ?? '/';
    if (path.startsWith('http://') || path.startsWith('https://')) {
      const url = splitAbsoluteUrl(path);
      host = url.host;
      path = url.path;
    }
    const colon = host.lastIndexOf(':');
    const port = colon > 0 ? Number(host.slice(colon + 1)) : 80;
    const hostname = (colon > 0 ? host.slice(0, colon) : host).toLowerCase();
    void handleRouted(req, res, outboundIndex, { host: hostname, port, path, anyPort: false });
  };

  /** inboundPortFor per (Host, original destination), for the current config (cleared by applyConfig). */
  const inboundPorts = new Map<string, InboundPort | undefined>();
  const inboundPortFor = (req: ServerRequest): InboundPort | undefined => {
    const host = req.headers.host ?? '';
    const dst = req.headers[ORIGINAL_DST_HEADER];
    const key = `${host}|${typeof dst === 'string' ? dst : ''}`;
    if (inboundPorts.has(key)) return inboundPorts.get(key);
    const found = findInboundPort(host, dst);
    if (inboundPorts.size >= 1024) inboundPorts.clear();
    inboundPorts.set(key, found);
    return found;
  };

  /** The inbound port a request is for; among services sharing it, the one the Host header names. */
  const findInboundPort = (host: string, dst: string | string[] | undefined): InboundPort | undefined => {
    const ports = config?.inbound.ports ?? [];
    const hostName = host.replace(/:\d+$/, '').toLowerCase();
    const byHost = (candidates: InboundPort[]): InboundPort | undefined =>
      candidates.find((p) => p.service === hostName || p.service.startsWith(`${hostName}.`)) ?? candidates[0];
    const dstPort = typeof dst === 'string' ? Number(dst.slice(dst.lastIndexOf(':') + 1)) : undefined;
    if (dstPort !== undefined) {
      return (
        byHost(ports.filter((p) => p.targetPort === dstPort)) ?? {
          port: dstPort,
          targetPort: dstPort,
          service: '',
          mtls: config?.inbound.defaultMtls ?? 'PERMISSIVE',
        }
      );
    }
    const hostPort = host.includes(':') ? Number(host.slice(host.lastIndexOf(':') + 1)) : undefined;
    return byHost(ports.filter((p) => p.port === hostPort || p.targetPort === hostPort)) ?? ports[0];
  };

  /** The inbound cluster `inbound|PORT||` and its route, built once per config (cleared by applyConfig). */
  const inboundRoutes = new Map<
    string,
    { cluster: ClusterConfig; route: RouteConfig; selfMetadata: string }
  >();
  const inboundRouteFor = (
    targetPort: number,
    service: { name: string; namespace: string } | undefined,
  ): { cluster: ClusterConfig; route: RouteConfig; selfMetadata: string } => {
    const key = `${targetPort}|${service?.name ?? ''}|${service?.namespace ?? ''}`;
    let found = inboundRoutes.get(key);
    if (found) return found;
    found = {
      cluster: {
        name: `inbound|${targetPort}||`,
        host: options.podIP,
        port: targetPort,
        subset: '',
        service: { name: service?.name ?? 'unknown', namespace: service?.namespace ?? 'unknown' },
        endpoints: [
          {
            address: options.podIP,
            port: targetPort,
            inMesh: false,
            mtls: false,
            labels: {},
            workload: self,
          },
        ],
        trafficPolicy: {},
      },
      route: {
        name: 'default',
        match: [],
        clusters: [],
        retries: { attempts: 0, retryOn: '' },
        source: 'inbound',
      },
      selfMetadata: Buffer.from(JSON.stringify(self)).toString('base64'),
    };
    inboundRoutes.set(key, found);
    return found;
  };

  const handleInbound = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
    const start = performance.now();
    const startDate = new Date();
    const info = socketInfo.get(req.socket) ?? { mtls: false };
    const port = inboundPortFor(req);
    const mode = port?.mtls ?? config?.inbound.defaultMtls ?? 'PERMISSIVE';
    // STRICT refuses plaintext and DISABLE has no TLS chain: either way the connection is reset, nothing recorded.
    if ((!info.mtls && mode === 'STRICT') || (info.mtls && mode === 'DISABLE') || !config) {
      req.socket.destroy();
      return;
    }
    const body = req.body;
    const peerMetadata = decodePeerMetadata(req.headers[PEER_METADATA_HEADER]);
    const peer = peerMetadata.workload;
    const source =
      peer && info.mtls && info.peerPrincipal ? { ...peer, principal: info.peerPrincipal } : peer;
    const service = serviceOfHost(port?.service || undefined);
    const labels = { source, destination: self, service, mtls: info.mtls };
    const targetPort = port?.targetPort ?? 80;
    // Chaos hooks, inbound: the request leg comes `from` the peer, the response leg goes `to` it.
    const peerIp = peerMetadata.ip ?? req.socket.remoteAddress;
    const fromLeg = chaos.leg('from', peerIp);
    const toLeg = chaos.leg('to', peerIp);
    if (fromLeg.dropped || toLeg.dropped) {
      // Black hole: nothing comes back; the connection dies after a while, as a peer's retransmits give up.
      setTimeout(() => req.socket.destroy(), pool.connectTimeoutMs).unref();
      return;
    }
    if (fromLeg.delayMs + toLeg.delayMs > 0)
      await new Promise((r) => setTimeout(r, fromLeg.delayMs + toLeg.delayMs));
    const decision = evaluateAuthorization(config.inbound.authorization, {
      principal: info.mtls ? info.peerPrincipal : undefined,
      namespace: info.mtls ? info.peerPrincipal?.split('/')[2] : undefined,
      path: req.url ?? '/',
      method: req.method ?? 'GET',
      port: targetPort,
      ...(peerIp ? { sourceIp: peerIp } : {}),
      host: (req.headers.host ?? '').replace(/:\d+$/, ''),
      headers: req.headers as Record<string, string | undefined>,
    });
    if (!decision.allowed) {
      const n = sendLocalReply(res, 403, '-', 'RBAC: access denied');
      finish(
        req,
        start,
        startDate,
        'destination',
        {
          status: 403,
          flags: [],
          details: decision.details ?? 'rbac_access_denied_matched_policy[none]',
          responseBytes: n,
          mtls: info.mtls,
        },
        labels,
        body.length,
      );
      return;
    }
    const headers = forwardableHeaders(req.headers, MESH_HEADERS);
    const { cluster: local, route, selfMetadata } = inboundRouteFor(targetPort, service);
    res.setHeader(PEER_METADATA_HEADER, selfMetadata);
    const outcome = await forwardToCluster(
      router,
      local,
      route,
      { method: req.method ?? 'GET', path: req.url ?? '/', headers, body, self, inbound: true },
      res,
    );
    finish(
      req,
      start,
      startDate,
      'destination',
      { ...outcome, mtls: info.mtls, cluster: local.name },
      labels,
      body.length,
    );
  };

  // --- config --------------------------------------------------------------------------------------------

  const ensureGatewayListeners = async (next: ProxyConfig): Promise<void> => {
    gatewayIndexes.clear();
    for (const listener of next.gateway) {
      gatewayIndexes.set(listener.listenPort, indexRoutes(next, listener.virtualHosts));
      if (gatewayServers.has(listener.listenPort)) continue;
      const port = listener.listenPort;
      const server = createHttp1Server(
        (req, res) => {
          const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
          void handleRouted(req, res, gatewayIndexes.get(port), {
            host,
            port: listener.serverPort,
            path: req.url,
            anyPort: true,
          });
        },
        { keepAliveTimeoutMs: KEEP_ALIVE_MS },
      );
      gatewayServers.set(port, server);
      await listen(server, port, options.podIP).catch((error: Error) => {
        gatewayServers.delete(port);
        log(
          `[${new Date().toISOString()}] warning: gateway listener ${options.podIP}:${port} failed: ${error.message}\n`,
        );
      });
    }
  };

  const applyConfig = (next: ProxyConfig): string | undefined => {
    const before = new Set(config?.clusters.map((c) => c.name) ?? []);
    const after = new Set(next.clusters.map((c) => c.name));
    stats.clusterAdded.inc({}, [...after].filter((n) => !before.has(n)).length);
    stats.clusterRemoved.inc({}, [...before].filter((n) => !after.has(n)).length);
    // istiod knows the workload (owner, labels): from now on metrics use its view of who we are.
    Object.assign(self, next.node.workload);
    peerMetadata = encodePeerMetadata(self, options.podIP);
    inboundRoutes.clear();
    inboundPorts.clear();
    config = next;
    outboundIndex = indexRoutes(next, next.virtualHosts);
    outliers.sync(next.clusters);
    resident.apply(next);
    stats.activeClusters.set({}, next.clusters.length);
    stats.cdsUpdateSuccess.inc();
    if (options.mode === 'router') void ensureGatewayListeners(next);
    return undefined;
  };

  // --- listeners -------------------------------------------------------------------------------------------

  const outboundServer = createHttp1Server(handleOutbound, { keepAliveTimeoutMs: KEEP_ALIVE_MS });
  const inboundSockets = new Set<net.Socket>();
  const serveInbound = (socket: net.Socket, info: SocketInfo, initial?: Buffer): void => {
    socketInfo.set(socket, info);
    serveHttp1(
      socket,
      (req, res) => void handleInbound(req, res),
      { keepAliveTimeoutMs: KEEP_ALIVE_MS },
      initial,
    );
  };
  // Sockets are sniffed (first byte) before TLS or HTTP sees them. TLS takes the native handle and replays bytes
  // unshifted into the socket (Node's TLSSocket reads a socket's buffered data first); plaintext HTTP starts
  // from the sniffed bytes.
  const tlsServer = tls.createServer({
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ['istio-peer-exchange', 'istio', 'http/1.1'],
  });
  tlsServer.on('tlsClientError', () => undefined);
  let secureContext = false;
  const inboundTls = new Set<tls.TLSSocket>();
  // A TimeChaos clock jump: certificates are checked at the next handshake. Envoy would keep already-open
  // connections until they close; the emulation re-handshakes at once so a drill sees the new clock without
  // waiting for connection churn (documented in docs/local-target-fidelity.md).
  chaos.onClockChange(() => {
    pool.rotate();
    for (const socket of inboundTls) socket.destroy();
    inboundTls.clear();
  });
  tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
    inboundTls.add(socket);
    socket.once('close', () => inboundTls.delete(socket));
    const peer = socket.getPeerCertificate();
    if (!socket.authorized) {
      const code =
        typeof socket.authorizationError === 'string'
          ? socket.authorizationError
          : (socket.authorizationError as NodeJS.ErrnoException | null)?.code;
      socket.end(`alert ${alertForVerifyError(peer && Object.keys(peer).length > 0 ? code : undefined)}\n`);
      return;
    }
    // TimeChaos: the pod's clock, not the host's, decides whether the client certificate is still valid.
    if (chaos.offsetMs() !== 0 && !isValidAt(peer, chaos.now())) {
      socket.end('alert certificate_expired\n');
      return;
    }
    const principal = uriSans(peer.subjectaltname)[0]?.replace(/^spiffe:\/\//, '');
    socket.write('ok\n');
    serveInbound(socket, { mtls: true, ...(principal ? { peerPrincipal: principal } : {}) });
  });
  const refreshTls = (): void => {
    const material = certs?.current();
    if (!material) return;
    tlsServer.setSecureContext({ cert: material.certChainPem, key: material.keyPem, ca: material.rootPem });
    secureContext = true;
    pool.rotate();
  };
  const inboundServer = net.createServer({ noDelay: true }, (socket) => {
    inboundSockets.add(socket);
    socket.once('close', () => inboundSockets.delete(socket));
    socket.once('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      const allDisabled =
        config !== undefined &&
        config.inbound.defaultMtls === 'DISABLE' &&
        config.inbound.ports.every((p) => p.mtls === 'DISABLE');
      // 0x16: a TLS handshake record. TLS meets the TLS chain unless the workload has no TLS chain at all.
      if (chunk[0] === 0x16 && !allDisabled && secureContext) {
        // Encryption stays in C++ on the socket's own handle: 'data' listeners go, the sniffed bytes go back.
        socket.pause();
        socket.unshift(chunk);
        tlsServer.emit('connection', socket);
      } else {
        serveInbound(socket, { mtls: false }, chunk);
      }
    });
  });

  const readyServer = http.createServer((req, res) => {
    if (req.url?.startsWith('/healthz/ready')) {
      const ok = config !== undefined && (options.mode === 'router' || certs?.current() !== undefined);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(
        ok ? '' : config ? 'workload certificate not received\n' : 'config not received from XDS server\n',
      );
      return;
    }
    res.writeHead(404).end();
  });
  const statsServer = http.createServer((req, res) => {
    if (req.url?.startsWith('/stats/prometheus')) {
      res.writeHead(200, { 'content-type': CONTENT_TYPE });
      res.end(stats.render());
      return;
    }
    if (req.url?.startsWith('/healthz/ready')) {
      readyServer.emit('request', req, res);
      return;
    }
    res.writeHead(404).end();
  });
  const adminServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const json = (body: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, 2));
    };
    if (url.pathname === '/config_dump') {
      json(
        renderConfigDump(
          config,
          certs?.current(),
          certs?.notAfter(),
          { now: chaos.now(), offsetMs: chaos.offsetMs() },
          chaos.rules(),
        ),
      );
      return;
    }
    if (url.pathname === '/certs') {
      json(renderCerts(certs?.current(), chaos.now()));
      return;
    }
    if (url.pathname === '/clusters') {
      const status = renderClusters(config?.clusters ?? [], breakers, outliers);
      if (url.searchParams.get('format') === 'json') json(status);
      else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(renderClustersText(status));
      }
      return;
    }
    if (url.pathname === '/stats/prometheus') {
      res.writeHead(200, { 'content-type': CONTENT_TYPE });
      res.end(stats.render());
      return;
    }
    if (url.pathname === '/stats') {
      const body = stats.renderJson();
      if (url.searchParams.get('format') === 'json') json(body);
      else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(body.stats.map((s) => `${s.name}: ${s.value}`).join('\n') + '\n');
      }
      return;
    }
    if (url.pathname === '/memory') {
      json({ ...process.memoryUsage(), resident_config: resident.residentBytes() });
      return;
    }
    res.writeHead(404).end();
  });

  const servers: [net.Server, number][] = [
    [statsServer, ports.stats],
    [readyServer, ports.ready],
    [adminServer, ports.admin],
  ];
  if (options.mode === 'sidecar') {
    servers.push([outboundServer, ports.outbound], [inboundServer, ports.inbound]);
  }
  for (const [server, port] of servers) await listen(server, port, options.podIP);

  // --- certificates and configuration sources ---------------------------------------------------------------

  const identity = spiffeId(trustDomain, options.namespace, options.serviceAccount);
  if (options.certs.kind === 'files') {
    certs = startFileCerts(
      { certChain: options.certs.certChain, key: options.certs.key, root: options.certs.root },
      stats,
      refreshTls,
      chaos,
    );
  } else {
    certs = startCertAgent({
      identity,
      ttlMs: options.certs.ttlMs,
      source: istiodCertSource(options.certs.istiodUrl, {
        namespace: options.namespace,
        serviceAccount: options.serviceAccount,
        podName: options.podName,
      }),
      stats,
      onChange: refreshTls,
      clock: chaos,
    });
  }
  // The provider may have loaded material before `certs` was assigned: apply it now.
  refreshTls();
  closers.push(() => certs?.stop());

  let xds: XdsClient | undefined;
  if (options.config.kind === 'file') {
    const path = options.config.path;
    const load = (): void => {
      try {
        const checked = validateConfig(JSON.parse(readFileSync(path, 'utf8')));
        if ('config' in checked) applyConfig(checked.config);
        else stats.cdsUpdateRejected.inc();
      } catch {
        // A half-written file: the next change re-reads it.
      }
    };
    load();
    watchFile(path, { interval: 200 }, load);
    closers.push(() => unwatchFile(path, load));
  } else {
    xds = startXdsClient({
      baseUrl: options.config.istiodUrl,
      identity: {
        podName: options.podName,
        namespace: options.namespace,
        podIP: options.podIP,
        mode: options.mode,
      },
      stats,
      apply: applyConfig,
    });
    closers.push(() => xds?.stop());
  }

  return {
    stats,
    config: () => config,
    ready: () => config !== undefined,
    async close() {
      for (const c of closers) await c();
      pool.close();
      for (const socket of inboundSockets) socket.destroy();
      const all = [...servers.map(([s]) => s), ...gatewayServers.values()];
      await Promise.all(
        all.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (!s.listening) {
                resolve();
                return;
              }
              s.close(() => resolve());
              (s as Partial<Http1Server>).closeAllConnections?.();
            }),
        ),
      );
    },
  };
}
