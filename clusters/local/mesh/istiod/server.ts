// The emulated istiod: builds each connected proxy's configuration from what it watches, pushes full
// configurations over NDJSON streams after a debounce, records ACK/NACK, signs CSRs with its CA (self-signed or
// plugged in from `istio-system/cacerts`, re-read on change), and exports pilot_* / citadel_* metrics.

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { KubeObject } from '../../../../harness/model/kube-object.js';
import {
  CaError,
  type CertificateAuthority,
  createSelfSignedAuthority,
  generateSelfSignedCa,
  loadPluggedInAuthority,
  loadSelfSignedAuthority,
  readCacertsSecret,
  type SelfSignedCaFiles,
} from '../ca/index.js';
import { buildProxyConfig, proxyNodeForPod } from '../config/build.js';
import type { MeshOptions } from '../config/snapshot.js';
import { CONTENT_TYPE } from '../metrics/registry.js';
import type { ProxyConfig } from '../model/proxy-config.js';
import { asNumber, asRecord, asString } from '../model/read.js';
import { IstiodMetrics } from './metrics.js';
import type { MeshSource } from './sources.js';

/** Where istiod keeps its self-signed CA (real istiod: `istio-system/istio-ca-secret`, type istio.io/ca-root). */
const CA_SECRET = 'istio-ca-secret';

function readSelfSignedSecret(secret: KubeObject | undefined): SelfSignedCaFiles | undefined {
  const data = asRecord(secret?.data);
  const decode = (key: string): string | undefined => {
    const value = asString(data?.[key]);
    return value ? Buffer.from(value, 'base64').toString('utf8') : undefined;
  };
  const cert = decode('ca-cert.pem');
  const key = decode('ca-key.pem');
  return cert && key ? { 'ca-cert.pem': cert, 'ca-key.pem': key } : undefined;
}

export interface IstiodOptions {
  source: MeshSource;
  host?: string;
  /** xDS + CA port (Istio: 15012). 0 picks a free port. */
  port?: number;
  /** Monitoring port (Istio: 15014): /metrics, /ready, /debug/syncz and /debug/config_dump?proxyID=POD.NS. */
  monitoringPort?: number;
  debounceMs?: number;
  mesh?: Partial<MeshOptions>;
  version?: string;
  log?: (line: string) => void;
}

export interface ProxyStatus {
  id: string;
  pod: string;
  namespace: string;
  mode: 'sidecar' | 'router';
  connectedAt: string;
  sentVersion: string | undefined;
  sentNonce: string | undefined;
  ackedVersion: string | undefined;
  ackedNonce: string | undefined;
  lastNack: string | undefined;
}

export interface Istiod {
  url: string;
  monitoringUrl: string;
  proxies(): ProxyStatus[];
  ca(): CertificateAuthority;
  /** Forces a full push now (tests, and after a CA change). */
  pushAll(reason: string): void;
  close(): Promise<void>;
}

interface Connection {
  status: ProxyStatus;
  ip: string;
  res: http.ServerResponse;
  lastConfigJson: string | undefined;
  pushedAt: number | undefined;
}

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
    istio_version: istioVersion,
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

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.once('end', () => resolve(body));
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

