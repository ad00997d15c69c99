// What istiod's handlers share: its options resolved once, the connected proxies, the CA in use and the push
// bookkeeping. The server, push, CA and monitoring modules are functions over this one object.

import type http from 'node:http';
import { type CertificateAuthority, createSelfSignedAuthority } from '../ca/index.js';
import type { MeshOptions } from '../config/snapshot.js';
import { DEFAULT_ISTIO_VERSION } from '../versions.js';
import { IstiodMetrics } from './metrics.js';
import type { MeshSource } from './sources.js';

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
  /** The version the proxy says it runs (its ISTIO_VERSION metadata); undefined when it did not say. */
  istioVersion: string | undefined;
  connectedAt: string;
  sentVersion: string | undefined;
  sentNonce: string | undefined;
  ackedVersion: string | undefined;
  ackedNonce: string | undefined;
  lastNack: string | undefined;
}

/** One proxy's xDS stream and what was last sent on it. */
export interface Connection {
  status: ProxyStatus;
  ip: string;
  res: http.ServerResponse;
  lastConfigJson: string | undefined;
  pushedAt: number | undefined;
}

export interface IstiodState {
  readonly source: MeshSource;
  readonly mesh: Partial<MeshOptions> | undefined;
  /** The Istio version istiod reports (metrics labels, `/debug/syncz`). */
  readonly istioVersion: string;
  readonly rootNamespace: string;
  readonly trustDomain: string;
  readonly debounceMs: number;
  readonly log: (line: string) => void;
  readonly metrics: IstiodMetrics;
  /** By proxy id (`POD.NAMESPACE`): a reconnecting proxy replaces its old stream. */
  readonly connections: Map<string, Connection>;
  /** True once the informers have listed everything and the CA is loaded (`/ready`). */
  synced: boolean;
  /** Makes push versions unique within one istiod's life. */
  pushCounter: number;
  ca: CertificateAuthority;
  /** The `cacerts` secret's version last acted on; undefined while there is none. */
  cacertsVersion: string | undefined;
  debounceTimer: NodeJS.Timeout | undefined;
  /** The first config event of the current debounce window (PILOT_DEBOUNCE_MAX). */
  firstEventAt: number | undefined;
}

/**
 * The state before the informers start. The CA is a throwaway self-signed one until the informers have synced
 * and the stored root can be loaded (see ca-source.ts).
 */
export async function createIstiodState(options: IstiodOptions): Promise<IstiodState> {
  const istioVersion = options.version ?? DEFAULT_ISTIO_VERSION;
  const metrics = new IstiodMetrics(istioVersion);
  const ca = await createSelfSignedAuthority();
  metrics.setCa(ca);
  return {
    source: options.source,
    mesh: options.mesh,
    istioVersion,
    rootNamespace: options.mesh?.rootNamespace ?? 'istio-system',
    trustDomain: options.mesh?.trustDomain ?? 'cluster.local',
    debounceMs: options.debounceMs ?? 100,
    log: options.log ?? (() => undefined),
    metrics,
    connections: new Map(),
    synced: false,
    pushCounter: 0,
    ca,
    cacertsVersion: undefined,
    debounceTimer: undefined,
    firstEventAt: undefined,
  };
}
