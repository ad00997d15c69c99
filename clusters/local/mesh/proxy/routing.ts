// Outbound (sidecar) and gateway requests, in Envoy's filter order: the gateway's authorization, the route
// table (virtual host, route, weighted cluster), the fault filter, then router.ts's forwardToCluster
// (retries, timeouts, circuit breakers, outlier detection); recorded at reporter="source". Hosts outside the
// config go to the PassthroughCluster (sidecars) or get 404 NR (gateways).

import type { OutgoingHeaders, ServerRequest, ServerResponse } from '../../programs/lib/http1/index.js';
import type { ClusterConfig, RouteConfig, VirtualHostConfig } from '../model/proxy-config.js';
import { evaluateAuthorization } from './authz.js';
import type { ProxyOptions } from './options.js';
import {
  beginRequest,
  type RequestLabels,
  type RequestStart,
  recordRequest,
  replyLocally,
  type ServiceLabel,
} from './record.js';
import { decideFault } from './resilience/fault-injection.js';
import {
  expandHost,
  findVirtualHost,
  type RequestFacts,
  type RouteDecision,
  type RouteIndex,
  selectRoute,
} from './route-table.js';
import { forwardToCluster } from './router.js';
import type { ProxyState } from './state.js';
import { type ForwardRequest, forwardableHeaders } from './upstream.js';

/** Where a request is going: Host (lower case, no port), port, path; `anyPort` for gateways. */
export interface RouteTarget {
  host: string;
  port: number;
  path: string;
  anyPort: boolean;
}

/** One routed request on its way through the steps below. */
interface Routed {
  req: ServerRequest;
  res: ServerResponse;
  began: RequestStart;
  target: RouteTarget;
  method: string;
  /** The headers sent upstream. */
  headers: OutgoingHeaders;
}

type Unrouted = Extract<RouteDecision, { kind: 'no-route' | 'no-cluster' }>;

const NO_INDEX: RouteDecision = { kind: 'no-route', flag: 'NR', status: 404 };

/** Outbound (sidecar) and gateway requests: route, fault, forward, record at reporter="source". */
export async function handleRouted(
  state: ProxyState,
  req: ServerRequest,
  res: ServerResponse,
  index: RouteIndex | undefined,
  target: RouteTarget,
): Promise<void> {
  const began = beginRequest();
  const headers = forwardableHeaders(req.headers);
  if (!headers['x-request-id']) headers['x-request-id'] = crypto.randomUUID();
  headers['x-forwarded-proto'] = 'http';
  const facts: RequestFacts = {
    host: target.host,
    port: target.port,
    path: target.path,
    method: req.method ?? 'GET',
    headers: req.headers as Record<string, string | undefined>,
  };
  const routed: Routed = { req, res, began, target, method: facts.method, headers };
  if (gatewayDenies(state, routed, facts.headers)) return;
  const vh = index ? virtualHostFor(state.options, index, target) : undefined;
  const decision = index ? selectRoute(index, vh, facts, Math.random()) : NO_INDEX;
  if (decision.kind === 'passthrough') return forwardPassthrough(state, routed);
  if (decision.kind === 'route') return forwardRouted(state, routed, decision.cluster, decision.route);
  replyUnrouted(state, routed, decision);
}

/** The labels of a request this proxy sends (reporter="source") before a destination is known. */
function sourceLabels(state: ProxyState): RequestLabels {
  return { source: state.self, destination: undefined, service: undefined, mtls: false };
}

/** A gateway enforces the AuthorizationPolicies that select it before routing (downstream is plaintext). */
function gatewayDenies(
  state: ProxyState,
  routed: Routed,
  headers: Record<string, string | undefined>,
): boolean {
  const { config, options } = state;
  if (options.mode !== 'router' || !config || config.inbound.authorization.length === 0) return false;
  const { req, target } = routed;
  const peerIp = req.socket.remoteAddress;
  const decision = evaluateAuthorization(config.inbound.authorization, {
    principal: undefined,
    namespace: undefined,
    path: target.path,
    method: routed.method,
    port: target.port,
    ...(peerIp ? { sourceIp: peerIp } : {}),
    host: target.host,
    headers,
  });
  if (decision.allowed) return false;
  const details = decision.details ?? 'rbac_access_denied_matched_policy[none]';
  const reply = { status: 403, flags: [], details, body: 'RBAC: access denied', mtls: false };
  replyLocally(state, req, routed.res, routed.began, 'source', reply, sourceLabels(state));
  return true;
}

// The virtual host for a Host and port is decided once per route table, as Envoy's route config does.
// (A route table belongs to one proxy, so the options a lookup depends on are the same for all its entries.)
const virtualHosts = new WeakMap<RouteIndex, Map<string, VirtualHostConfig | undefined>>();

