// ClusterIP and nodePort allocation, done at admission as the real API server allocates them: ClusterIPs
// from 127.96.0.0/16 (loopback, so the kube-proxy emulation can listen on them), nodePorts from 30000–32767.

import type { Service } from '../controllers/kube-types.js';
import { RESOURCES } from '../controllers/resources.js';
import type { ObjectStore, StoredObject } from '../store/types.js';

export const SERVICE_CIDR = '127.96.0.0/16';

export interface ServiceAllocator {
  /** Releases the ClusterIP and nodePorts of a deleted service. */
  release(service: StoredObject): void;
}

/** A host port promised ahead of time to one service port (kind's extraPortMappings: a fixed nodePort). */
export interface ReservedNodePort {
  namespace: string;
  name: string;
  /** Port names (first match wins), e.g. ["http2", "http"]; otherwise the port numbered 80. */
  portNames: string[];
  nodePort: number;
}

export function installServiceAllocator(
  store: ObjectStore,
  reserved: ReservedNodePort[] = [],
): ServiceAllocator {
  const usedIps = new Set<string>();
  const usedNodePorts = new Set<number>(reserved.map((r) => r.nodePort));
  for (const s of store.list(RESOURCES.services).items as Service[]) {
    if (s.spec.clusterIP) usedIps.add(s.spec.clusterIP);
    for (const p of s.spec.ports ?? []) if (p.nodePort) usedNodePorts.add(p.nodePort);
  }
  // Start somewhere random, as the kubelet's pod IP pool does: several local clusters on one host (a `cluster up`
  // beside a test run) share 127/8, and two kube-proxies listening on the same ClusterIP would cross-connect them.
  let next = 10 + Math.floor(Math.random() * 64_000);
  const allocateIp = (): string => {
    for (let i = 0; i < 65000; i++) {
      const n = ((next + i) % 65000) + 10;
      const ip = `127.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
      if (!usedIps.has(ip)) {
        usedIps.add(ip);
        next = n + 1;
        return ip;
      }
    }
    throw new Error(`service IP range ${SERVICE_CIDR} is exhausted`);
  };
  const allocateNodePort = (): number => {
    for (let i = 0; i < 2768; i++) {
      const port = 30000 + Math.floor(Math.random() * 2768);
      if (!usedNodePorts.has(port)) {
        usedNodePorts.add(port);
        return port;
      }
    }
    throw new Error('nodePort range 30000-32767 is exhausted');
  };

  store.addAdmissionHook(RESOURCES.services, (operation, object, old) => {
    const spec = (object.spec ?? {}) as Service['spec'];
    object.spec = spec;
    const oldSpec = (old?.spec ?? {}) as Service['spec'];
    if (spec.type === 'ExternalName') return;
    if (
      operation === 'UPDATE' &&
      oldSpec.clusterIP &&
      (spec.clusterIP === undefined || spec.clusterIP === '')
    ) {
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs = oldSpec.clusterIPs ?? [oldSpec.clusterIP];
    }
    if (spec.clusterIP === undefined || spec.clusterIP === '') {
      const ip = allocateIp();
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    } else if (spec.clusterIP !== 'None') {
      usedIps.add(spec.clusterIP);
      spec.clusterIPs ??= [spec.clusterIP];
    }
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      spec.externalTrafficPolicy ??= 'Cluster';
      const promise = reserved.find(
        (r) => r.namespace === object.metadata.namespace && r.name === object.metadata.name,
      );
      const ports = spec.ports ?? [];
      const promised = promise
        ? (promise.portNames.map((n) => ports.find((p) => p.name === n)).find((p) => p !== undefined) ??
          ports.find((p) => p.port === 80))
        : undefined;
      if (promise && promised && promised.nodePort === undefined) promised.nodePort = promise.nodePort;
      for (const p of ports) {
        const previous = oldSpec.ports?.find((o) => o.port === p.port && o.name === p.name)?.nodePort;
        if (p.nodePort === undefined) p.nodePort = previous ?? allocateNodePort();
        else usedNodePorts.add(p.nodePort);
      }
    }
  });

  return {
    release(service): void {
      const spec = (service.spec ?? {}) as Service['spec'];
      if (spec.clusterIP) usedIps.delete(spec.clusterIP);
      for (const p of spec.ports ?? []) {
        if (p.nodePort && !reserved.some((r) => r.nodePort === p.nodePort)) usedNodePorts.delete(p.nodePort);
      }
    },
  };
}
