// Route selection inside the proxy (pure): find the virtual host for a Host header, the first matching route,
// then a weighted cluster. Outcomes carry Envoy's response flags: NR (no route, 404), NC (cluster not found, 503).

import type {
  ClusterConfig,
  ProxyConfig,
  RouteConfig,
  RouteMatch,
  StringMatch,
  VirtualHostConfig,
} from '../model/proxy-config.js';

export interface RequestFacts {
  /** Host without port, lower case. */
  host: string;
  port: number;
  path: string;
  method: string;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
}

export type RouteDecision =
  | { kind: 'route'; route: RouteConfig; cluster: ClusterConfig; virtualHost: VirtualHostConfig }
  | { kind: 'no-route'; flag: 'NR'; status: 404 }
  | { kind: 'no-cluster'; flag: 'NC'; status: 503; route: RouteConfig; clusterName: string }
  | { kind: 'passthrough' };

export interface RouteIndex {
  clusters: Map<string, ClusterConfig>;
  /** `host:port` → virtual host, for exact domains. */
  exact: Map<string, VirtualHostConfig>;
  /** Wildcard domains, tried in order after exact ones. */
  wildcard: { domain: string; port: number; host: VirtualHostConfig }[];
}

export function indexRoutes(config: ProxyConfig, virtualHosts: VirtualHostConfig[]): RouteIndex {
  const index: RouteIndex = { clusters: new Map(), exact: new Map(), wildcard: [] };
  for (const c of config.clusters) index.clusters.set(c.name, c);
  for (const vh of virtualHosts) {
    for (const domain of vh.domains) {
      if (domain.includes('*')) index.wildcard.push({ domain, port: vh.port, host: vh });
      else if (!index.exact.has(`${domain}:${vh.port}`)) index.exact.set(`${domain}:${vh.port}`, vh);
    }
  }
  return index;
}

/** `reviews` / `reviews.ns` / `reviews.ns.svc` → FQDN, relative to the proxy's namespace (search domains). */
export function expandHost(host: string, namespace: string): string[] {
  const parts = host.split('.');
  if (parts.length === 1) return [host, `${host}.${namespace}.svc.cluster.local`];
  if (parts.length === 2) return [host, `${host}.svc.cluster.local`];
  if (parts.length === 3 && parts[2] === 'svc') return [host, `${host}.cluster.local`];
  return [host];
}

export function matchString(m: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (m.kind === 'exact') return value === m.value;
  if (m.kind === 'prefix') return value.startsWith(m.value);
  // Envoy's safe_regex is RE2 with a full match.
  try {
    return new RegExp(`^(?:${m.value})$`).test(value);
  } catch {
    return false;
  }
}

function matchOne(m: RouteMatch, req: RequestFacts): boolean {
  const path = req.path.split('?')[0] ?? req.path;
  if (m.uri && !matchString(m.uri, path)) return false;
  if (m.method && !matchString(m.method, req.method)) return false;
  if (m.port !== undefined && m.port !== req.port) return false;
  for (const [name, match] of Object.entries(m.headers))
    if (!matchString(match, req.headers[name])) return false;
  return true;
}

export function findVirtualHost(
  index: RouteIndex,
  hosts: string[],
  port: number,
  anyPort = false,
): VirtualHostConfig | undefined {
  for (const h of hosts) {
    const found = index.exact.get(`${h}:${port}`);
    if (found) return found;
  }
  for (const h of hosts) {
    const found = index.wildcard.find((w) => (anyPort || w.port === port) && wildcardMatches(w.domain, h));
    if (found) return found.host;
  }
  if (anyPort) {
    for (const h of hosts) {
      for (const [key, vh] of index.exact) if (key.slice(0, key.lastIndexOf(':')) === h) return vh;
    }
  }
  return undefined;
}

function wildcardMatches(domain: string, host: string): boolean {
  if (domain === '*') return true;
  return domain.startsWith('*') && host.endsWith(domain.slice(1));
}

/** Picks among weighted clusters with relative weights; `random` in [0, 1). */
export function pickWeighted<T extends { weight: number }>(items: T[], random: number): T | undefined {
  const total = items.reduce((n, i) => n + Math.max(0, i.weight), 0);
  if (total <= 0) return items[0];
  let point = random * total;
  for (const item of items) {
    point -= Math.max(0, item.weight);
    if (point < 0) return item;
  }
  return items[items.length - 1];
}

export function selectRoute(
  index: RouteIndex,
  virtualHost: VirtualHostConfig | undefined,
  req: RequestFacts,
  random: number,
): RouteDecision {
  if (!virtualHost) return { kind: 'passthrough' };
  const route = virtualHost.routes.find((r) => r.match.length === 0 || r.match.some((m) => matchOne(m, req)));
  if (!route) return { kind: 'no-route', flag: 'NR', status: 404 };
  const weighted = pickWeighted(route.clusters, random);
  const cluster = weighted ? index.clusters.get(weighted.cluster) : undefined;
  if (!cluster)
    return { kind: 'no-cluster', flag: 'NC', status: 503, route, clusterName: weighted?.cluster ?? '' };
  return { kind: 'route', route, cluster, virtualHost };
}
