// Pure: `istioctl proxy-status` from istiod's /debug/syncz (one row per connected proxy, SYNCED / STALE /
// NOT SENT per xDS type from the nonces sent and acknowledged), and the per-pod comparison of what istiod
// sent with what the proxy holds.

import { asArray, asRecord, asString } from '../mesh/model/read.js';
import { formatTable } from './tabwriter.js';

export interface SyncRow {
  proxy: string;
  cluster: string;
  cds: string;
  lds: string;
  eds: string;
  rds: string;
  ecds: string;
  istiod: string;
  version: string;
}

/** istioctl's xdsStatus: nothing sent, sent and acknowledged, or sent and not (yet) acknowledged. */
export function xdsStatus(sent: string | undefined, acked: string | undefined): string {
  if (!sent) return 'NOT SENT';
  if (sent === acked) return 'SYNCED';
  if (!acked) return 'STALE (Never Acknowledged)';
  return 'STALE';
}

/** Rows from one istiod's syncz document (SyncStatus entries), tagged with that istiod's pod name. */
export function syncRows(body: unknown, istiod: string): SyncRow[] {
  return asArray(body)
    .map(asRecord)
    .map((s) => {
      const status = (type: string): string =>
        xdsStatus(asString(s[`${type}_sent`]), asString(s[`${type}_acked`]));
      const proxy = asString(s.proxy) ?? `${asString(s.pod) ?? ''}.${asString(s.namespace) ?? 'default'}`;
      const version = asString(s.istio_version) ?? `${asString(s.proxy_version) ?? ''}*`;
      return {
        proxy,
        cluster: asString(s.cluster_id) ?? 'Kubernetes',
        cds: status('cluster'),
        lds: status('listener'),
        eds: status('endpoint'),
        rds: status('route'),
        ecds: status('extensionconfig'),
        istiod,
        version,
      };
    });
}

export function writeProxyStatus(rows: SyncRow[]): string {
  const sorted = [...rows].sort((a, b) =>
    a.cluster !== b.cluster
      ? a.cluster < b.cluster
        ? -1
        : 1
      : a.proxy < b.proxy
        ? -1
        : a.proxy > b.proxy
          ? 1
          : 0,
  );
  const lines = ['NAME\tCLUSTER\tCDS\tLDS\tEDS\tRDS\tECDS\tISTIOD\tVERSION'];
  for (const r of sorted) {
    lines.push(
      `${r.proxy}\t${r.cluster}\t${r.cds}\t${r.lds}\t${r.eds}\t${r.rds}\t${r.ecds}\t${r.istiod}\t${r.version}`,
    );
  }
  return formatTable(lines, { padding: 5 });
}

function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/**
 * `istioctl proxy-status POD`: whether the clusters, listeners and routes the proxy holds are the ones istiod
 * would send it now (`Clusters Match` … or `… Don't Match` with the names that differ).
 */
export function compareProxyConfig(
  fromIstiod: unknown,
  fromProxy: unknown,
): { text: string; match: boolean } {
  const a = asRecord(fromIstiod);
  const b = asRecord(fromProxy);
  const parts: [string, unknown, unknown][] = [
    ['Clusters', a.clusters, b.clusters],
    ['Listeners', [a.inbound, a.gateway], [b.inbound, b.gateway]],
    ['Routes', a.virtualHosts, b.virtualHosts],
  ];
  let match = true;
  const lines: string[] = [];
  for (const [label, x, y] of parts) {
    if (stable(x) === stable(y)) {
      lines.push(`${label} Match`);
      continue;
    }
    match = false;
    lines.push(`${label} Don't Match`);
    const names = (v: unknown): Set<string> =>
      new Set(
        asArray(v)
          .flatMap((e) => (Array.isArray(e) ? e : [e]))
          .map((e) => asString(asRecord(e).name) ?? stable(e)),
      );
    const want = names(x);
    const have = names(y);
    for (const n of [...want].filter((n) => !have.has(n)).sort()) lines.push(`+ ${n}`);
    for (const n of [...have].filter((n) => !want.has(n)).sort()) lines.push(`- ${n}`);
  }
  return { text: `${lines.join('\n')}\n`, match };
}