export async function startIstiod(options: IstiodOptions): Promise<Istiod> {
  const host = options.host ?? '127.0.0.1';
  const debounceMs = options.debounceMs ?? 100;
  const rootNamespace = options.mesh?.rootNamespace ?? 'istio-system';
  const trustDomain = options.mesh?.trustDomain ?? 'cluster.local';
  const log = options.log ?? (() => undefined);
  const metrics = new IstiodMetrics(options.version ?? '1.30.3');
  const connections = new Map<string, Connection>();
  let synced = false;
  let pushCounter = 0;

  // --- CA ------------------------------------------------------------------------------------------------
  // The self-signed CA is created or loaded once the informers have synced (below), from istio-ca-secret.
  let ca: CertificateAuthority = await createSelfSignedAuthority();
  let cacertsVersion: string | undefined;
  const loadOrCreateSelfSigned = async (): Promise<CertificateAuthority> => {
    const stored = readSelfSignedSecret(options.source.secret(rootNamespace, CA_SECRET));
    if (stored) {
      try {
        const loaded = await loadSelfSignedAuthority(stored);
        log(`info: loaded the self-signed root CA from ${rootNamespace}/${CA_SECRET}\n`);
        return loaded;
      } catch (error) {
        log(
          `error: cannot load ${rootNamespace}/${CA_SECRET}: ${(error as Error).message}; generating a new root\n`,
        );
      }
    }
    const fresh = await generateSelfSignedCa();
    try {
      await options.source.createSecret(rootNamespace, CA_SECRET, 'istio.io/ca-root', { ...fresh.files });
      log(`info: generated a self-signed root CA and stored it in ${rootNamespace}/${CA_SECRET}\n`);
    } catch (error) {
      log(`error: cannot store ${rootNamespace}/${CA_SECRET}: ${(error as Error).message}\n`);
    }
    return fresh.authority;
  };
  const reloadCa = async (): Promise<void> => {
    const secret = options.source.secret(rootNamespace, 'cacerts');
    const version = secret
      ? String(secret.metadata.resourceVersion ?? JSON.stringify(secret.data ?? ''))
      : undefined;
    if (version === cacertsVersion) return;
    const previous = cacertsVersion;
    cacertsVersion = version;
    if (secret) {
      const files = readCacertsSecret(secret as { data?: unknown; stringData?: unknown });
      if (!files) {
        log(
          `error: secret ${rootNamespace}/cacerts lacks ca-cert.pem, ca-key.pem, root-cert.pem or cert-chain.pem; keeping the current CA\n`,
        );
        return;
      }
      try {
        ca = await loadPluggedInAuthority(files);
        log(
          `info: using plugged-in CA from ${rootNamespace}/cacerts (signing cert expires ${ca.signingCertNotAfter.toISOString()})\n`,
        );
      } catch (error) {
        log(`error: cannot load ${rootNamespace}/cacerts: ${(error as Error).message}\n`);
      }
    } else if (previous !== undefined) {
      // cacerts removed: fall back to the self-signed CA (istio-ca-secret), whose root existing proxies —
      // which trust the plugged-in root — do not trust until they restart.
      ca = await loadOrCreateSelfSigned();
      log('info: cacerts removed; signing with the self-signed root CA\n');
    }
    metrics.setCa(ca);
  };
  metrics.setCa(ca);

  // --- config pushes -------------------------------------------------------------------------------------
  const pushTo = (conn: Connection, force: boolean): void => {
    const snapshot = options.source.snapshot();
    const pod = snapshot.pods.find(
      (p) =>
        p.metadata.name === conn.status.pod && (p.metadata.namespace ?? 'default') === conn.status.namespace,
    );
    // Without its pod istiod cannot know the proxy's labels or service account: wait for the informer.
    const podObject: KubeObject =
      pod ??
      ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: conn.status.pod, namespace: conn.status.namespace },
        status: { podIP: conn.ip },
      } as KubeObject);
    const started = performance.now();
    let config: ProxyConfig;
    try {
      config = buildProxyConfig({
        snapshot,
        node: proxyNodeForPod(podObject, conn.status.mode, options.mesh),
        version: '',
        ...(options.mesh ? { options: options.mesh } : {}),
      });
    } catch (error) {
      metrics.pushes.inc({ type: 'cds_builderr' });
      log(`error: building config for ${conn.status.id}: ${(error as Error).message}\n`);
      return;
    }
    const body = JSON.stringify({ ...config, version: '' });
    if (!force && body === conn.lastConfigJson) return;
    pushCounter += 1;
    const version = `${new Date().toISOString()}/${pushCounter}`;
    const nonce = randomUUID();
    config.version = version;
    conn.res.write(`${JSON.stringify({ type: 'config', version, nonce, config })}\n`);
    if (!conn.res.writable) {
      for (const t of ['cds', 'eds', 'lds', 'rds']) metrics.pushes.inc({ type: `${t}_senderr` });
      return;
    }
    conn.lastConfigJson = body;
    conn.status.sentVersion = version;
    conn.status.sentNonce = nonce;
    conn.pushedAt = Date.now();
    for (const t of ['cds', 'eds', 'lds', 'rds']) metrics.pushes.inc({ type: t });
    metrics.pushTime.observe({ type: 'cds' }, (performance.now() - started) / 1000);
  };

  let debounceTimer: NodeJS.Timeout | undefined;
  let firstEventAt: number | undefined;
  const pushAll = (reason: string): void => {
    metrics.pushTriggers.inc({ type: reason });
    metrics.refreshInventory(options.source.snapshot());
    for (const conn of connections.values()) pushTo(conn, false);
  };
  const onChange = (): void => {
    firstEventAt ??= Date.now();
    if (debounceTimer) clearTimeout(debounceTimer);
    // PILOT_DEBOUNCE_AFTER with PILOT_DEBOUNCE_MAX (10 s): a constant stream of events still pushes.
    const wait = Date.now() - firstEventAt > 10 * debounceMs ? 0 : debounceMs;
    debounceTimer = setTimeout(() => {
      firstEventAt = undefined;
      void reloadCa().then(() => pushAll('config'));
    }, wait);
  };

  await options.source.start(onChange);
  ca = await loadOrCreateSelfSigned();
  metrics.setCa(ca);
  await reloadCa();
  metrics.refreshInventory(options.source.snapshot());
  synced = true;

  // --- xDS + CA server ---------------------------------------------------------------------------------------
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://istiod');
    if (req.method === 'GET' && url.pathname === '/xds') {
      const pod = url.searchParams.get('pod') ?? '';
      const namespace = url.searchParams.get('namespace') ?? 'default';
      const mode = url.searchParams.get('mode') === 'router' ? 'router' : 'sidecar';
      const ip = url.searchParams.get('ip') ?? '';
      const id = `${pod}.${namespace}`;
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
      res.flushHeaders();
      const previous = connections.get(id);
      if (previous) previous.res.end();
      const conn: Connection = {
        status: {
          id,
          pod,
          namespace,
          mode,
          connectedAt: new Date().toISOString(),
          sentVersion: undefined,
          sentNonce: undefined,
          ackedVersion: undefined,
          ackedNonce: undefined,
          lastNack: undefined,
        },
        ip,
        res,
        lastConfigJson: undefined,
        pushedAt: undefined,
      };
      connections.set(id, conn);
      metrics.connected.set({ version: options.version ?? '1.30.3' }, connections.size);
      res.once('close', () => {
        if (connections.get(id) === conn) connections.delete(id);
        metrics.connected.set({ version: options.version ?? '1.30.3' }, connections.size);
      });
      // A new connection gets a full push at once (reconnects after an outage converge here).
      pushTo(conn, true);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/xds/ack') {
      void readBody(req).then((text) => {
        const body = asRecord(JSON.parse(text || '{}'));
        const id = `${asString(body.podName) ?? ''}.${asString(body.namespace) ?? 'default'}`;
        const conn = connections.get(id);
        if (conn && asString(body.nonce) === conn.status.sentNonce) {
          const error = asString(body.error);
          if (error) {
            conn.status.lastNack = error;
            metrics.rejects.inc();
            metrics.cdsRejects.inc();
            log(`warn: ${id} rejected config ${asString(body.version)}: ${error}\n`);
          } else {
            conn.status.ackedVersion = asString(body.version);
            conn.status.ackedNonce = conn.status.sentNonce;
            conn.status.lastNack = undefined;
            if (conn.pushedAt !== undefined)
              metrics.convergence.observe({}, (Date.now() - conn.pushedAt) / 1000);
          }
        }
        sendJson(res, 200, { ok: true });
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/csr') {
      void readBody(req).then(async (text) => {
        metrics.csrCount.inc();
        let body: Record<string, unknown>;
        try {
          body = asRecord(JSON.parse(text));
        } catch {
          metrics.csrParseErr.inc();
          sendJson(res, 400, { error: 'CSR request body is not JSON' });
          return;
        }
        const namespace = asString(body.namespace) ?? '';
        const sa = asString(body.serviceAccount) ?? '';
        const podName = asString(body.podName);
        const pod = options.source
          .snapshot()
          .pods.find((p) => p.metadata.name === podName && p.metadata.namespace === namespace);
        const podSa = pod ? (asString(asRecord(pod.spec).serviceAccountName) ?? 'default') : undefined;
        if (podSa !== undefined && podSa !== sa) {
          metrics.authnErr.inc();
          sendJson(res, 403, {
            error: `pod ${namespace}/${podName} runs as service account ${podSa}, not ${sa}`,
          });
          return;
        }
        const ttlMs = Math.max(1, (asNumber(body.ttlSeconds) ?? 86_400) * 1000);
        try {
          const signed = await ca.signCsr(asString(body.csr) ?? '', {
            identity: `spiffe://${trustDomain}/ns/${namespace}/sa/${sa}`,
            ttlMs,
          });
          metrics.issued.inc();
          sendJson(res, 200, { certChain: signed.certChain, rootCert: signed.rootCert });
        } catch (error) {
          metrics.signErr.inc();
          const message = (error as Error).message;
          log(`error: ${message}\n`);
          sendJson(res, error instanceof CaError && error.reason !== 'expired-signing-cert' ? 400 : 500, {
            error: message,
          });
        }
      });
      return;
    }
    sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  });

  const monitoring = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://istiod');
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': CONTENT_TYPE });
      res.end(metrics.registry.render());
      return;
    }
    if (url.pathname === '/ready') {
      res.writeHead(synced ? 200 : 503).end(synced ? '' : 'not synced');
      return;
    }
    if (url.pathname === '/debug/syncz') {
      sendJson(
        res,
        200,
        [...connections.values()].map((c) => syncStatusOf(c.status, options.version ?? '1.30.3')),
      );
      return;
    }
    if (url.pathname === '/debug/config_dump') {
      const id = url.searchParams.get('proxyID') ?? '';
      const conn = connections.get(id);
      if (!conn?.lastConfigJson) {
        sendJson(res, 404, { error: `proxy ${id} is not connected` });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(conn.lastConfigJson);
      return;
    }
    sendJson(res, 404, { error: `no route ${url.pathname}` });
  });

  const port = await listen(server, options.port ?? 15012, host);
  const monitoringPort = await listen(monitoring, options.monitoringPort ?? 15014, host);

  return {
    url: `http://${host}:${port}`,
    monitoringUrl: `http://${host}:${monitoringPort}`,
    proxies: () => [...connections.values()].map((c) => ({ ...c.status })),
    ca: () => ca,
    pushAll,
    async close() {
      if (debounceTimer) clearTimeout(debounceTimer);
      options.source.stop();
      for (const c of connections.values()) c.res.end();
      await Promise.all(
        [server, monitoring].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
