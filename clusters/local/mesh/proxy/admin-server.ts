// The proxy's own HTTP servers: readiness (:15021), merged Prometheus stats (:15020) and the Envoy admin API
// (:15000, rendered by admin.ts).

import http from 'node:http';
import { CONTENT_TYPE } from '../metrics/registry.js';
import { renderCerts, renderClusters, renderClustersText, renderConfigDump } from './admin.js';
import type { ProxyState } from './state.js';

export interface AdminServers {
  readonly ready: http.Server;
  readonly stats: http.Server;
  readonly admin: http.Server;
}

/** Ready once a config arrived and, for a sidecar, a workload certificate. */
function serveReadiness(state: ProxyState, res: http.ServerResponse): void {
  const { config } = state;
  const ok =
    config !== undefined && (state.options.mode === 'router' || state.certs?.current() !== undefined);
  res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
  res.end(ok ? '' : config ? 'workload certificate not received\n' : 'config not received from XDS server\n');
}

function servePrometheus(state: ProxyState, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': CONTENT_TYPE });
  res.end(state.stats.render());
}

function createReadyServer(state: ProxyState): http.Server {
  return http.createServer((req, res) => {
    if (req.url?.startsWith('/healthz/ready')) {
      serveReadiness(state, res);
      return;
    }
    res.writeHead(404).end();
  });
}

function createStatsServer(state: ProxyState, ready: http.Server): http.Server {
  return http.createServer((req, res) => {
    if (req.url?.startsWith('/stats/prometheus')) {
      servePrometheus(state, res);
      return;
    }
    if (req.url?.startsWith('/healthz/ready')) {
      ready.emit('request', req, res);
      return;
    }
    res.writeHead(404).end();
  });
}

type AdminHandler = (state: ProxyState, url: URL, res: http.ServerResponse) => void;

function sendJson(res: http.ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2));
}

function sendText(res: http.ServerResponse, text: string): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(text);
}

const serveConfigDump: AdminHandler = (state, _url, res) => {
  const { certs, chaos } = state;
  sendJson(
    res,
    renderConfigDump(
      state.config,
      certs?.current(),
      certs?.notAfter(),
      { now: chaos.now(), offsetMs: chaos.offsetMs() },
      chaos.rules(),
    ),
  );
};

const serveCerts: AdminHandler = (state, _url, res) => {
  sendJson(res, renderCerts(state.certs?.current(), state.chaos.now()));
};

const serveClusters: AdminHandler = (state, url, res) => {
  const status = renderClusters(state.config?.clusters ?? [], state.breakers, state.outliers);
  if (url.searchParams.get('format') === 'json') sendJson(res, status);
  else sendText(res, renderClustersText(status));
};

const serveStats: AdminHandler = (state, url, res) => {
  const body = state.stats.renderJson();
  if (url.searchParams.get('format') === 'json') sendJson(res, body);
  else sendText(res, body.stats.map((s) => `${s.name}: ${s.value}`).join('\n') + '\n');
};

const serveMemory: AdminHandler = (state, _url, res) => {
  sendJson(res, { ...process.memoryUsage(), resident_config: state.resident.residentBytes() });
};

const ADMIN_ROUTES = new Map<string, AdminHandler>([
  ['/config_dump', serveConfigDump],
  ['/certs', serveCerts],
  ['/clusters', serveClusters],
  ['/stats/prometheus', (state, _url, res) => servePrometheus(state, res)],
  ['/stats', serveStats],
  ['/memory', serveMemory],
]);

function createAdminServer(state: ProxyState): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const handler = ADMIN_ROUTES.get(url.pathname);
    if (handler) handler(state, url, res);
    else res.writeHead(404).end();
  });
}

export function createAdminServers(state: ProxyState): AdminServers {
  const ready = createReadyServer(state);
  return { ready, stats: createStatsServer(state, ready), admin: createAdminServer(state) };
}
