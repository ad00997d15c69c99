// The pure config builder: Kubernetes + Istio objects and one proxy's identity → that proxy's configuration
// (clusters with endpoints, virtual hosts with routes, inbound mTLS and authorization, gateway listeners).

import type { KubeObject } from '../../../../harness/model/index.js';
import type {
  AuthorizationConfig,
  AuthorizationRule,
  ClusterConfig,
  EndpointConfig,
  GatewayListener,
  InboundPort,
  ProxyConfig,
  ProxyNode,
  VirtualHostConfig,
} from '../model/proxy-config.js';
import { asArray, asRecord, asString, asStringArray, asStringMap } from '../model/read.js';
import { clientOriginatesMtls, serverMtlsMode } from './mtls.js';
import { buildRegistry, type RegistryService, resolveTargetPort } from './registry.js';
import { buildVirtualServiceRoutes, clusterName, defaultRoute } from './routes.js';
import { findSidecarScope, isHostVisible } from './scope.js';
import { buildMetricsConfig } from './telemetry.js';
import {
  DEFAULT_MESH_OPTIONS,
  hasSidecar,
  hostMatches,
  type MeshOptions,
  type MeshSnapshot,
  matchesLabels,
  nameOf,
  namespaceOf,
  qualifyHost,
  specOf,
  workloadMetaOf,
} from './snapshot.js';

export interface BuildInput {
  snapshot: MeshSnapshot;
  node: ProxyNode;
  version: string;
  options?: Partial<MeshOptions>;
  trustBundle?: string;
}

function creationOrder(a: KubeObject, b: KubeObject): number {
  return (
    String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
    nameOf(a).localeCompare(nameOf(b))
  );
}

/** DestinationRule for a host: the proxy's namespace first, then the service's, then the root namespace. */
function findDestinationRule(
  snapshot: MeshSnapshot,
  host: string,
  proxyNs: string,
  serviceNs: string,
  rootNs: string,
): KubeObject | undefined {
  const candidates = snapshot.destinationRules
    .filter((dr) => hostMatches(qualifyHost(asString(specOf(dr).host) ?? '', namespaceOf(dr)), host))
    .sort(creationOrder);
  for (const ns of [proxyNs, serviceNs, rootNs]) {
    const found = candidates.find((dr) => namespaceOf(dr) === ns);
    if (found) return found;
  }
  return candidates[0];
}

/** Istio applies the `portLevelSettings` entry for the cluster's port over the (subset-merged) policy. */
function policyForPort(policy: Record<string, unknown>, port: number): Record<string, unknown> {
  const { portLevelSettings, ...rest } = policy;
  const entry = asArray(portLevelSettings)
    .map(asRecord)
    .find((p) => Number(asRecord(p.port).number) === port);
  if (!entry) return rest;
  const { port: _port, ...overrides } = entry;
  return { ...rest, ...overrides };
}

/** A cluster's subset: the default (name '') and each named DestinationRule subset with its merged policy. */
interface SubsetPolicy {
  name: string;
  labels: Record<string, string>;
  policy: Record<string, unknown>;
}

function subsetsOf(drSpec: Record<string, unknown>): SubsetPolicy[] {
  const basePolicy = asRecord(drSpec.trafficPolicy);
  return [
    { name: '', labels: {}, policy: basePolicy },
    ...asArray(drSpec.subsets)
      .map(asRecord)
      .map((s) => ({
        name: asString(s.name) ?? '',
        labels: asStringMap(s.labels),
        policy: { ...basePolicy, ...asRecord(s.trafficPolicy) },
      }))
      .filter((s) => s.name !== ''),
  ];
}

/** The port's endpoints in the subset, each with whether the client side originates mTLS to it. */
function subsetEndpoints(
  input: BuildInput,
  options: MeshOptions,
  svc: RegistryService,
  port: RegistryService['ports'][number],
  subset: SubsetPolicy,
): EndpointConfig[] {
  const tlsMode = asString(asRecord(policyForPort(subset.policy, port.port).tls).mode);
  const endpoints: EndpointConfig[] = [];
  for (const ep of port.endpoints) {
    const labels = asStringMap(ep.pod?.metadata.labels);
    if (!matchesLabels(subset.labels, labels)) continue;
    const inMesh = ep.pod !== undefined && hasSidecar(ep.pod);
    endpoints.push({
      address: ep.address,
      port: ep.port,
      inMesh,
      mtls: clientOriginatesMtls({
        snapshot: input.snapshot,
        options,
        destinationNamespace: svc.namespace,
        endpointInMesh: inMesh,
        drTlsMode: tlsMode,
      }),
      labels,
      workload: ep.pod
        ? workloadMetaOf(ep.pod, options.trustDomain)
        : {
            name: svc.name,
            namespace: svc.namespace,
            app: svc.name,
            version: 'unknown',
            principal: 'unknown',
            serviceAccount: 'unknown',
          },
    });
  }
  return endpoints;
}

