// The istioctl commands of the subset: each reads the cluster through ClusterAccess, renders with the pure
// writers, and returns the exit code real istioctl would give.

import { stringify } from 'yaml';
import type { KubeObject } from '../../../harness/model/index.js';
import { hostMatches, namespaceOf, qualifyHost, specOf } from '../mesh/config/snapshot.js';
import type { ProxyConfig } from '../mesh/model/proxy-config.js';
import { asArray, asRecord, asString } from '../mesh/model/read.js';
import {
  containerImageTag,
  type ClusterAccess,
  IstioctlError,
  podIp,
  resolvePod,
  runningIstiods,
} from './access.js';
import {
  type AnalysisInput,
  analyze,
  documentationUrl,
  formatMessage,
  levelAtLeast,
  parseLevel,
} from './analyze.js';
import { flagNumber, flagTrue, type ParsedArgs, UsageError } from './args.js';
import { istioctlClientVersion } from './version-env.js';
import {
  buildEnvoyClusters,
  buildEnvoyRoutes,
  type DestinationRuleLookup,
  endpointsFromConfig,
  hostStatusesAsJson,
  parseClustersAdmin,
} from './envoy-dump.js';
import { compareProxyConfig, type SyncRow, syncRows, writeProxyStatus } from './proxy-status.js';
import { secretConfigDump, summariseSecrets } from './secrets.js';
import {
  filterClusters,
  filterEndpoints,
  filterRoutes,
  writeClusterSummary,
  writeEndpointSummary,
  writeRouteSummary,
  writeSecretSummary,
} from './writers.js';

// Read once per istioctl process: each invocation is its own process, started by the target's wrapper.
export const CLIENT_VERSION = istioctlClientVersion();
const ISTIOD_MONITORING_PORT = 15014;
const PROXY_ADMIN_PORT = 15000;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** The next line of stdin, undefined at its end (istioctl's confirmation prompts read the answer there). */
  readLine?(): Promise<string | undefined>;
}

export interface CommandContext {
  access: ClusterAccess;
  args: ParsedArgs;
  io: Io;
  namespace: string;
  istioNamespace: string;
  /** The kubeconfig this invocation reads (the emulated istiod of a new revision reaches the API with it). */
  kubeconfig?: string;
}

function outputFormat(args: ParsedArgs, allowed: string[]): string {
  const o = args.flags.get('output') ?? allowed[0] ?? 'short';
  if (!allowed.includes(o)) {
    throw new UsageError(`output format "${o}" not supported; use one of ${allowed.join(', ')}`);
  }
  return o;
}

/** JSON as istioctl prints protobuf slices (4-space indent), or YAML. */
function printStructured(io: Io, value: unknown, format: string): void {
  io.out(format === 'yaml' ? stringify(value) : `${JSON.stringify(value, null, 4)}\n`);
}

// --- proxy-status ---------------------------------------------------------------------------------------

async function syncz(ctx: CommandContext): Promise<{ rows: SyncRow[]; istiods: KubeObject[] }> {
  // `--revision R`: that revision's istiods only (istioctl's CLIClientWithRevision).
  const revision = ctx.args.flags.get('revision');
  const istiods = await runningIstiods(ctx.access, ctx.istioNamespace, revision);
  const rows: SyncRow[] = [];
  for (const pod of istiods) {
    const name = pod.metadata.name ?? '';
    const url = `http://${podIp(pod)}:${ISTIOD_MONITORING_PORT}/debug/syncz`;
    try {
      rows.push(...syncRows(await ctx.access.getJson(url), name));
    } catch (error) {
      throw new IstioctlError(
        `failed to get proxy status from ${name}.${ctx.istioNamespace} (${url}): ${(error as Error).message}`,
      );
    }
  }
  return { rows, istiods };
}

