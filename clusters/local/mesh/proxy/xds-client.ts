// The agent's control-plane connection: a long-lived NDJSON stream from istiod carrying full configuration
// pushes, an ACK or NACK for each (a config that fails validation is NACKed and the last good one kept),
// reconnection with back-off, and the agent's connection metrics. Also the CSR client for the cert agent.

import http from 'node:http';
import type { ProxyConfig } from '../model/proxy-config.js';
import { asArray, asRecord, asString } from '../model/read.js';
import type { CertSource } from './cert-agent.js';
import type { ProxyStats } from './stats.js';

export interface XdsIdentity {
  podName: string;
  namespace: string;
  podIP: string;
  mode: 'sidecar' | 'router';
  /** The proxy's version, sent as Envoy's node metadata ISTIO_VERSION is. */
  istioVersion?: string;
}

/** Envoy NACKs configuration it cannot load (e.g. an invalid regex): the same checks, reported as text. */
export function validateConfig(value: unknown): { config: ProxyConfig } | { error: string } {
  const c = asRecord(value);
  if (typeof c.version !== 'string') return { error: 'config.version: expected a string' };
  for (const key of ['clusters', 'virtualHosts', 'gateway'] as const) {
    if (!Array.isArray(c[key])) return { error: `config.${key}: expected an array, got ${typeof c[key]}` };
  }
  if (typeof c.inbound !== 'object' || c.inbound === null)
    return { error: 'config.inbound: expected an object' };
  const hosts = [
    ...asArray(c.virtualHosts),
    ...asArray(c.gateway).flatMap((l) => asArray(asRecord(l).virtualHosts)),
  ];
  for (const vh of hosts.map(asRecord)) {
    for (const route of asArray(vh.routes).map(asRecord)) {
      for (const match of asArray(route.match).map(asRecord)) {
        const matches = [
          asRecord(match.uri),
          asRecord(match.method),
          ...Object.values(asRecord(match.headers)).map(asRecord),
        ];
        for (const m of matches) {
          if (m.kind !== 'regex') continue;
          try {
            new RegExp(String(m.value));
          } catch (error) {
            return {
              error: `route ${asString(route.name)} in ${asString(vh.name)}: invalid regex ${JSON.stringify(m.value)}: ${(error as Error).message}`,
            };
          }
        }
      }
    }
  }
  return { config: value as ProxyConfig };
}

function postJson(
  baseUrl: string,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const req = http.request(new URL(path, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': payload.length },
      timeout: timeoutMs,
    });
    req.once('timeout', () =>
      req.destroy(new Error(`POST ${path} to istiod timed out after ${timeoutMs} ms`)),
    );
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // Error bodies may be plain text.
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.end(payload);
  });
}

export function istiodCertSource(
  baseUrl: string,
  identity: { namespace: string; serviceAccount: string; podName: string },
): CertSource {
  return {
    async sign(csrPem, ttlMs) {
      const res = await postJson(
        baseUrl,
        '/csr',
        { ...identity, csr: csrPem, ttlSeconds: ttlMs / 1000 },
        5000,
      );
      const body = asRecord(res.body);
      if (res.status !== 200)
        throw new Error(
          `istiod refused the CSR (${res.status}): ${asString(body.error) ?? String(res.body)}`,
        );
      const certChain = asArray(body.certChain).filter((x): x is string => typeof x === 'string');
      const rootCert = asString(body.rootCert);
      if (certChain.length === 0 || !rootCert)
        throw new Error('istiod CSR response lacks certChain/rootCert');
      return { certChain, rootCert };
    },
  };
}

export interface XdsClient {
  stop(): void;
}

export interface XdsClientOptions {
  baseUrl: string;
  identity: XdsIdentity;
  stats: ProxyStats;
  /** Returns an error text to NACK, or undefined to ACK. */
  apply: (config: ProxyConfig) => string | undefined;
  maxBackoffMs?: number;
}

/** The client across reconnections. */
interface XdsClientState {
  readonly options: XdsClientOptions;
  stopped: boolean;
  current: http.ClientRequest | undefined;
  /** The wait before the next reconnect: doubles per failure, reset by a stream that opens. */
  backoff: number;
  timer: NodeJS.Timeout | undefined;
}

