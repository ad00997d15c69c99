// The service registry istiod derives from Services + Endpoints and ServiceEntries: hosts, ports and the
// endpoints behind each port, each endpoint annotated with its pod (sidecar or not, labels, identity).

import type { KubeObject } from '../../../../harness/model/index.js';
import { asArray, asNumber, asRecord, asString, asStringArray, asStringMap } from '../model/read.js';
import {
  type MeshOptions,
  type MeshSnapshot,
  matchesLabels,
  nameOf,
  namespaceOf,
  podIpOf,
  serviceFqdn,
  specOf,
} from './snapshot.js';

export interface RegistryEndpoint {
  address: string;
  port: number;
  pod: KubeObject | undefined;
}

export interface RegistryPort {
  port: number;
  name: string;
  /** The named or numbered target port on the pods. */
  targetPort: number | string;
  endpoints: RegistryEndpoint[];
}

export interface RegistryService {
  host: string;
  name: string;
  namespace: string;
  /** Label selector for Kubernetes Services; used for inbound and gateway port mapping. */
  selector: Record<string, string>;
  ports: RegistryPort[];
  /** From a ServiceEntry rather than a Kubernetes Service. */
  external: boolean;
}

function podsByIp(snapshot: MeshSnapshot): Map<string, KubeObject> {
  const byIp = new Map<string, KubeObject>();
  for (const pod of snapshot.pods) {
    const ip = podIpOf(pod);
    if (ip && !pod.metadata.deletionTimestamp) byIp.set(ip, pod);
  }
  return byIp;
}

/** The number a named target port resolves to on a pod's containers. */
export function resolveTargetPort(pod: KubeObject | undefined, target: number | string): number | undefined {
  if (typeof target === 'number') return target;
  const asNum = asNumber(target);
  if (asNum !== undefined) return asNum;
  for (const c of asArray(asRecord(pod?.spec).containers).map(asRecord)) {
    for (const p of asArray(c.ports).map(asRecord)) if (p.name === target) return asNumber(p.containerPort);
  }
  return undefined;
}

function isPodReady(pod: KubeObject): boolean {
  const conditions = asArray(asRecord(pod.status).conditions).map(asRecord);
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

function kubernetesServices(snapshot: MeshSnapshot, byIp: Map<string, KubeObject>): RegistryService[] {
  const out: RegistryService[] = [];
  for (const svc of snapshot.services) {
    const spec = specOf(svc);
    const name = nameOf(svc);
    const ns = namespaceOf(svc);
    const selector = asStringMap(spec.selector);
    const eps = snapshot.endpoints.find((e) => nameOf(e) === name && namespaceOf(e) === ns);
    const ports: RegistryPort[] = [];
    for (const p of asArray(spec.ports).map(asRecord)) {
      const port = asNumber(p.port);
      if (port === undefined) continue;
      const portName = asString(p.name) ?? '';
      const targetPort: number | string = (asString(p.targetPort) ?? asNumber(p.targetPort) ?? port) as
        | number
        | string;
      const endpoints: RegistryEndpoint[] = [];
      if (eps) {
        for (const subset of asArray(eps.subsets).map(asRecord)) {
          const subsetPorts = asArray(subset.ports).map(asRecord);
          const match =
            subsetPorts.find((sp) => (asString(sp.name) ?? '') === portName) ??
            (subsetPorts.length === 1 ? subsetPorts[0] : undefined);
          const epPort = asNumber(match?.port);
          if (epPort === undefined) continue;
          for (const a of asArray(subset.addresses).map(asRecord)) {
            const ip = asString(a.ip);
            if (ip) endpoints.push({ address: ip, port: epPort, pod: byIp.get(ip) });
          }
        }
      } else if (Object.keys(selector).length > 0) {
        // No Endpoints object (yet): derive from Ready pods, as the endpoints controller would.
        for (const pod of snapshot.pods) {
          if (namespaceOf(pod) !== ns || pod.metadata.deletionTimestamp) continue;
          if (!matchesLabels(selector, asStringMap(pod.metadata.labels)) || !isPodReady(pod)) continue;
          const ip = podIpOf(pod);
          const epPort = resolveTargetPort(pod, targetPort);
          if (ip && epPort !== undefined) endpoints.push({ address: ip, port: epPort, pod });
        }
      }
      ports.push({ port, name: portName, targetPort, endpoints });
    }
    out.push({ host: serviceFqdn(name, ns), name, namespace: ns, selector, ports, external: false });
  }
  return out;
}

function serviceEntries(snapshot: MeshSnapshot, byIp: Map<string, KubeObject>, _options: MeshOptions) {
  const out: RegistryService[] = [];
  for (const se of snapshot.serviceEntries) {
    const spec = specOf(se);
    const ns = namespaceOf(se);
    const resolution = asString(spec.resolution) ?? 'NONE';
    const sePorts = asArray(spec.ports).map(asRecord);
    for (const host of asStringArray(spec.hosts)) {
      const ports: RegistryPort[] = [];
      for (const p of sePorts) {
        const number = asNumber(p.number);
        if (number === undefined) continue;
        const portName = asString(p.name) ?? '';
        const target = asNumber(p.targetPort) ?? number;
        const endpoints: RegistryEndpoint[] = [];
        const listed = asArray(spec.endpoints).map(asRecord);
        for (const e of listed) {
          const address = asString(e.address);
          if (!address) continue;
          const port = asNumber(asRecord(e.ports)[portName]) ?? target;
          endpoints.push({ address, port, pod: byIp.get(address) });
        }
        if (listed.length === 0 && resolution === 'DNS')
          endpoints.push({ address: host, port: target, pod: undefined });
        ports.push({ port: number, name: portName, targetPort: target, endpoints });
      }
      const firstLabel = host.split('.')[0] ?? host;
      out.push({ host, name: firstLabel, namespace: ns, selector: {}, ports, external: true });
    }
  }
  return out;
}

export function buildRegistry(snapshot: MeshSnapshot, options: MeshOptions): RegistryService[] {
  const byIp = podsByIp(snapshot);
  return [...kubernetesServices(snapshot, byIp), ...serviceEntries(snapshot, byIp, options)].sort((a, b) =>
    a.host.localeCompare(b.host),
  );
}
