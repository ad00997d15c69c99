// The local target's network: ClusterIP/nodePort allocation, the kube-proxy emulation and cluster DNS.

import type { Endpoints, Service } from '../controllers/kube-types.js';
import { RESOURCES } from '../controllers/resources.js';
import type { ObjectStore } from '../store/types.js';
import { buildDnsTable, writeDnsTable } from './cluster-dns.js';
import { desiredListeners, type ListenerSpec } from './kube-proxy.js';
import { startKubeProxyThread } from './kube-proxy-thread.js';
import { watchPodFaults } from './pod-faults.js';
import { installServiceAllocator, type ReservedNodePort } from './service-ips.js';

export { buildDnsTable, writeDnsTable } from './cluster-dns.js';
export {
  backendsFor,
  createKubeProxy,
  desiredListeners,
  type KubeProxy,
  type ListenerSpec,
} from './kube-proxy.js';
export { type PodFaultTable, podFaults, publishPodFaults, watchPodFaults } from './pod-faults.js';
export { installServiceAllocator, type ReservedNodePort, SERVICE_CIDR } from './service-ips.js';

export interface Network {
  /** http://127.0.0.1:<nodePort> of a NodePort/LoadBalancer service port (by name or number), if any. */
  nodePortUrl(namespace: string, name: string, port?: string | number): string | undefined;
  openListeners(): string[];
  /** Re-reads services and endpoints now (tests). */
  resync(): void;
  stop(): Promise<void>;
}

export interface NetworkOptions {
  store: ObjectStore;
  dnsFile: string;
  onListenError?: (spec: ListenerSpec, error: Error) => void;
  /** nodePorts promised to named services before they exist (the ingress gateway's host port). */
  reservedNodePorts?: ReservedNodePort[];
}

/** Must start before any Service exists: ClusterIPs are allocated at admission. */
export function startNetwork(options: NetworkOptions): Network {
  const { store } = options;
  const allocator = installServiceAllocator(store, options.reservedNodePorts);
  const proxy = startKubeProxyThread(options.onListenError);
  const unwatchFaults = watchPodFaults(store, (table) => proxy.setFaults(table));
  let queued = false;
  let stopped = false;

  const resync = (): void => {
    if (stopped) return;
    const services = store.list(RESOURCES.services).items as Service[];
    const endpoints = store.list(RESOURCES.endpoints).items as Endpoints[];
    writeDnsTable(options.dnsFile, buildDnsTable(services, endpoints));
    proxy.sync(desiredListeners(services, endpoints));
    for (const s of services) {
      if (s.spec.type !== 'LoadBalancer') continue;
      const lb = (s.status as { loadBalancer?: { ingress?: { ip: string }[] } } | undefined)?.loadBalancer;
      if (lb?.ingress?.[0]?.ip === '127.0.0.1') continue;
      // Like MetalLB or cloud-provider-kind: the load balancer is the host's loopback.
      void store
        .updateStatus(RESOURCES.services, {
          ...s,
          status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', ipMode: 'VIP' }] } },
        })
        .catch(() => undefined);
    }
  };
  const schedule = (): void => {
    if (queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      resync();
    });
  };

  const rv = store.currentResourceVersion();
  const watches = [
    store.watch(RESOURCES.services, { sinceResourceVersion: rv }, (e) => {
      if (e.type === 'DELETED') allocator.release(e.object);
      schedule();
    }),
    store.watch(RESOURCES.endpoints, { sinceResourceVersion: rv }, schedule),
  ];
  resync();

  return {
    nodePortUrl(namespace, name, port): string | undefined {
      const s = store.get(RESOURCES.services, namespace, name) as Service | undefined;
      const ports = s?.spec.ports ?? [];
      const p =
        port === undefined
          ? (ports.find((x) => x.name === 'http2' || x.name === 'http') ??
            ports.find((x) => x.port === 80) ??
            ports[0])
          : ports.find((x) => x.name === port || x.port === port);
      return p?.nodePort ? `http://127.0.0.1:${p.nodePort}` : undefined;
    },
    openListeners: () => proxy.openListeners(),
    resync,
    async stop(): Promise<void> {
      stopped = true;
      for (const w of watches) w.stop();
      unwatchFaults();
      await proxy.stop();
    },
  };
}
