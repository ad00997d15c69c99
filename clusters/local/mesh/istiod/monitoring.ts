// istiod's monitoring port: /metrics, /ready, and the debug endpoints `istioctl proxy-status` and
// `istioctl proxy-config` read (/debug/syncz, /debug/config_dump?proxyID=POD.NS).

import type http from 'node:http';
import { CONTENT_TYPE } from '../metrics/registry.js';
import { sendJson } from './http-util.js';
import type { IstiodState, ProxyStatus } from './state.js';

/**
 * One proxy's entry of `/debug/syncz` in istiod's SyncStatus shape (what `istioctl proxy-status` reads): the
 * nonce sent and acknowledged per xDS type. This istiod pushes one versioned snapshot for CDS, LDS, RDS and EDS
 * together, so the four types share a nonce; ECDS is never sent. The emulation's own fields stay alongside.
 */
function syncStatusOf(status: ProxyStatus, istioVersion: string): Record<string, unknown> {
  const sent = status.sentNonce ?? '';
  const acked = status.ackedNonce ?? '';
  return {
    ...status,
    cluster_id: 'Kubernetes',
    proxy: status.id,
    proxy_type: status.mode,
    // Each proxy's own version, as istiod reports it (a proxy left on another version shows as such).
    istio_version: status.istioVersion ?? istioVersion,
    cluster_sent: sent,
    cluster_acked: acked,
    listener_sent: sent,
    listener_acked: acked,
    route_sent: sent,
    route_acked: acked,
    endpoint_sent: sent,
    endpoint_acked: acked,
  };
}

/** The configuration last pushed to one proxy, as sent. */
function sendConfigDump(s: IstiodState, url: URL, res: http.ServerResponse): void {
  const id = url.searchParams.get('proxyID') ?? '';
  const conn = s.connections.get(id);
  if (!conn?.lastConfigJson) {
    sendJson(res, 404, { error: `proxy ${id} is not connected` });
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(conn.lastConfigJson);
}

export function serveMonitoring(s: IstiodState, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://istiod');
  if (url.pathname === '/metrics') {
    res.writeHead(200, { 'content-type': CONTENT_TYPE });
    res.end(s.metrics.registry.render());
    return;
  }
  if (url.pathname === '/ready') {
    res.writeHead(s.synced ? 200 : 503).end(s.synced ? '' : 'not synced');
    return;
  }
  if (url.pathname === '/debug/syncz') {
    sendJson(
      res,
      200,
      [...s.connections.values()].map((c) => syncStatusOf(c.status, s.istioVersion)),
    );
    return;
  }
  if (url.pathname === '/debug/config_dump') {
    sendConfigDump(s, url, res);
    return;
  }
  sendJson(res, 404, { error: `no route ${url.pathname}` });
}
