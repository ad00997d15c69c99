// Cluster DNS for container programs: resolves `svc`, `svc.ns`, `svc.ns.svc.cluster.local` to the service's
// ClusterIP from the JSON map the kubelet names in MESHDRILL_CLUSTER_DNS_FILE (kept fresh by the network).

import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';

const CLUSTER_DOMAIN = 'cluster.local';
let cache: { file: string; mtimeMs: number; checkedAt: number; table: Record<string, string> } | undefined;

function loadTable(): Record<string, string> {
  const file = process.env.MESHDRILL_CLUSTER_DNS_FILE;
  if (!file) return {};
  const now = Date.now();
  if (cache && cache.file === file && now - cache.checkedAt < 200) return cache.table;
  try {
    const { mtimeMs } = statSync(file);
    if (cache && cache.file === file && cache.mtimeMs === mtimeMs) {
      cache.checkedAt = now;
      return cache.table;
    }
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const table: Record<string, string> = {};
    if (parsed && typeof parsed === 'object') {
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>))
        if (typeof v === 'string') table[k] = v;
    }
    cache = { file, mtimeMs, checkedAt: now, table };
    return table;
  } catch {
    return cache?.table ?? {};
  }
}

/** The search list a pod's resolv.conf has: <ns>.svc.cluster.local svc.cluster.local cluster.local. */
export function searchCandidates(host: string, podNamespace: string): string[] {
  const name = host.replace(/\.$/, '').toLowerCase();
  if (host.endsWith('.')) return [name];
  return [
    `${name}.${podNamespace}.svc.${CLUSTER_DOMAIN}`,
    `${name}.svc.${CLUSTER_DOMAIN}`,
    `${name}.${CLUSTER_DOMAIN}`,
    name,
  ];
}

/** Resolves a cluster name to an IP; returns the host unchanged when it is an IP or not a cluster name. */
export function resolveClusterHost(
  host: string,
  podNamespace = process.env.MESHDRILL_POD_NAMESPACE ?? 'default',
): string {
  if (isIP(host) !== 0 || host === 'localhost') return host;
  const table = loadTable();
  for (const candidate of searchCandidates(host, podNamespace)) {
    const ip = table[candidate];
    if (ip) return ip;
  }
  return host;
}
