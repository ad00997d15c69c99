// The emulated istiod: builds each connected proxy's configuration from what it watches, pushes full
// configurations over NDJSON streams after a debounce, records ACK/NACK, signs CSRs with its CA (self-signed or
// plugged in from `istio-system/cacerts`, re-read on change), and exports pilot_* / citadel_* metrics.
// This module wires the parts together; each works on the shared IstiodState (state.ts).

import http from 'node:http';
import type { CertificateAuthority } from '../ca/index.js';
import { loadOrCreateSelfSigned, reloadCa } from './ca-source.js';
import { closeServer, listen } from './http-util.js';
import { serveMonitoring } from './monitoring.js';
import { onConfigChange, pushAll } from './push.js';
import { createIstiodState, type IstiodOptions, type IstiodState, type ProxyStatus } from './state.js';
import { serveXds } from './xds-server.js';

export type { IstiodOptions, ProxyStatus } from './state.js';

export interface Istiod {
  url: string;
  monitoringUrl: string;
  proxies(): ProxyStatus[];
  ca(): CertificateAuthority;
  /** Forces a full push now (tests, and after a CA change). */
  pushAll(reason: string): void;
  close(): Promise<void>;
}

/** Starts the informers, then loads the CA: the stored self-signed root, then `cacerts` over it if present. */
async function syncAndLoadCa(s: IstiodState): Promise<void> {
  await s.source.start(() => onConfigChange(s));
  s.ca = await loadOrCreateSelfSigned(s);
  s.metrics.setCa(s.ca);
  await reloadCa(s);
  s.metrics.refreshInventory(s.source.snapshot());
  s.synced = true;
}

async function closeIstiod(s: IstiodState, servers: http.Server[]): Promise<void> {
  if (s.debounceTimer) clearTimeout(s.debounceTimer);
  s.source.stop();
  for (const c of s.connections.values()) c.res.end();
  await Promise.all(servers.map(closeServer));
}

export async function startIstiod(options: IstiodOptions): Promise<Istiod> {
  const host = options.host ?? '127.0.0.1';
  const s = await createIstiodState(options);
  await syncAndLoadCa(s);
  const server = http.createServer((req, res) => serveXds(s, req, res));
  const monitoring = http.createServer((req, res) => serveMonitoring(s, req, res));
  const port = await listen(server, options.port ?? 15012, host);
  const monitoringPort = await listen(monitoring, options.monitoringPort ?? 15014, host);
  return {
    url: `http://${host}:${port}`,
    monitoringUrl: `http://${host}:${monitoringPort}`,
    proxies: () => [...s.connections.values()].map((c) => ({ ...c.status })),
    ca: () => s.ca,
    pushAll: (reason) => pushAll(s, reason),
    close: () => closeIstiod(s, [server, monitoring]),
  };
}
