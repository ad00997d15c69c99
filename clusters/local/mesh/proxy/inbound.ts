// The sidecar's inbound side: a request that came in on the inbound listener (listeners.ts), on its way to
// the app in the same pod. The port's mTLS mode, the peer's identity, the chaos hooks, authorization, then
// the local cluster `inbound|PORT||`; recorded at reporter="destination".

import type { ServerRequest, ServerResponse } from '../../programs/lib/http1/index.js';
import type { InboundPort, MtlsMode, ProxyConfig, WorkloadMeta } from '../model/proxy-config.js';
import { type AuthzDecision, evaluateAuthorization } from './authz.js';
import { decodePeerMetadata } from './peer-metadata.js';
import {
  beginRequest,
  type RequestLabels,
  type RequestStart,
  recordRequest,
  replyLocally,
  type ServiceLabel,
  serviceOfHost,
} from './record.js';
import { forwardToCluster } from './router.js';
import type { InboundRoute, ProxyState } from './state.js';
import { forwardableHeaders, MESH_HEADERS, ORIGINAL_DST_HEADER, PEER_METADATA_HEADER } from './upstream.js';

/** What the inbound listener learnt about a connection before HTTP: mTLS or not, and the peer's identity. */
export interface SocketInfo {
  mtls: boolean;
  peerPrincipal?: string;
}

/** The port's mTLS mode does not accept this connection's transport. */
function refusesTransport(info: SocketInfo, mode: MtlsMode): boolean {
  return (!info.mtls && mode === 'STRICT') || (info.mtls && mode === 'DISABLE');
}

/** The calling workload (with the principal its certificate proves, under mTLS) and its pod IP. */
function identifyPeer(
  req: ServerRequest,
  info: SocketInfo,
): {
  source: WorkloadMeta | undefined;
  ip: string | undefined;
} {
  const peerMetadata = decodePeerMetadata(req.headers[PEER_METADATA_HEADER]);
  const peer = peerMetadata.workload;
  const source = peer && info.mtls && info.peerPrincipal ? { ...peer, principal: info.peerPrincipal } : peer;
  return { source, ip: peerMetadata.ip ?? req.socket.remoteAddress };
}

/** Chaos hooks, inbound: the request leg comes `from` the peer, the response leg goes `to` it. */
function inboundLegs(state: ProxyState, peerIp: string | undefined): { dropped: boolean; delayMs: number } {
  const fromLeg = state.chaos.leg('from', peerIp);
  const toLeg = state.chaos.leg('to', peerIp);
  return { dropped: fromLeg.dropped || toLeg.dropped, delayMs: fromLeg.delayMs + toLeg.delayMs };
}

function authorizeInbound(
  config: ProxyConfig,
  req: ServerRequest,
  info: SocketInfo,
  targetPort: number,
  peerIp: string | undefined,
): AuthzDecision {
  return evaluateAuthorization(config.inbound.authorization, {
    principal: info.mtls ? info.peerPrincipal : undefined,
    namespace: info.mtls ? info.peerPrincipal?.split('/')[2] : undefined,
    path: req.url ?? '/',
    method: req.method ?? 'GET',
    port: targetPort,
    ...(peerIp ? { sourceIp: peerIp } : {}),
    host: (req.headers.host ?? '').replace(/:\d+$/, ''),
    headers: req.headers as Record<string, string | undefined>,
  });
}

export async function handleInbound(
  state: ProxyState,
  req: ServerRequest,
  res: ServerResponse,
  info: SocketInfo,
): Promise<void> {
  const began = beginRequest();
  const port = inboundPortFor(state, req);
  // STRICT refuses plaintext and DISABLE has no TLS chain: either way the connection is reset, nothing recorded.
  if (!state.config || refusesTransport(info, port?.mtls ?? state.config.inbound.defaultMtls)) {
    req.socket.destroy();
    return;
  }
  const peer = identifyPeer(req, info);
  const service = serviceOfHost(port?.service || undefined);
  const labels = { source: peer.source, destination: state.self, service, mtls: info.mtls };
  const targetPort = port?.targetPort ?? 80;
  const legs = inboundLegs(state, peer.ip);
  if (legs.dropped) {
    // Black hole: nothing comes back; the connection dies after a while, as a peer's retransmits give up.
    setTimeout(() => req.socket.destroy(), state.pool.connectTimeoutMs).unref();
    return;
  }
  if (legs.delayMs > 0) await new Promise((r) => setTimeout(r, legs.delayMs));
  const decision = authorizeInbound(state.config, req, info, targetPort, peer.ip);
  if (!decision.allowed) {
    const details = decision.details ?? 'rbac_access_denied_matched_policy[none]';
    const reply = { status: 403, flags: [], details, body: 'RBAC: access denied', mtls: info.mtls };
    replyLocally(state, req, res, began, 'destination', reply, labels);
    return;
  }
  await forwardToApp(state, req, res, began, { targetPort, service, mtls: info.mtls }, labels);
}

/** Forwards to the app through the inbound cluster and records the request. */
async function forwardToApp(
  state: ProxyState,
  req: ServerRequest,
  res: ServerResponse,
  began: RequestStart,
  to: { targetPort: number; service: ServiceLabel | undefined; mtls: boolean },
  labels: RequestLabels,
): Promise<void> {
  const headers = forwardableHeaders(req.headers, MESH_HEADERS);
  const { cluster: local, route, selfMetadata } = inboundRouteFor(state, to.targetPort, to.service);
  res.setHeader(PEER_METADATA_HEADER, selfMetadata);
  const outcome = await forwardToCluster(
    state.router,
    local,
    route,
    {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers,
      body: req.body,
      self: state.self,
      inbound: true,
    },
    res,
  );
  recordRequest(state, req, began, 'destination', { ...outcome, mtls: to.mtls, cluster: local.name }, labels);
}

/** inboundPortFor per (Host, original destination), for the current config (cleared by applyConfig). */
function inboundPortFor(state: ProxyState, req: ServerRequest): InboundPort | undefined {
  const host = req.headers.host ?? '';
  const dst = req.headers[ORIGINAL_DST_HEADER];
  const key = `${host}|${typeof dst === 'string' ? dst : ''}`;
  const known = state.inboundPorts;
  if (known.has(key)) return known.get(key);
  const found = findInboundPort(state.config, host, dst);
  if (known.size >= 1024) known.clear();
  known.set(key, found);
  return found;
}

/** The inbound port a request is for; among services sharing it, the one the Host header names. */
function findInboundPort(
  config: ProxyConfig | undefined,
  host: string,
  dst: string | string[] | undefined,
): InboundPort | undefined {
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
}

/** The inbound cluster `inbound|PORT||` and its route, built once per config (cleared by applyConfig). */
function inboundRouteFor(
  state: ProxyState,
  targetPort: number,
  service: { name: string; namespace: string } | undefined,
): InboundRoute {
  const key = `${targetPort}|${service?.name ?? ''}|${service?.namespace ?? ''}`;
  let found = state.inboundRoutes.get(key);
  if (found) return found;
  found = buildInboundRoute(state, targetPort, service);
  state.inboundRoutes.set(key, found);
  return found;
}

function buildInboundRoute(
  state: ProxyState,
  targetPort: number,
  service: { name: string; namespace: string } | undefined,
): InboundRoute {
  const { options, self } = state;
  return {
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
}
