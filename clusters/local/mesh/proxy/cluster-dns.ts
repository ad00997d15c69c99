// Resolves cluster names (`svc`, `svc.ns`, `svc.ns.svc`, FQDN) through the kubelet's DNS file
// (MESHDRILL_CLUSTER_DNS_FILE, JSON `{fqdn: ip}`), re-read when it changes; other names pass through.

import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';

export function createClusterResolver(
  file: string | undefined,
  namespace: string,
): (host: string) => string | undefined {
  let cache: Record<string, string> = {};
  let mtime = -1;
  const refresh = (): void => {
    if (!file) return;
    try {
      const stat = statSync(file);
      if (stat.mtimeMs === mtime) return;
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null) {
        cache = Object.fromEntries(
          Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
        );
        mtime = stat.mtimeMs;
      }
    } catch {
      // Missing or half-written: keep what we had.
    }
  };
  return (host: string) => {
    if (net.isIP(host)) return host;
    refresh();
    const parts = host.split('.');
    const candidates =
      parts.length === 1
        ? [`${host}.${namespace}.svc.cluster.local`]
        : parts.length === 2
          ? [`${host}.svc.cluster.local`]
          : parts.length === 3 && parts[2] === 'svc'
            ? [`${host}.cluster.local`]
            : [host];
    for (const c of [host, ...candidates]) if (cache[c]) return cache[c];
    return undefined;
  };
}
