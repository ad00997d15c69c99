// metrics.k8s.io/v1beta1 pods: PodMetrics computed on read from the pod runtime (as metrics-server does from
// the kubelets), filtered by namespace, name and the pods' labels, for `kubectl top pod`.

import type { PodMetrics } from '../pod-runtime.js';
import { KEYS, matchesLabels, parseLabelSelector } from '../store/index.js';
import type { ApiContext, ResourceRequest } from './context.js';
import { sendJson } from './http-io.js';
import { notFound } from './status-errors.js';

function formatPodMetrics(context: ApiContext, m: PodMetrics) {
  const pod = context.store.get(KEYS.pods, m.namespace, m.name);
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(pod?.metadata.labels ? { labels: pod.metadata.labels } : {}),
    },
    timestamp: m.timestamp,
    window: '10s',
    containers: m.containers.map((c) => ({
      name: c.name,
      usage: { cpu: `${Math.round(c.cpuNanoCores)}n`, memory: `${Math.round(c.memoryBytes / 1024)}Ki` },
    })),
  };
}

export function handlePodMetrics(context: ApiContext, request: ResourceRequest): void {
  const all = context.runtime?.podMetrics() ?? [];
  const selector = parseLabelSelector(request.query.get('labelSelector') ?? undefined);
  const items = all
    .filter((m) => request.namespace === undefined || m.namespace === request.namespace)
    .filter((m) => request.name === undefined || m.name === request.name)
    .map((m) => formatPodMetrics(context, m))
    .filter((m) => matchesLabels(selector, m.metadata.labels));
  if (request.name !== undefined) {
    const item = items[0];
    if (!item) throw notFound(`podmetrics.metrics.k8s.io "${request.name}" not found`);
    sendJson(request.res, 200, { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...item });
    return;
  }
  sendJson(request.res, 200, {
    kind: 'PodMetricsList',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: {},
    items: items.map((i) => ({ kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...i })),
  });
}
