// Pure: the summary tables istioctl prints for proxy-config cluster|route|endpoint|secret, with the columns,
// filters, sort orders and placeholders of istioctl's config-dump writers.

import { asRecord, asString } from '../mesh/model/read.js';
import {
  type EnvoyCluster,
  type EnvoyRouteConfiguration,
  type HostStatus,
  type Json,
  parseSubsetKey,
} from './envoy-dump.js';
import type { SecretSummary } from './secrets.js';
import { formatTable } from './tabwriter.js';

export interface ClusterFilter {
  fqdn?: string;
  port?: number;
  subset?: string;
  direction?: string;
}

export function filterClusters(clusters: EnvoyCluster[], f: ClusterFilter): EnvoyCluster[] {
  return clusters.filter((c) => {
    if (f.fqdn && !c.name.includes(f.fqdn)) return false;
    if (f.direction && !c.name.includes(f.direction)) return false;
    if (f.subset && !c.name.includes(f.subset)) return false;
    if (f.port && !c.name.includes(`|${f.port}|`)) return false;
    return true;
  });
}

/** `/apis/networking.istio.io/v1alpha3/namespaces/NS/KIND/NAME` → `NAME.NS`, as istioctl's renderConfig. */
export function renderConfigPath(path: string | undefined): string {
  if (!path) return '';
  const pieces = path.split('/');
  if (path.startsWith('/apis/networking.istio.io/v1alpha3/namespaces/') && pieces.length === 8) {
    return `${pieces[7]}.${pieces[5]}`;
  }
  return '<unknown>';
}

function managedBy(metadata: unknown): string {
  return renderConfigPath(asString(asRecord(asRecord(asRecord(metadata).filterMetadata).istio).config));
}

export function writeClusterSummary(clusters: EnvoyCluster[]): string {
  const lines = ['SERVICE FQDN\tPORT\tSUBSET\tDIRECTION\tTYPE\tDESTINATION RULE'];
  for (const c of clusters) {
    const key = parseSubsetKey(c.name);
    const dr = managedBy(c.metadata);
    lines.push(
      key
        ? `${key.host}\t${key.port}\t${key.subset || '-'}\t${key.direction}\t${c.type}\t${dr}`
        : `${c.name}\t-\t-\t-\t${c.type}\t${dr}`,
    );
  }
  return formatTable(lines);
}

/** Without ports, minus expansions of shorter names, at most two shown (istioctl's describeRouteDomains). */
export function describeRouteDomains(domains: string[]): string {
  if (domains.length === 0) return '';
  if (domains.length === 1) return domains[0] ?? '';
  const withoutPort = domains.filter((d) => !d.includes(':') || (d.split(':').length > 3 && d.endsWith(']')));
  const unique = new Set(withoutPort);
  const unexpanded = withoutPort.filter((h) => {
    const full = h.replace(/\.svc\.cluster\.local$/, '');
    const partial = h.replace(/\.svc$/, '');
    return !((full !== h && unique.has(full)) || (partial !== h && unique.has(partial)));
  });
  const max = 2;
  if (unexpanded.length > max) {
    return `${unexpanded.slice(0, max).join(', ')} + ${unexpanded.length - max} more...`;
  }
  return unexpanded.join(', ');
}

/** A route's match as istioctl's describeMatch shows it (`/api*` for a prefix, headers not shown). */
export function describeMatch(match: Json): string {
  const conds: string[] = [];
  const prefix = asString(match.prefix);
  if (prefix) conds.push(`${prefix}*`);
  const separated = asString(match.pathSeparatedPrefix);
  if (separated) conds.push(`PathPrefix:${separated}`);
  const path = asString(match.path);
  if (path) conds.push(path);
  const regex = asString(asRecord(match.safeRegex).regex);
  if (regex) conds.push(`regex ${regex}`);
  return conds.join(' ');
}

function isPassthrough(route: Json): boolean {
  return asString(asRecord(route.route).cluster) === 'PassthroughCluster';
}

export function filterRoutes(
  routes: EnvoyRouteConfiguration[],
  name: string | undefined,
): EnvoyRouteConfiguration[] {
  return name ? routes.filter((r) => r.name === name) : routes;
}

export function writeRouteSummary(routes: EnvoyRouteConfiguration[]): string {
  const lines = ['NAME\tVHOST NAME\tDOMAINS\tMATCH\tVIRTUAL SERVICE'];
  for (const rc of routes) {
    for (const vh of rc.virtualHosts) {
      for (const r of vh.routes) {
        if (isPassthrough(r)) continue;
        lines.push(
          `${rc.name}\t${vh.name}\t${describeRouteDomains(vh.domains)}\t${describeMatch(r.match)}\t${managedBy(r.metadata)}`,
        );
      }
      if (vh.routes.length === 0)
        lines.push(`${rc.name}\t${vh.name}\t${describeRouteDomains(vh.domains)}\t/*\t404`);
    }
  }
  return formatTable(lines);
}

export interface EndpointFilter {
  address?: string;
  port?: number;
  cluster?: string;
  status?: string;
}

export function filterEndpoints(hosts: HostStatus[], f: EndpointFilter): HostStatus[] {
  return hosts.filter((h) => {
    if (f.address && h.address.toLowerCase() !== f.address.toLowerCase()) return false;
    if (f.port && h.port !== f.port) return false;
    if (f.cluster && h.cluster.toLowerCase() !== f.cluster.toLowerCase()) return false;
    if (f.status && h.healthStatus.toLowerCase() !== f.status.toLowerCase()) return false;
    return true;
  });
}

/** `ENDPOINT STATUS OUTLIER CHECK CLUSTER`, sorted by address, port, cluster (istioctl's clusters writer). */
export function writeEndpointSummary(hosts: HostStatus[]): string {
  const sorted = [...hosts].sort((a, b) =>
    a.address !== b.address
      ? a.address < b.address
        ? -1
        : 1
      : a.port !== b.port
        ? a.port - b.port
        : a.cluster < b.cluster
          ? -1
          : a.cluster > b.cluster
            ? 1
            : 0,
  );
  const lines = ['ENDPOINT\tSTATUS\tOUTLIER CHECK\tCLUSTER'];
  for (const h of sorted) {
    lines.push(`${h.endpoint}\t${h.healthStatus}\t${h.failedOutlierCheck ? 'FAILED' : 'OK'}\t${h.cluster}`);
  }
  return formatTable(lines);
}

/** RFC 3339 in UTC without fractions, as Go prints time.Time with time.RFC3339. */
export function formatRfc3339(d: Date | undefined): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
}

export function writeSecretSummary(secrets: SecretSummary[]): string {
  const lines = ['RESOURCE NAME\tTYPE\tSTATUS\tVALID CERT\tSERIAL NUMBER\tNOT AFTER\tNOT BEFORE'];
  for (const s of secrets) {
    if (s.status === 'WARMING') {
      lines.push(`${s.name}\t\tWARMING\tfalse\t\t\t`);
      continue;
    }
    lines.push(
      `${s.name}\t${s.type}\t${s.status}\t${String(s.valid ?? false)}\t${s.serialNumber}\t${formatRfc3339(s.notAfter)}\t${formatRfc3339(s.notBefore)}`,
    );
  }
  return formatTable(lines);
}