function virtualHostFor(
  options: ProxyOptions,
  index: RouteIndex,
  target: RouteTarget,
): VirtualHostConfig | undefined {
  let known = virtualHosts.get(index);
  if (!known) {
    known = new Map();
    virtualHosts.set(index, known);
  }
  const key = `${target.host}:${target.port}`;
  if (known.has(key)) return known.get(key);
  const hosts = options.mode === 'sidecar' ? expandHost(target.host, options.namespace) : [target.host];
  const found = findVirtualHost(index, hosts, target.port, target.anyPort);
  if (known.size >= 4096) known.clear();
  known.set(key, found);
  return found;
}

/** No route for the request (404 NR), or its route names a cluster the config lacks (503 NC). */
function replyUnrouted(state: ProxyState, routed: Routed, decision: Unrouted): void {
  const reply = {
    status: decision.status,
    flags: [decision.flag],
    details: decision.kind === 'no-route' ? 'route_not_found' : 'cluster_not_found',
    body: '',
    mtls: false,
    ...(decision.kind === 'no-cluster' ? { cluster: decision.clusterName, route: decision.route.name } : {}),
  };
  const labels = { ...sourceLabels(state), service: hostHeaderService(routed.req) };
  replyLocally(state, routed.req, routed.res, routed.began, 'source', reply, labels);
}

/**
 * The destination service of a request that reached no cluster (NR, NC): Istio's stats filter reads the service
 * from the upstream cluster's metadata, and without one falls back to the Host header as sent (port included)
 * for both destination_service and destination_service_name; with no peer, the namespace is `unknown`.
 */
function hostHeaderService(req: ServerRequest): ServiceLabel | undefined {
  const host = req.headers.host;
  return typeof host === 'string' && host !== '' ? { host, name: host, namespace: 'unknown' } : undefined;
}

/** The request as the router sends it upstream, with this proxy's peer metadata. */
function upstreamRequest(state: ProxyState, routed: Routed): ForwardRequest {
  return {
    method: routed.method,
    path: routed.target.path,
    headers: routed.headers,
    body: routed.req.body,
    self: state.self,
    sourceIp: state.options.podIP,
    peerMetadata: state.peerMetadata,
  };
}

/** A host outside the config: sidecars pass it through to its own address, gateways answer 404 NR. */
async function forwardPassthrough(state: ProxyState, routed: Routed): Promise<void> {
  const { req, res, began, target } = routed;
  if (state.options.mode === 'router') {
    const reply = { status: 404, flags: ['NR'], details: 'route_not_found', body: '', mtls: false };
    const labels = { ...sourceLabels(state), service: hostHeaderService(req) };
    replyLocally(state, req, res, began, 'source', reply, labels);
    return;
  }
  const address = state.options.resolveHost?.(target.host) ?? target.host;
  const cluster = passthroughCluster(target, address);
  const outcome = await forwardToCluster(
    state.router,
    cluster,
    allowAnyRoute(),
    upstreamRequest(state, routed),
    res,
  );
  const service = { host: target.host, name: target.host, namespace: 'unknown' };
  const labels = { ...sourceLabels(state), service };
  recordRequest(state, req, began, 'source', { ...outcome, cluster: 'PassthroughCluster' }, labels);
}

function passthroughCluster(target: RouteTarget, address: string): ClusterConfig {
  return {
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
}

function allowAnyRoute(): RouteConfig {
  return {
    name: 'allow_any',
    match: [],
    clusters: [],
    retries: { attempts: 0, retryOn: '' },
    source: 'passthrough',
  };
}

/** A routed request: the fault filter, then the router to the route's cluster. */
async function forwardRouted(
  state: ProxyState,
  routed: Routed,
  cluster: ClusterConfig,
  route: RouteConfig,
): Promise<void> {
  const { req, res, began } = routed;
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
    const reply = {
      status: fault.abort.httpStatus,
      flags: preFlags,
      details: 'fault_filter_abort',
      body: 'fault filter abort',
      mtls: false,
      cluster: cluster.name,
      route: route.name,
    };
    replyLocally(state, req, res, began, 'source', reply, { ...sourceLabels(state), service });
    return;
  }
  const outcome = await forwardToCluster(
    state.router,
    cluster,
    route,
    upstreamRequest(state, routed),
    res,
    preFlags,
  );
  const labels = { source: state.self, destination: outcome.endpoint?.workload, service, mtls: outcome.mtls };
  recordRequest(
    state,
    req,
    began,
    'source',
    { ...outcome, cluster: cluster.name, route: route.name },
    labels,
  );
}
