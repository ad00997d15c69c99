// istiod's xDS + CA port: the NDJSON config stream each proxy holds open, the ACK/NACK it posts back for each
// push, and CSR signing for workload certificates (the caller's service account checked against its pod's).

import type http from 'node:http';
import { CaError } from '../ca/index.js';
import { asNumber, asRecord, asString } from '../model/read.js';
import { readBody, sendJson } from './http-util.js';
import { pushTo } from './push.js';
import type { Connection, IstiodState } from './state.js';

function setConnectedGauge(s: IstiodState): void {
  s.metrics.connected.set({ version: s.istioVersion }, s.connections.size);
}

/** GET /xds: registers the proxy's stream (ending an older one of the same proxy) and pushes to it at once. */
function openStream(s: IstiodState, url: URL, res: http.ServerResponse): void {
  const pod = url.searchParams.get('pod') ?? '';
  const namespace = url.searchParams.get('namespace') ?? 'default';
  const mode = url.searchParams.get('mode') === 'router' ? 'router' : 'sidecar';
  const ip = url.searchParams.get('ip') ?? '';
  const istioVersion = url.searchParams.get('istioVersion') ?? undefined;
  const id = `${pod}.${namespace}`;
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const previous = s.connections.get(id);
  if (previous) previous.res.end();
  const conn: Connection = {
    status: {
      id,
      pod,
      namespace,
      mode,
      istioVersion,
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
  s.connections.set(id, conn);
  setConnectedGauge(s);
  res.once('close', () => {
    if (s.connections.get(id) === conn) s.connections.delete(id);
    setConnectedGauge(s);
  });
  // A new connection gets a full push at once (reconnects after an outage converge here).
  pushTo(s, conn, true);
}

/** POST /xds/ack: an ACK or NACK of the push with that nonce; one for an older push is ignored. */
function recordAck(s: IstiodState, text: string, res: http.ServerResponse): void {
  const body = asRecord(JSON.parse(text || '{}'));
  const id = `${asString(body.podName) ?? ''}.${asString(body.namespace) ?? 'default'}`;
  const conn = s.connections.get(id);
  if (conn && asString(body.nonce) === conn.status.sentNonce) {
    const error = asString(body.error);
    if (error) {
      conn.status.lastNack = error;
      s.metrics.rejects.inc();
      s.metrics.cdsRejects.inc();
      s.log(`warn: ${id} rejected config ${asString(body.version)}: ${error}\n`);
    } else {
      conn.status.ackedVersion = asString(body.version);
      conn.status.ackedNonce = conn.status.sentNonce;
      conn.status.lastNack = undefined;
      if (conn.pushedAt !== undefined) s.metrics.convergence.observe({}, (Date.now() - conn.pushedAt) / 1000);
    }
  }
  sendJson(res, 200, { ok: true });
}

/** Why the caller may not have a certificate for the service account it asks for; undefined when it may. */
function refuseIdentity(
  s: IstiodState,
  namespace: string,
  sa: string,
  podName: string | undefined,
): string | undefined {
  const pod = s.source
    .snapshot()
    .pods.find((p) => p.metadata.name === podName && p.metadata.namespace === namespace);
  const podSa = pod ? (asString(asRecord(pod.spec).serviceAccountName) ?? 'default') : undefined;
  if (podSa !== undefined && podSa !== sa)
    return `pod ${namespace}/${podName} runs as service account ${podSa}, not ${sa}`;
  return undefined;
}

/** POST /csr: signs the workload's CSR for its SPIFFE identity. */
async function signCsr(s: IstiodState, text: string, res: http.ServerResponse): Promise<void> {
  s.metrics.csrCount.inc();
  let body: Record<string, unknown>;
  try {
    body = asRecord(JSON.parse(text));
  } catch {
    s.metrics.csrParseErr.inc();
    sendJson(res, 400, { error: 'CSR request body is not JSON' });
    return;
  }
  const namespace = asString(body.namespace) ?? '';
  const sa = asString(body.serviceAccount) ?? '';
  const refused = refuseIdentity(s, namespace, sa, asString(body.podName));
  if (refused) {
    s.metrics.authnErr.inc();
    sendJson(res, 403, { error: refused });
    return;
  }
  const ttlMs = Math.max(1, (asNumber(body.ttlSeconds) ?? 86_400) * 1000);
  try {
    const signed = await s.ca.signCsr(asString(body.csr) ?? '', {
      identity: `spiffe://${s.trustDomain}/ns/${namespace}/sa/${sa}`,
      ttlMs,
    });
    s.metrics.issued.inc();
    sendJson(res, 200, { certChain: signed.certChain, rootCert: signed.rootCert });
  } catch (error) {
    s.metrics.signErr.inc();
    const message = (error as Error).message;
    s.log(`error: ${message}\n`);
    sendJson(res, error instanceof CaError && error.reason !== 'expired-signing-cert' ? 400 : 500, {
      error: message,
    });
  }
}

export function serveXds(s: IstiodState, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://istiod');
  if (req.method === 'GET' && url.pathname === '/xds') {
    openStream(s, url, res);
    return;
  }
  if (req.method === 'POST' && url.pathname === '/xds/ack') {
    void readBody(req).then((text) => recordAck(s, text, res));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/csr') {
    void readBody(req).then((text) => signCsr(s, text, res));
    return;
  }
  sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
}
