// What a proxy is started with: its ports, identity, configuration and certificate sources, and knobs.
// Declared apart from proxy.ts so that the parts it composes can read the options without importing it.

import type { CpuLimit } from './resilience/cpu-budget.js';
import type { ResidentCosts } from './resident-config.js';
import type { StatsMatcher } from './stats.js';

export interface ProxyPorts {
  outbound: number;
  inbound: number;
  stats: number;
  ready: number;
  admin: number;
}

export const DEFAULT_PORTS: ProxyPorts = {
  outbound: 15001,
  inbound: 15006,
  stats: 15020,
  ready: 15021,
  admin: 15000,
};

export interface ProxyOptions {
  mode: 'sidecar' | 'router';
  podIP: string;
  podName: string;
  namespace: string;
  serviceAccount: string;
  /** The version the proxy reports to istiod (the image's ISTIO_META_ISTIO_VERSION). */
  istioVersion?: string;
  trustDomain?: string;
  ports?: Partial<ProxyPorts>;
  /** Configuration source: istiod's stream, or a JSON file (re-read when it changes). */
  config: { kind: 'xds'; istiodUrl: string } | { kind: 'file'; path: string };
  certs:
    | { kind: 'istiod'; istiodUrl: string; ttlMs: number }
    | { kind: 'files'; certChain: string; key: string; root: string };
  statsInclusionRegexps?: string[];
  /** `proxyStatsMatcher` (regexps, prefixes, suffixes); replaces statsInclusionRegexps when given. */
  statsMatcher?: StatsMatcher;
  /** The chaos hooks files (clusters/local/chaos-hooks.ts), polled for changes. */
  chaosFiles?: { networkFaults?: string; timeOffset?: string };
  costs?: ResidentCosts;
  /** The container's CPU limit (its CFS quota) and the CPU time per request; absent: unlimited. */
  cpu?: CpuLimit;
  /** Where access log lines go (the program passes stdout). */
  log?: (line: string) => void;
  /** Resolves a host outside the proxy's config (passthrough) to an address. */
  resolveHost?: (host: string) => string;
  connectTimeoutMs?: number;
}

export function trustDomainOf(options: ProxyOptions): string {
  return options.trustDomain ?? 'cluster.local';
}
