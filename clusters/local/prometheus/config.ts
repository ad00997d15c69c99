// Prometheus configuration for the local target (pure): 1 s scrape and evaluation intervals, and pod
// targets from `prometheus.io/*` annotations with the labels Istio's addon relabelling yields.

import { stringify } from 'yaml';
import type { Pod } from '../controllers/kube-types.js';

export interface PrometheusConfigInput {
  scrapeIntervalMs: number;
  evaluationIntervalMs: number;
  ruleFiles: string[];
  podTargetsFile: string;
  selfAddress: string;
  /**
   * host:port of each Alertmanager firing alerts are sent to (the target's, then one per scenario routing): like
   * every Prometheus, it sends each alert to all of them, and each routes it by its own configuration.
   */
  alertmanagerAddresses?: string[];
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

export function buildPrometheusConfig(input: PrometheusConfigInput): string {
  return stringify({
    global: {
      scrape_interval: seconds(input.scrapeIntervalMs),
      scrape_timeout: seconds(input.scrapeIntervalMs),
      evaluation_interval: seconds(input.evaluationIntervalMs),
    },
    rule_files: input.ruleFiles,
    ...(input.alertmanagerAddresses?.length
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: input.alertmanagerAddresses }] }] } }
      : {}),
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: [input.selfAddress] }] },
      {
        // Istio's addon names this job kubernetes-pods and drives it by the pod annotations.
        job_name: 'kubernetes-pods',
        honor_labels: true,
        file_sd_configs: [{ files: [input.podTargetsFile], refresh_interval: '1s' }],
      },
    ],
  });
}

/** Prometheus label names allow [a-zA-Z_][a-zA-Z0-9_]*; Kubernetes SD sanitises the rest to `_`. */
export function sanitizeLabelName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
}

export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** One target per annotated, running pod (pure): address podIP:port, path, namespace, pod, pod labels. */
export function buildPodTargets(pods: Pod[]): FileSdGroup[] {
  const groups: FileSdGroup[] = [];
  for (const pod of pods) {
    const a = pod.metadata.annotations ?? {};
    if (a['prometheus.io/scrape'] !== 'true') continue;
    if (pod.status?.phase !== 'Running' || !pod.status.podIP || pod.metadata.deletionTimestamp) continue;
    const port =
      a['prometheus.io/port'] ??
      String(pod.spec.containers.flatMap((c) => c.ports ?? [])[0]?.containerPort ?? '');
    if (!/^\d+$/.test(port)) continue;
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(pod.metadata.labels ?? {})) labels[sanitizeLabelName(k)] = v;
    Object.assign(labels, {
      __metrics_path__: a['prometheus.io/path'] ?? '/metrics',
      __scheme__: a['prometheus.io/scheme'] ?? 'http',
      namespace: pod.metadata.namespace ?? 'default',
      pod: pod.metadata.name,
    });
    groups.push({ targets: [`${pod.status.podIP}:${port}`], labels });
  }
  return groups.sort((x, y) => (x.targets[0] ?? '').localeCompare(y.targets[0] ?? ''));
}
