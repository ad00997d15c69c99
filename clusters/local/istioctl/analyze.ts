// Pure: the `istioctl analyze` subset — Istio's analyzers for the mistakes the runbooks name, with their real
// codes and message templates (pkg/config/analysis/msg/messages.yaml), run over objects read from the API.
//   IST0101 ReferencedResourceNotFound: a VirtualService destination host with no Service or ServiceEntry,
//           a subset no DestinationRule for the host defines (names are case-sensitive: `V1` is not `v1`),
//           a gateway that does not exist.
//   IST0102 NamespaceNotInjected, IST0103 PodMissingProxy.
//   IST0130 VirtualServiceUnreachableRule, IST0131 VirtualServiceIneffectiveMatch (matches are compared
//           exactly, so a match differing only in letter case is a different match, as in Envoy).

import type { KubeObject } from '../../../harness/model/index.js';
import {
  hasSidecar,
  hostMatches,
  nameOf,
  namespaceOf,
  qualifyHost,
  specOf,
} from '../mesh/config/snapshot.js';
import { asArray, asRecord, asString, asStringArray, asStringMap } from '../mesh/model/read.js';

export type Level = 'Error' | 'Warning' | 'Info';

export interface AnalysisMessage {
  level: Level;
  code: string;
  /** `VirtualService demo/reviews`, `Namespace demo`. */
  origin: string;
  message: string;
}

export interface AnalysisInput {
  namespaces: KubeObject[];
  services: KubeObject[];
  serviceEntries: KubeObject[];
  virtualServices: KubeObject[];
  destinationRules: KubeObject[];
  gateways: KubeObject[];
  pods: KubeObject[];
}

/** Namespaces the analyzers leave alone (Istio's inject.IgnoredNamespaces plus the control plane's). */
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

const LEVEL_RANK: Record<Level, number> = { Info: 0, Warning: 1, Error: 2 };

export function levelAtLeast(level: Level, threshold: Level): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[threshold];
}

export function parseLevel(text: string): Level | undefined {
  const t = text.toLowerCase();
  return t === 'info' ? 'Info' : t === 'warning' ? 'Warning' : t === 'error' ? 'Error' : undefined;
}

function origin(kind: string, o: KubeObject): string {
  return `${kind} ${namespaceOf(o)}/${nameOf(o)}`;
}

function notFound(o: KubeObject, kind: string, reftype: string, refval: string): AnalysisMessage {
  return {
    level: 'Error',
    code: 'IST0101',
    origin: origin(kind, o),
    message: `Referenced ${reftype} not found: ${JSON.stringify(refval)}`,
  };
}

interface Destination {
  host: string;
  subset: string | undefined;
}

/** Every destination of a VirtualService: http/tcp/tls routes and http mirrors. */
function destinationsOf(vs: KubeObject): Destination[] {
  const spec = specOf(vs);
  const out: Destination[] = [];
  const add = (d: unknown): void => {
    const dest = asRecord(d);
    const host = asString(dest.host);
    if (host) out.push({ host, subset: asString(dest.subset) || undefined });
  };
  for (const kind of ['http', 'tcp', 'tls']) {
    for (const route of asArray(spec[kind]).map(asRecord)) {
      for (const r of asArray(route.route)) add(asRecord(r).destination);
      if (route.mirror) add(route.mirror);
      for (const m of asArray(route.mirrors)) add(asRecord(m).destination);
    }
  }
  return out;
}

function knownHosts(input: AnalysisInput): string[] {
  return [
    ...input.services.map((s) => `${nameOf(s)}.${namespaceOf(s)}.svc.cluster.local`),
    ...input.serviceEntries.flatMap((se) => asStringArray(specOf(se).hosts)),
  ];
}

function hostExists(host: string, hosts: string[]): boolean {
  return hosts.some((h) => hostMatches(h, host) || hostMatches(host, h));
}

function analyzeDestinations(vs: KubeObject, input: AnalysisInput, hosts: string[]): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  const ns = namespaceOf(vs);
  const seen = new Set<string>();
  for (const d of destinationsOf(vs)) {
    const fqdn = qualifyHost(d.host, ns);
    if (!hostExists(fqdn, hosts)) {
      if (!seen.has(`host:${d.host}`)) out.push(notFound(vs, 'VirtualService', 'host', d.host));
      seen.add(`host:${d.host}`);
      continue;
    }
    if (d.subset === undefined) continue;
    const defined = input.destinationRules.some(
      (dr) =>
        hostMatches(qualifyHost(asString(specOf(dr).host) ?? '', namespaceOf(dr)), fqdn) &&
        asArray(specOf(dr).subsets).some((s) => asString(asRecord(s).name) === d.subset),
    );
    const key = `subset:${d.host}+${d.subset}`;
    if (!defined && !seen.has(key)) {
      seen.add(key);
      out.push(notFound(vs, 'VirtualService', 'host+subset in destinationrule', `${d.host}+${d.subset}`));
    }
  }
  return out;
}

