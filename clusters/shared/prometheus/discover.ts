// Finds a Prometheus Service on a cluster meshdrill did not set up (existing target): meshdrill's own, Istio's
// addon, then anything labelled as Prometheus, then the operator's `prometheus-operated`.

import type { KubeClient } from '../../../harness/kube/index.js';
import type { KubeObject } from '../../../harness/model/index.js';
import { PROMETHEUS_NAME, PROMETHEUS_NAMESPACE } from './manifests.js';

export interface ServiceRef {
  namespace: string;
  name: string;
  port: number;
}

/** The port to forward to (pure): one named http/web, else 9090, else the first. */
export function prometheusPortOf(service: KubeObject): number | undefined {
  const ports = (
    (service.spec as { ports?: { name?: string; port?: number }[] } | undefined)?.ports ?? []
  ).filter((p): p is { name?: string; port: number } => typeof p.port === 'number');
  return (
    ports.find((p) => p.name === 'http' || p.name === 'web' || p.name === 'http-web')?.port ??
    ports.find((p) => p.port === 9090)?.port ??
    ports[0]?.port
  );
}

const refOf = (service: KubeObject | undefined): ServiceRef | undefined => {
  if (!service?.metadata.name || !service.metadata.namespace) return undefined;
  const port = prometheusPortOf(service);
  return port === undefined
    ? undefined
    : { namespace: service.metadata.namespace, name: service.metadata.name, port };
};

export async function discoverPrometheus(kube: KubeClient): Promise<ServiceRef | undefined> {
  for (const [namespace, name] of [
    [PROMETHEUS_NAMESPACE, PROMETHEUS_NAME],
    ['istio-system', 'prometheus'],
  ] as const) {
    const found = refOf(await kube.get({ apiVersion: 'v1', kind: 'Service', namespace, name }));
    if (found) return found;
  }
  for (const labelSelector of [
    'app.kubernetes.io/name=prometheus',
    'app=prometheus',
    'operated-prometheus=true',
  ]) {
    const services = await kube.list('v1', 'Service', { labelSelector });
    const found = services.map(refOf).find((r) => r !== undefined);
    if (found) return found;
  }
  return undefined;
}