/** One cluster per service port and subset (`outbound|PORT|SUBSET|HOST`). */
function buildClusters(
  input: BuildInput,
  options: MeshOptions,
  services: RegistryService[],
): ClusterConfig[] {
  const { snapshot, node } = input;
  const clusters: ClusterConfig[] = [];
  for (const svc of services) {
    const dr = findDestinationRule(snapshot, svc.host, node.namespace, svc.namespace, options.rootNamespace);
    const subsets = subsetsOf(dr ? specOf(dr) : {});
    for (const port of svc.ports) {
      for (const subset of subsets) {
        clusters.push({
          name: clusterName(port.port, subset.name, svc.host),
          host: svc.host,
          port: port.port,
          subset: subset.name,
          service: { name: svc.name, namespace: svc.namespace },
          endpoints: subsetEndpoints(input, options, svc, port, subset),
          trafficPolicy: policyForPort(subset.policy, port.port),
        });
      }
    }
  }
  return clusters;
}

/** VirtualServices bound to `gateway` (`mesh` for sidecars), oldest first. */
function boundVirtualServices(snapshot: MeshSnapshot, gateway: string): KubeObject[] {
  return snapshot.virtualServices
    .filter((vs) => {
      const gateways = asStringArray(specOf(vs).gateways);
      if (gateway === 'mesh') return gateways.length === 0 || gateways.includes('mesh');
      const [gwNs, gwName] = gateway.split('/');
      return gateways.some((g) => g === gateway || (g === gwName && namespaceOf(vs) === gwNs));
    })
    .sort(creationOrder);
}

function buildSidecarVirtualHosts(input: BuildInput, services: RegistryService[]): VirtualHostConfig[] {
  const meshVs = boundVirtualServices(input.snapshot, 'mesh');
  const lookup = (host: string) => services.find((s) => s.host === host);
  const hosts: VirtualHostConfig[] = [];
  for (const svc of services) {
    // The first VirtualService naming the host wins, as Istio does for conflicting VirtualServices.
    const vs = meshVs.find((v) =>
      asStringArray(specOf(v).hosts).some((h) => hostMatches(qualifyHost(h, namespaceOf(v)), svc.host)),
    );
    for (const port of svc.ports) {
      const routes = vs
        ? buildVirtualServiceRoutes(vs, port.port, lookup)
        : [defaultRoute(svc.host, port.port)];
      hosts.push({ name: `${svc.host}:${port.port}`, domains: [svc.host], port: port.port, routes });
    }
  }
  return hosts;
}

function buildGatewayListeners(input: BuildInput, services: RegistryService[]): GatewayListener[] {
  const { snapshot, node } = input;
  const lookup = (host: string) => services.find((s) => s.host === host);
  const ownService = services.find(
    (s) =>
      !s.external &&
      s.namespace === node.namespace &&
      Object.keys(s.selector).length > 0 &&
      matchesLabels(s.selector, node.labels),
  );
  const listeners: GatewayListener[] = [];
  for (const gw of [...snapshot.gateways].sort(creationOrder)) {
    const selector = asStringMap(specOf(gw).selector);
    if (!matchesLabels(selector, node.labels)) continue;
    const gwKey = `${namespaceOf(gw)}/${nameOf(gw)}`;
    const bound = boundVirtualServices(snapshot, gwKey);
    for (const server of asArray(specOf(gw).servers).map(asRecord)) {
      const serverPort = Number(asRecord(server.port).number);
      if (!Number.isFinite(serverPort)) continue;
      const serverHosts = asStringArray(server.hosts).map((h) =>
        h.includes('/') ? h.slice(h.indexOf('/') + 1) : h,
      );
      const mapped = ownService?.ports.find((p) => p.port === serverPort);
      const listenPort = (mapped && resolveTargetPort(undefined, mapped.targetPort)) ?? serverPort;
      let listener = listeners.find((l) => l.listenPort === listenPort);
      if (!listener) {
        listener = { listenPort, serverPort, hosts: [], virtualHosts: [] };
        listeners.push(listener);
      }
      listener.hosts.push(...serverHosts);
      for (const vs of bound) {
        const vsHosts = asStringArray(specOf(vs).hosts).filter((h) =>
          serverHosts.some((sh) => hostMatches(sh, h) || hostMatches(h, sh)),
        );
        if (vsHosts.length === 0) continue;
        const name = `${vsHosts.join(',')}:${serverPort}`;
        if (listener.virtualHosts.some((v) => v.name === name)) continue;
        listener.virtualHosts.push({
          name,
          domains: vsHosts,
          port: serverPort,
          routes: buildVirtualServiceRoutes(vs, serverPort, lookup),
        });
      }
    }
  }
  return listeners;
}

