// Endpoints and EndpointSlice controller: for each Service with a selector, the matching pods with an IP,
// Ready ones under `addresses` and the rest under `notReadyAddresses`, ports resolved against the pods.

import type { ObjectStore, StoredObject } from '../store/types.js';
import type { EndpointAddress, EndpointSubset, Pod, Service, ServicePort } from './kube-types.js';
import { isPodFinished, isPodReady, isPodTerminating } from './kube-types.js';
import { matchesServiceSelector } from './labels.js';
import { RESOURCES } from './resources.js';
import { type ControllerLoop, objectKey, splitKey, startControllerLoop } from './work-queue.js';

const MANAGED_BY = 'endpointslice-controller.k8s.io';

/** A service port's target on a given pod: a number, or a named container port (absent when unresolvable). */
export function resolveTargetPort(port: ServicePort, pod: Pod): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
    const found = c.ports?.find((p) => p.name === target);
    if (found) return found.containerPort;
  }
  return undefined;
}

/** Builds Endpoints subsets (pure): pods grouped by their resolved port set, as the real controller does. */
export function buildSubsets(service: Service, pods: Pod[]): EndpointSubset[] {
  const groups = new Map<string, EndpointSubset>();
  const ports = service.spec.ports ?? [];
  const candidates = pods
    .filter((p) => p.status?.podIP && !isPodFinished(p))
    .filter((p) => !isPodTerminating(p) || service.spec.publishNotReadyAddresses === true)
    .sort((a, b) => (a.status?.podIP ?? '').localeCompare(b.status?.podIP ?? '', 'en', { numeric: true }));
  for (const pod of candidates) {
    const resolved = ports.map((p) => ({
      name: p.name,
      port: resolveTargetPort(p, pod),
      protocol: p.protocol ?? 'TCP',
    }));
    if (resolved.some((p) => p.port === undefined)) continue;
    const groupKey = JSON.stringify(resolved);
    let subset = groups.get(groupKey);
    if (!subset) {
      subset = {
        ports: resolved.map((p) => ({
          ...(p.name ? { name: p.name } : {}),
          port: p.port as number,
          protocol: p.protocol,
        })),
      };
      groups.set(groupKey, subset);
    }
    const address: EndpointAddress = {
      ip: pod.status?.podIP as string,
      ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: {
        kind: 'Pod',
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name,
        uid: pod.metadata.uid,
      },
    };
    const ready = isPodReady(pod) || service.spec.publishNotReadyAddresses === true;
    if (ready) subset.addresses = [...(subset.addresses ?? []), address];
    else subset.notReadyAddresses = [...(subset.notReadyAddresses ?? []), address];
  }
  return [...groups.values()];
}

function buildSliceEndpoints(service: Service, pods: Pod[]): { endpoints: unknown[]; ports: unknown[] } {
  const subsets = buildSubsets(service, pods);
  const byIp = new Map(pods.map((p) => [p.status?.podIP, p]));
  const endpoints = subsets.flatMap((s) => [
    ...(s.addresses ?? []).map((a) => ({ a, ready: true })),
    ...(s.notReadyAddresses ?? []).map((a) => ({ a, ready: false })),
  ]);
  return {
    endpoints: endpoints.map(({ a, ready }) => {
      const terminating = isPodTerminating(byIp.get(a.ip) as Pod);
      return {
        addresses: [a.ip],
        conditions: { ready: ready && !terminating, serving: ready, terminating },
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
        targetRef: a.targetRef,
      };
    }),
    ports: subsets[0]?.ports ?? [],
  };
}

function sameContent(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The Endpoints object: created, or updated when its subsets changed. */
async function syncEndpoints(
  store: ObjectStore,
  service: Service,
  endpoints: StoredObject | undefined,
  subsets: EndpointSubset[],
): Promise<void> {
  const { name, namespace } = service.metadata;
  if (!endpoints) {
    await store.create(RESOURCES.endpoints, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, labels: { ...(service.metadata.labels ?? {}) } },
      subsets,
    });
  } else if (!sameContent(endpoints.subsets ?? [], subsets)) {
    await store.update(RESOURCES.endpoints, { ...endpoints, subsets });
  }
}