function analyzeGateways(vs: KubeObject, input: AnalysisInput): AnalysisMessage[] {
  const ns = namespaceOf(vs);
  return asStringArray(specOf(vs).gateways)
    .filter((g) => g !== 'mesh')
    .filter((g) => {
      const [gwNs, gwName] = g.includes('/') ? g.split('/') : [ns, g];
      return !input.gateways.some((gw) => namespaceOf(gw) === gwNs && nameOf(gw) === gwName);
    })
    .map((g) => notFound(vs, 'VirtualService', 'gateway', g));
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Istio's analyzeUnreachableHTTPRules: rules after a match-less rule, and matches repeated exactly. */
function analyzeUnreachableRules(vs: KubeObject): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  const routes = asArray(specOf(vs).http).map(asRecord);
  const routeName = (r: Record<string, unknown>, n: number): string => asString(r.name) ?? `#${n}`;
  const seen = new Map<string, number>();
  let emptyMatchAt = -1;
  routes.forEach((route, rulen) => {
    const matches = asArray(route.match).map(asRecord);
    if (matches.length === 0) {
      if (emptyMatchAt >= 0) {
        out.push({
          level: 'Warning',
          code: 'IST0130',
          origin: origin('VirtualService', vs),
          message: `VirtualService rule ${routeName(route, rulen)} not used (only the last rule can have no matches).`,
        });
      }
      emptyMatchAt = rulen;
      return;
    }
    let duplicates = 0;
    matches.forEach((match, matchn) => {
      if (emptyMatchAt >= 0) {
        out.push({
          level: 'Warning',
          code: 'IST0130',
          origin: origin('VirtualService', vs),
          message: `VirtualService rule ${routeName(route, rulen)} not used (route without matches defined before).`,
        });
        return;
      }
      const key = stableJson(match);
      const dup = seen.get(key);
      if (dup !== undefined) {
        duplicates++;
        out.push({
          level: 'Info',
          code: 'IST0131',
          origin: origin('VirtualService', vs),
          message: `VirtualService rule ${routeName(route, rulen)} match ${asString(match.name) ?? `#${matchn}`} is not used (duplicate/overlapping match in rule ${routeName(routes[dup] ?? {}, dup)}).`,
        });
        return;
      }
      seen.set(key, rulen);
    });
    if (duplicates === matches.length) {
      out.push({
        level: 'Warning',
        code: 'IST0130',
        origin: origin('VirtualService', vs),
        message: `VirtualService rule ${routeName(route, rulen)} not used (all matches used by prior rules).`,
      });
    }
  });
  return out;
}

function injectionEnabled(ns: KubeObject | undefined): boolean {
  const labels = asStringMap(ns?.metadata.labels);
  return labels['istio-injection'] === 'enabled' || labels['istio.io/rev'] !== undefined;
}

function analyzeInjection(input: AnalysisInput, inScope: (ns: string) => boolean): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  for (const ns of input.namespaces) {
    const name = nameOf(ns);
    if (!inScope(name) || name === 'istio-system' || SYSTEM_NAMESPACES.has(name)) continue;
    const labels = asStringMap(ns.metadata.labels);
    if (labels['istio.io/dataplane-mode'] === 'ambient') continue;
    if (labels['istio-injection'] === undefined && labels['istio.io/rev'] === undefined) {
      out.push({
        level: 'Info',
        code: 'IST0102',
        origin: `Namespace ${name}`,
        message: `The namespace is not enabled for Istio injection. Run 'kubectl label namespace ${name} istio-injection=enabled' to enable it, or 'kubectl label namespace ${name} istio-injection=disabled' to explicitly mark it as not needing injection.`,
      });
    }
  }
  for (const pod of input.pods) {
    const ns = namespaceOf(pod);
    if (!inScope(ns) || !injectionEnabled(input.namespaces.find((n) => nameOf(n) === ns))) continue;
    const optOut =
      asStringMap(pod.metadata.labels)['sidecar.istio.io/inject'] === 'false' ||
      asStringMap(pod.metadata.annotations)['sidecar.istio.io/inject'] === 'false';
    if (optOut || asRecord(pod.spec).hostNetwork === true || pod.metadata.deletionTimestamp) continue;
    if (!hasSidecar(pod)) {
      out.push({
        level: 'Warning',
        code: 'IST0103',
        origin: origin('Pod', pod),
        message: `The pod ${nameOf(pod)} is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.`,
      });
    }
  }
  return out;
}

/** Runs the analyzers over the objects of `namespace` (every namespace when undefined); sorted, deduplicated. */
export function analyze(input: AnalysisInput, namespace: string | undefined): AnalysisMessage[] {
  const inScope = (ns: string): boolean => namespace === undefined || ns === namespace;
  const hosts = knownHosts(input);
  const messages: AnalysisMessage[] = [];
  for (const vs of input.virtualServices) {
    if (!inScope(namespaceOf(vs))) continue;
    messages.push(
      ...analyzeDestinations(vs, input, hosts),
      ...analyzeGateways(vs, input),
      ...analyzeUnreachableRules(vs),
    );
  }
  messages.push(...analyzeInjection(input, inScope));
  const line = (m: AnalysisMessage): string => formatMessage(m);
  const unique = [...new Map(messages.map((m) => [line(m), m])).values()];
  return unique.sort((a, b) =>
    a.origin !== b.origin
      ? a.origin < b.origin
        ? -1
        : 1
      : a.code !== b.code
        ? a.code < b.code
          ? -1
          : 1
        : line(a) < line(b)
          ? -1
          : line(a) > line(b)
            ? 1
            : 0,
  );
}

export function formatMessage(m: AnalysisMessage): string {
  return `${m.level} [${m.code}] (${m.origin}) ${m.message}`;
}

export function documentationUrl(code: string, istioVersion: string): string {
  const minor = istioVersion.split('.').slice(0, 2).join('.');
  return `https://istio.io/v${minor}/docs/reference/config/analysis/${code.toLowerCase()}/?ref=istioctl`;
}
