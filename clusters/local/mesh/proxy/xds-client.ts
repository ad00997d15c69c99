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

export function startXdsClient(options: {
  baseUrl: string;
  identity: XdsIdentity;
  stats: ProxyStats;
  /** Returns an error text to NACK, or undefined to ACK. */
  apply: (config: ProxyConfig) => string | undefined;
  maxBackoffMs?: number;
}): XdsClient {
  let stopped = false;
  let current: http.ClientRequest | undefined;
  let backoff = 200;
  let timer: NodeJS.Timeout | undefined;
  const { stats, identity } = options;

  const reconnect = (): void => {
    if (stopped) return;
    timer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, options.maxBackoffMs ?? 5000);
  };

  const ack = (nonce: string, version: string, error?: string): void => {
    postJson(
      options.baseUrl,
      '/xds/ack',
      { ...identity, nonce, version, ...(error ? { error } : {}) },
      3000,
    ).catch(() => undefined);
  };

  const connect = (): void => {
    if (stopped) return;
    const url = new URL('/xds', options.baseUrl);
    url.searchParams.set('pod', identity.podName);
    url.searchParams.set('namespace', identity.namespace);
    url.searchParams.set('ip', identity.podIP);
    url.searchParams.set('mode', identity.mode);
    const req = http.get(url);
    current = req;
    let done = false;
    req.once('error', () => {
      if (stopped || done) return;
      done = true;
      stats.istiodConnectionFailures.inc();
      reconnect();
    });
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        done = true;
        res.resume();
        stats.istiodConnectionFailures.inc();
        reconnect();
        return;
      }
      backoff = 200;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl = buffer.indexOf('\n');
        while (nl >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf('\n');
          if (!line) continue;
          let message: Record<string, unknown>;
          try {
            message = asRecord(JSON.parse(line));
          } catch {
            continue;
          }
          if (message.type !== 'config') continue;
          stats.xdsProxyRequests.inc();
          const nonce = asString(message.nonce) ?? '';
          const checked = validateConfig(message.config);
          if ('error' in checked) {
            stats.cdsUpdateRejected.inc();
            ack(nonce, String(asRecord(message.config).version ?? ''), checked.error);
            continue;
          }
          const error = options.apply(checked.config);
          if (error) stats.cdsUpdateRejected.inc();
          ack(nonce, checked.config.version, error);
        }
      });
      const ended = (type: string) => () => {
        if (stopped || done) return;
        done = true;
        stats.istiodConnectionTerminations.inc({ type });
        reconnect();
      };
      res.once('end', ended('EOF'));
      res.once('error', ended('error'));
    });
  };

  connect();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      current?.destroy();
    },
  };
}