/** One stream: it ends at most once (an error and an end may both arrive); `buffer` holds a partial line. */
interface XdsStream {
  done: boolean;
  buffer: string;
}

function scheduleReconnect(c: XdsClientState): void {
  if (c.stopped) return;
  c.timer = setTimeout(() => connect(c), c.backoff);
  c.backoff = Math.min(c.backoff * 2, c.options.maxBackoffMs ?? 5000);
}

/** ACKs (or with `error`, NACKs) a push; a lost ACK only delays istiod's view, so failures are ignored. */
function sendAck(c: XdsClientState, nonce: string, version: string, error?: string): void {
  postJson(
    c.options.baseUrl,
    '/xds/ack',
    { ...c.options.identity, nonce, version, ...(error ? { error } : {}) },
    3000,
  ).catch(() => undefined);
}

/** One NDJSON message: a config push is validated, applied, and answered with an ACK or NACK. */
function handleLine(c: XdsClientState, line: string): void {
  const { stats } = c.options;
  let message: Record<string, unknown>;
  try {
    message = asRecord(JSON.parse(line));
  } catch {
    return;
  }
  if (message.type !== 'config') return;
  stats.xdsProxyRequests.inc();
  const nonce = asString(message.nonce) ?? '';
  const checked = validateConfig(message.config);
  if ('error' in checked) {
    stats.cdsUpdateRejected.inc();
    sendAck(c, nonce, String(asRecord(message.config).version ?? ''), checked.error);
    return;
  }
  const error = c.options.apply(checked.config);
  if (error) stats.cdsUpdateRejected.inc();
  sendAck(c, nonce, checked.config.version, error);
}

function consumeChunk(c: XdsClientState, stream: XdsStream, chunk: string): void {
  stream.buffer += chunk;
  let nl = stream.buffer.indexOf('\n');
  while (nl >= 0) {
    const line = stream.buffer.slice(0, nl).trim();
    stream.buffer = stream.buffer.slice(nl + 1);
    nl = stream.buffer.indexOf('\n');
    if (line) handleLine(c, line);
  }
}

/** The stream broke or failed to open: counted once, then a reconnect after the back-off. */
function endStream(c: XdsClientState, stream: XdsStream, count: () => void): void {
  if (c.stopped || stream.done) return;
  stream.done = true;
  count();
  scheduleReconnect(c);
}

function onStreamResponse(c: XdsClientState, stream: XdsStream, res: http.IncomingMessage): void {
  const { stats } = c.options;
  if (res.statusCode !== 200) {
    stream.done = true;
    res.resume();
    stats.istiodConnectionFailures.inc();
    scheduleReconnect(c);
    return;
  }
  c.backoff = 200;
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => consumeChunk(c, stream, chunk));
  res.once('end', () => endStream(c, stream, () => stats.istiodConnectionTerminations.inc({ type: 'EOF' })));
  res.once('error', () =>
    endStream(c, stream, () => stats.istiodConnectionTerminations.inc({ type: 'error' })),
  );
}

function connect(c: XdsClientState): void {
  if (c.stopped) return;
  const { identity } = c.options;
  const url = new URL('/xds', c.options.baseUrl);
  url.searchParams.set('pod', identity.podName);
  url.searchParams.set('namespace', identity.namespace);
  url.searchParams.set('ip', identity.podIP);
  url.searchParams.set('mode', identity.mode);
  if (identity.istioVersion) url.searchParams.set('istioVersion', identity.istioVersion);
  const req = http.get(url);
  c.current = req;
  const stream: XdsStream = { done: false, buffer: '' };
  req.once('error', () => endStream(c, stream, () => c.options.stats.istiodConnectionFailures.inc()));
  req.once('response', (res) => onStreamResponse(c, stream, res));
}

export function startXdsClient(options: XdsClientOptions): XdsClient {
  const c: XdsClientState = { options, stopped: false, current: undefined, backoff: 200, timer: undefined };
  connect(c);
  return {
    stop: () => {
      c.stopped = true;
      if (c.timer) clearTimeout(c.timer);
      c.current?.destroy();
    },
  };
}