/** The Service's one EndpointSlice, owned by it: created, or updated when endpoints or ports changed. */
async function syncEndpointSlice(
  store: ObjectStore,
  service: Service,
  slice: StoredObject | undefined,
  pods: Pod[],
): Promise<void> {
  const { name, namespace } = service.metadata;
  const { endpoints: sliceEndpoints, ports } = buildSliceEndpoints(service, pods);
  if (slice) {
    if (!sameContent(slice.endpoints, sliceEndpoints) || !sameContent(slice.ports, ports)) {
      await store.update(RESOURCES.endpointslices, { ...slice, endpoints: sliceEndpoints, ports });
    }
    return;
  }
  await store.create(RESOURCES.endpointslices, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: 'IPv4',
    endpoints: sliceEndpoints,
    ports,
    metadata: {
      name: sliceNameOf(name),
      namespace,
      labels: {
        ...(service.metadata.labels ?? {}),
        'kubernetes.io/service-name': name,
        'endpointslice.kubernetes.io/managed-by': MANAGED_BY,
      },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name,
          uid: service.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
  });
}

function sliceNameOf(service: string): string {
  return `${service}-meshdrill`;
}

async function reconcileService(store: ObjectStore, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const service = store.get(RESOURCES.services, namespace, name) as Service | undefined;
  const endpoints = store.get(RESOURCES.endpoints, namespace, name);
  const sliceName = sliceNameOf(name);
  const slice = store.get(RESOURCES.endpointslices, namespace, sliceName);
  const selector = service?.spec.selector;
  if (!service || service.metadata.deletionTimestamp || !selector || Object.keys(selector).length === 0) {
    // No selector: endpoints are the user's business (left alone); a deleted service loses its own.
    if (!service) {
      if (endpoints) await store.delete(RESOURCES.endpoints, namespace, name).catch(() => undefined);
      if (slice) await store.delete(RESOURCES.endpointslices, namespace, sliceName).catch(() => undefined);
    }
    return;
  }
  const pods = (store.list(RESOURCES.pods, { namespace }).items as Pod[]).filter((p) =>
    matchesServiceSelector(selector, p.metadata.labels),
  );
  await syncEndpoints(store, service, endpoints, buildSubsets(service, pods));
  await syncEndpointSlice(store, service, slice, pods);
}

export function startEndpointsController(store: ObjectStore): ControllerLoop {
  const servicesSelecting = (pod: StoredObject): string[] =>
    (store.list(RESOURCES.services, { namespace: pod.metadata.namespace }).items as Service[])
      .filter((s) => matchesServiceSelector(s.spec.selector, pod.metadata.labels))
      .map(objectKey);
  const podLabels = new Map<string, Record<string, string>>();
  return startControllerLoop({
    name: 'endpoints',
    store,
    sources: [
      { key: RESOURCES.services, toKeys: (e) => [objectKey(e.object)] },
      {
        key: RESOURCES.pods,
        toKeys: (e) => {
          // A relabelled pod may leave a service: reconcile the services of its old labels too.
          const k = e.object.metadata.uid;
          const before = podLabels.get(k);
          if (e.type === 'DELETED') podLabels.delete(k);
          else podLabels.set(k, e.object.metadata.labels ?? {});
          const keys = servicesSelecting(e.object);
          if (before)
            keys.push(
              ...servicesSelecting({ ...e.object, metadata: { ...e.object.metadata, labels: before } }),
            );
          return keys;
        },
      },
    ],
    initialKeys: () => store.list(RESOURCES.services).items.map(objectKey),
    reconcile: (key) => reconcileService(store, key),
  });
}