export async function proxyStatus(ctx: CommandContext): Promise<number> {
  const target = ctx.args.positionals[0];
  if (target === undefined) {
    const { rows } = await syncz(ctx);
    ctx.io.out(writeProxyStatus(rows));
    return 0;
  }
  // One proxy: compare what istiod would send now with what the proxy holds.
  const pod = await resolvePod(ctx.access, target, ctx.namespace);
  const id = `${pod.metadata.name}.${namespaceOf(pod)}`;
  const istiods = await runningIstiods(ctx.access, ctx.istioNamespace);
  let fromIstiod: unknown;
  for (const istiod of istiods) {
    try {
      fromIstiod = await ctx.access.getJson(
        `http://${podIp(istiod)}:${ISTIOD_MONITORING_PORT}/debug/config_dump?proxyID=${encodeURIComponent(id)}`,
      );
      break;
    } catch {
      // Try the next istiod: the proxy is connected to one of them.
    }
  }
  if (fromIstiod === undefined) throw new IstioctlError(`unable to find proxy ${id} connected to any istiod`);
  const dump = await proxyDump(ctx, pod);
  ctx.io.out(compareProxyConfig(fromIstiod, dump.config).text);
  return 0;
}

// --- proxy-config ---------------------------------------------------------------------------------------

interface ProxyDump {
  config: ProxyConfig;
  /** The whole admin document (certificate details live beside the config). */
  document: unknown;
  ip: string;
}

async function proxyDump(ctx: CommandContext, pod: KubeObject): Promise<ProxyDump> {
  const id = `${pod.metadata.name}.${namespaceOf(pod)}`;
  const containers = [
    ...asArray(asRecord(pod.spec).containers),
    ...asArray(asRecord(pod.spec).initContainers),
  ];
  if (!containers.some((c) => asRecord(c).name === 'istio-proxy')) {
    throw new IstioctlError(`pod ${id} has no istio-proxy container: it is not part of the mesh`);
  }
  const ip = podIp(pod);
  if (!ip) throw new IstioctlError(`pod ${id} has no IP yet; wait for it to be scheduled and started`);
  let body: unknown;
  try {
    body = await ctx.access.getJson(`http://${ip}:${PROXY_ADMIN_PORT}/config_dump`);
  } catch (error) {
    throw new IstioctlError(`failed to retrieve config dump from ${id}: ${(error as Error).message}`);
  }
  const doc = asRecord(body);
  const config = asRecord(doc.config);
  if (!Array.isArray(config.clusters)) {
    throw new IstioctlError(`no config dump from ${id}: config not received from XDS server yet`);
  }
  return { config: config as unknown as ProxyConfig, document: body, ip };
}

/** The DestinationRule istiod applies to a host for this proxy: proxy namespace, service namespace, root. */
function destinationRuleLookup(rules: KubeObject[], proxyNs: string, rootNs: string): DestinationRuleLookup {
  return (host) => {
    const candidates = rules
      .filter((dr) => hostMatches(qualifyHost(asString(specOf(dr).host) ?? '', namespaceOf(dr)), host))
      .sort((a, b) =>
        String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')),
      );
    const serviceNs = /^[^.]+\.([^.]+)\.svc\.cluster\.local$/.exec(host)?.[1];
    for (const ns of [proxyNs, serviceNs, rootNs]) {
      const found = candidates.find((dr) => namespaceOf(dr) === ns);
      if (found) return { name: found.metadata.name ?? '', namespace: namespaceOf(found) };
    }
    const first = candidates[0];
    return first ? { name: first.metadata.name ?? '', namespace: namespaceOf(first) } : undefined;
  };
}

const RESOURCE_ALIASES: Record<string, 'cluster' | 'route' | 'endpoint' | 'secret'> = {
  cluster: 'cluster',
  clusters: 'cluster',
  c: 'cluster',
  route: 'route',
  routes: 'route',
  r: 'route',
  endpoint: 'endpoint',
  endpoints: 'endpoint',
  ep: 'endpoint',
  secret: 'secret',
  secrets: 'secret',
  s: 'secret',
};