function buildInboundPorts(
  input: BuildInput,
  options: MeshOptions,
  services: RegistryService[],
): InboundPort[] {
  const { snapshot, node } = input;
  const pod = snapshot.pods.find((p) => nameOf(p) === node.podName && namespaceOf(p) === node.namespace);
  const ports: InboundPort[] = [];
  for (const svc of services) {
    if (svc.external || svc.namespace !== node.namespace || Object.keys(svc.selector).length === 0) continue;
    if (!matchesLabels(svc.selector, node.labels)) continue;
    for (const p of svc.ports) {
      const targetPort = resolveTargetPort(pod, p.targetPort) ?? p.port;
      ports.push({
        port: p.port,
        targetPort,
        service: svc.host,
        mtls: serverMtlsMode(snapshot, node.namespace, node.labels, targetPort, options),
      });
    }
  }
  return ports;
}

function parseAuthorizationRule(value: unknown): AuthorizationRule {
  const r = asRecord(value);
  const when = asArray(r.when).map((w) => {
    const c = asRecord(w);
    return {
      key: asString(c.key) ?? '',
      values: asStringArray(c.values),
      notValues: asStringArray(c.notValues),
    };
  });
  return {
    from: asArray(r.from).map((f) => {
      const s = asRecord(asRecord(f).source);
      return {
        principals: asStringArray(s.principals),
        namespaces: asStringArray(s.namespaces),
        notPrincipals: asStringArray(s.notPrincipals),
        notNamespaces: asStringArray(s.notNamespaces),
        ipBlocks: asStringArray(s.ipBlocks),
        notIpBlocks: asStringArray(s.notIpBlocks),
      };
    }),
    to: asArray(r.to).map((t) => {
      const o = asRecord(asRecord(t).operation);
      return {
        paths: asStringArray(o.paths),
        methods: asStringArray(o.methods),
        notPaths: asStringArray(o.notPaths),
        notMethods: asStringArray(o.notMethods),
        ports: asStringArray(o.ports),
        notPorts: asStringArray(o.notPorts),
        hosts: asStringArray(o.hosts),
        notHosts: asStringArray(o.notHosts),
      };
    }),
    ...(when.length > 0 ? { when } : {}),
  };
}

function buildAuthorization(input: BuildInput, options: MeshOptions): AuthorizationConfig[] {
  const { snapshot, node } = input;
  return snapshot.authorizationPolicies
    .filter((ap) => {
      const ns = namespaceOf(ap);
      if (ns !== node.namespace && ns !== options.rootNamespace) return false;
      const selector = asStringMap(asRecord(specOf(ap).selector).matchLabels);
      return matchesLabels(selector, node.labels);
    })
    .sort(creationOrder)
    .map((ap) => {
      const spec = specOf(ap);
      const action = asString(spec.action) ?? 'ALLOW';
      return {
        name: `${namespaceOf(ap)}/${nameOf(ap)}`,
        action: action === 'DENY' || action === 'AUDIT' || action === 'CUSTOM' ? action : 'ALLOW',
        rules: asArray(spec.rules).map(parseAuthorizationRule),
      };
    });
}

export function buildProxyConfig(input: BuildInput): ProxyConfig {
  const options: MeshOptions = { ...DEFAULT_MESH_OPTIONS, ...input.options };
  const { node, snapshot } = input;
  const registry = buildRegistry(snapshot, options);
  // Gateways are not scoped by Sidecar resources (those select sidecar workloads).
  const scope =
    node.mode === 'router'
      ? { source: undefined, entries: [{ namespace: '*', host: '*' }] }
      : findSidecarScope(snapshot, node.namespace, node.labels, options);
  const visible = registry.filter((s) => isHostVisible(scope, s.namespace, s.host));
  return {
    version: input.version,
    node,
    clusters: buildClusters(input, options, visible),
    virtualHosts: node.mode === 'sidecar' ? buildSidecarVirtualHosts(input, visible) : [],
    inbound: {
      defaultMtls: serverMtlsMode(snapshot, node.namespace, node.labels, undefined, options),
      ports: node.mode === 'sidecar' ? buildInboundPorts(input, options, registry) : [],
      authorization: buildAuthorization(input, options),
    },
    gateway: node.mode === 'router' ? buildGatewayListeners(input, visible) : [],
    ...(input.trustBundle ? { trustBundle: input.trustBundle } : {}),
    metrics: buildMetricsConfig(snapshot, node, options),
  };
}

/** The ProxyNode for a pod object, as the injected agent would announce itself. */
export function proxyNodeForPod(
  pod: KubeObject,
  mode: 'sidecar' | 'router',
  options?: Partial<MeshOptions>,
): ProxyNode {
  const opts: MeshOptions = { ...DEFAULT_MESH_OPTIONS, ...options };
  const ns = namespaceOf(pod);
  const ip = asString(asRecord(pod.status).podIP) ?? '';
  const workload = workloadMetaOf(pod, opts.trustDomain);
  return {
    id: `${mode}~${ip}~${nameOf(pod)}.${ns}~${ns}.svc.cluster.local`,
    mode,
    podName: nameOf(pod),
    namespace: ns,
    podIP: ip,
    serviceAccount: workload.serviceAccount,
    labels: asStringMap(pod.metadata.labels),
    workload,
  };
}
