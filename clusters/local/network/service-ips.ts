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

/** What is handed out: ClusterIPs, nodePorts (reserved ones included), and where the next IP search starts. */
interface AllocatorState {
  usedIps: Set<string>;
  usedNodePorts: Set<number>;
  reserved: ReservedNodePort[];
  next: number;
}

type ServiceSpec = Service['spec'];

function allocateIp(state: AllocatorState): string {
  for (let i = 0; i < 65000; i++) {
    const n = ((state.next + i) % 65000) + 10;
    const ip = `127.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    if (!state.usedIps.has(ip)) {
      state.usedIps.add(ip);
      state.next = n + 1;
      return ip;
    }
  }
  throw new Error(`service IP range ${SERVICE_CIDR} is exhausted`);
}

function allocateNodePort(state: AllocatorState): number {
  for (let i = 0; i < 2768; i++) {
    const port = 30000 + Math.floor(Math.random() * 2768);
    if (!state.usedNodePorts.has(port)) {
      state.usedNodePorts.add(port);
      return port;
    }
  }
  throw new Error('nodePort range 30000-32767 is exhausted');
}

/** An update keeps the service's ClusterIP; a new one gets a free IP unless it names one (or None). */
function assignClusterIp(
  state: AllocatorState,
  operation: 'CREATE' | 'UPDATE',
  spec: ServiceSpec,
  oldSpec: ServiceSpec,
): void {
  if (
    operation === 'UPDATE' &&
    oldSpec.clusterIP &&
    (spec.clusterIP === undefined || spec.clusterIP === '')
  ) {
    spec.clusterIP = oldSpec.clusterIP;
    spec.clusterIPs = oldSpec.clusterIPs ?? [oldSpec.clusterIP];
  }
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    const ip = allocateIp(state);
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  } else if (spec.clusterIP !== 'None') {
    state.usedIps.add(spec.clusterIP);
    spec.clusterIPs ??= [spec.clusterIP];
  }
}

/** nodePorts: a reserved one for its promised port, the previous one on update, else a free one. */
function assignNodePorts(
  state: AllocatorState,
  object: StoredObject,
  spec: ServiceSpec,
  oldSpec: ServiceSpec,
): void {
  spec.externalTrafficPolicy ??= 'Cluster';
  const promise = state.reserved.find(
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
    if (p.nodePort === undefined) p.nodePort = previous ?? allocateNodePort(state);
    else state.usedNodePorts.add(p.nodePort);
  }
}

function admitService(
  state: AllocatorState,
  operation: 'CREATE' | 'UPDATE',
  object: StoredObject,
  old: StoredObject | undefined,
): void {
  const spec = (object.spec ?? {}) as ServiceSpec;
  object.spec = spec;
  const oldSpec = (old?.spec ?? {}) as ServiceSpec;
  if (spec.type === 'ExternalName') return;
  assignClusterIp(state, operation, spec, oldSpec);
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') assignNodePorts(state, object, spec, oldSpec);
}

function release(state: AllocatorState, service: StoredObject): void {
  const spec = (service.spec ?? {}) as ServiceSpec;
  if (spec.clusterIP) state.usedIps.delete(spec.clusterIP);
  for (const p of spec.ports ?? []) {
    if (p.nodePort && !state.reserved.some((r) => r.nodePort === p.nodePort))
      state.usedNodePorts.delete(p.nodePort);
  }
}

export function installServiceAllocator(
  store: ObjectStore,
  reserved: ReservedNodePort[] = [],
): ServiceAllocator {
  const state: AllocatorState = {
    usedIps: new Set(),
    usedNodePorts: new Set(reserved.map((r) => r.nodePort)),
    reserved,
    // Start somewhere random, as the kubelet's pod IP pool does: several local clusters on one host (a `cluster up`
    // beside a test run) share 127/8, and two kube-proxies listening on the same ClusterIP would cross-connect them.
    next: 10 + Math.floor(Math.random() * 64_000),
  };
  for (const s of store.list(RESOURCES.services).items as Service[]) {
    if (s.spec.clusterIP) state.usedIps.add(s.spec.clusterIP);
    for (const p of s.spec.ports ?? []) if (p.nodePort) state.usedNodePorts.add(p.nodePort);
  }
  store.addAdmissionHook(RESOURCES.services, (operation, object, old) =>
    admitService(state, operation, object, old),
  );
  return { release: (service) => release(state, service) };
}