export async function proxyConfig(ctx: CommandContext): Promise<number> {
  const [resource, target] = ctx.args.positionals;
  const kind = resource ? RESOURCE_ALIASES[resource] : undefined;
  if (!kind) {
    throw new UsageError(
      resource
        ? `unknown command "${resource}" for "istioctl proxy-config"; this istioctl supports cluster, route, endpoint, secret`
        : 'proxy-config needs a resource: cluster, route, endpoint or secret',
    );
  }
  if (!target) throw new UsageError(`proxy-config ${kind} requires pod name or --file parameter`);
  const format = outputFormat(ctx.args, ['short', 'json', 'yaml']);
  const pod = await resolvePod(ctx.access, target, ctx.namespace);
  const dump = await proxyDump(ctx, pod);
  if (kind === 'cluster') {
    const rules = await ctx.access.list('networking.istio.io/v1', 'DestinationRule');
    const lookup = destinationRuleLookup(rules, namespaceOf(pod), ctx.istioNamespace);
    const clusters = filterClusters(buildEnvoyClusters(dump.config, lookup), {
      ...(ctx.args.flags.get('fqdn') ? { fqdn: ctx.args.flags.get('fqdn') } : {}),
      ...(flagNumber(ctx.args, 'port') ? { port: flagNumber(ctx.args, 'port') } : {}),
      ...(ctx.args.flags.get('subset') ? { subset: ctx.args.flags.get('subset') } : {}),
      ...(ctx.args.flags.get('direction') ? { direction: ctx.args.flags.get('direction') } : {}),
    });
    if (format === 'short') ctx.io.out(writeClusterSummary(clusters));
    else printStructured(ctx.io, clusters, format);
    return 0;
  }
  if (kind === 'route') {
    const routes = filterRoutes(buildEnvoyRoutes(dump.config), ctx.args.flags.get('name'));
    if (format === 'short') ctx.io.out(writeRouteSummary(routes));
    else printStructured(ctx.io, routes, format);
    return 0;
  }
  if (kind === 'endpoint') {
    // Envoy's /clusters carries live health (outlier ejections); the pushed endpoints are the fallback.
    let hosts = endpointsFromConfig(dump.config);
    try {
      hosts =
        parseClustersAdmin(
          await ctx.access.getJson(`http://${dump.ip}:${PROXY_ADMIN_PORT}/clusters?format=json`),
        ) ?? hosts;
    } catch {
      // An older proxy without /clusters: keep the pushed endpoints.
    }
    const port = flagNumber(ctx.args, 'port');
    const filtered = filterEndpoints(hosts, {
      ...(ctx.args.flags.get('address') ? { address: ctx.args.flags.get('address') } : {}),
      ...(port ? { port } : {}),
      ...(ctx.args.flags.get('cluster') ? { cluster: ctx.args.flags.get('cluster') } : {}),
      ...(ctx.args.flags.get('status') ? { status: ctx.args.flags.get('status') } : {}),
    });
    if (format === 'short') ctx.io.out(writeEndpointSummary(filtered));
    else printStructured(ctx.io, hostStatusesAsJson(filtered), format);
    return 0;
  }
  const secrets = summariseSecrets(dump.document, dump.config.trustBundle, new Date());
  if (format === 'short') ctx.io.out(writeSecretSummary(secrets));
  else printStructured(ctx.io, secretConfigDump(secrets, dump.config.version), format);
  return 0;
}

// --- analyze --------------------------------------------------------------------------------------------

async function readAnalysisInput(access: ClusterAccess): Promise<AnalysisInput> {
  const [namespaces, services, serviceEntries, virtualServices, destinationRules, gateways, pods] =
    await Promise.all([
      access.list('v1', 'Namespace'),
      access.list('v1', 'Service'),
      access.list('networking.istio.io/v1', 'ServiceEntry'),
      access.list('networking.istio.io/v1', 'VirtualService'),
      access.list('networking.istio.io/v1', 'DestinationRule'),
      access.list('networking.istio.io/v1', 'Gateway'),
      access.list('v1', 'Pod'),
    ]);
  return { namespaces, services, serviceEntries, virtualServices, destinationRules, gateways, pods };
}

/** Exit code of `istioctl analyze` when messages reach the failure threshold (istioctl's AnalyzerFoundIssues). */
export const ANALYZER_FOUND_ISSUES = 79;

export async function analyzeCommand(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) {
    throw new UsageError('this istioctl analyzes the live cluster only; files are not supported');
  }
  const all = flagTrue(ctx.args, 'all-namespaces');
  const namespace = all ? undefined : ctx.namespace;
  const failure = parseLevel(ctx.args.flags.get('failure-threshold') ?? 'Error');
  const shown = parseLevel(ctx.args.flags.get('output-threshold') ?? 'Info');
  if (!failure || !shown) throw new UsageError('thresholds must be one of Info, Warning, Error');
  const format = outputFormat(ctx.args, ['log', 'json', 'yaml']);
  const messages = analyze(await readAnalysisInput(ctx.access), namespace).filter((m) =>
    levelAtLeast(m.level, shown),
  );
  const target = namespace === undefined ? 'all namespaces' : `namespace: ${namespace}`;
  if (format === 'log') {
    for (const m of messages) ctx.io.out(`${formatMessage(m)}\n`);
  } else {
    printStructured(
      ctx.io,
      messages.map((m) => ({
        code: m.code,
        documentationUrl: documentationUrl(m.code, CLIENT_VERSION),
        level: m.level,
        message: m.message,
        origin: m.origin,
      })),
      format,
    );
  }
  if (messages.some((m) => levelAtLeast(m.level, failure))) {
    const minor = CLIENT_VERSION.split('.').slice(0, 2).join('.');
    throw new IstioctlError(
      `Analyzers found issues when analyzing ${target}.\nSee https://istio.io/v${minor}/docs/reference/config/analysis for more information about causes and resolutions.`,
      ANALYZER_FOUND_ISSUES,
    );
  }
  if (messages.length === 0 && format === 'log')
    ctx.io.err(`\u2714 No validation issues found when analyzing ${target}.\n`);
  return 0;
}

// --- version --------------------------------------------------------------------------------------------

export async function version(ctx: CommandContext): Promise<number> {
  if (!flagTrue(ctx.args, 'remote', true)) {
    ctx.io.out(flagTrue(ctx.args, 'short') ? `${CLIENT_VERSION}\n` : `client version: ${CLIENT_VERSION}\n`);
    return 0;
  }
  let rows: SyncRow[];
  let istiods: KubeObject[];
  try {
    ({ rows, istiods } = await syncz(ctx));
  } catch (error) {
    ctx.io.err(`Istio is not present in the cluster: ${(error as Error).message}\n`);
    ctx.io.out(`client version: ${CLIENT_VERSION}\n`);
    return 0;
  }
  // coalesceVersions: one `control plane` line when every istiod runs the same version, else a line per istiod
  // pod named by its `istio` label (`pilot version: …`).
  const tags = istiods.map((p) => containerImageTag(p, 'discovery') ?? 'unknown');
  const control =
    new Set(tags).size <= 1
      ? `control plane version: ${tags[0] ?? 'unknown'}\n`
      : istiods.map((p, i) => `${p.metadata.labels?.istio ?? 'pilot'} version: ${tags[i]}\n`).join('');
  const pods = await ctx.access.list('v1', 'Pod');
  const counts = new Map<string, number>();
  for (const row of rows) {
    const dot = row.proxy.lastIndexOf('.');
    const pod = pods.find(
      (p) => p.metadata.name === row.proxy.slice(0, dot) && namespaceOf(p) === row.proxy.slice(dot + 1),
    );
    const v = (pod && containerImageTag(pod, 'istio-proxy')) ?? row.version;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const dataPlane = [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([v, n]) => `${v} (${n} ${n === 1 ? 'proxy' : 'proxies'})`)
    .join(', ');
  ctx.io.out(
    `client version: ${CLIENT_VERSION}\n${control}` + (dataPlane ? `data plane version: ${dataPlane}\n` : ''),
  );
  return 0;
}
