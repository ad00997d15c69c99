// Prometheus for drills as pure manifests: Istio's addon scrape model (pod annotations), a short scrape
// interval, meshdrill's rule files in a ConfigMap, and `--web.enable-lifecycle` for reloads.

import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { KubeObject } from '../../../harness/model/index.js';
import { toPromDuration } from '../../../harness/util/duration.js';

export const PROMETHEUS_NAMESPACE = 'meshdrill-system';
export const PROMETHEUS_NAME = 'meshdrill-prometheus';
export const PROMETHEUS_PORT = 9090;
/** Prometheus 3.5 is an LTS line; pinned so drills compare like with like. */
export const PROMETHEUS_IMAGE = 'prom/prometheus:v3.5.0';
export const PROMETHEUS_RULES_DIR = '/etc/prometheus/rules';
/**
 * The rule files in the mounted rules ConfigMap. A ConfigMap volume holds `..data` (a symlink to a timestamped
 * `..<date>` directory) beside a symlink per key; Go's glob `*` matches names that begin with a dot, so `rules/*`
 * hands Prometheus a directory and it exits ("read …/..data: is a directory"). Every key ruleFileKeys makes
 * begins with its index, a digit; the volume's own entries begin with a dot.
 */
export const PROMETHEUS_RULE_FILES = `${PROMETHEUS_RULES_DIR}/[0-9]*`;

export interface PrometheusManifestOptions {
  scrapeIntervalMs: number;
  evaluationIntervalMs: number;
  /** Rule files by name (contents already read). */
  ruleFiles: { name: string; content: string }[];
  image?: string;
  retention?: string;
  /** host:port of each Alertmanager the firing alerts go to; none, Prometheus only evaluates. */
  alertmanagers?: string[];
}

const LABELS = { 'app.kubernetes.io/name': PROMETHEUS_NAME, 'app.kubernetes.io/managed-by': 'meshdrill' };

/** Pod-template annotation: a digest of Prometheus's configuration and rules. */
export const CONFIG_CHECKSUM_ANNOTATION = 'meshdrill.io/config-checksum';

/** sha256 of the configuration and the rule files, keys sorted (pure). */
export function configChecksum(configYaml: string, rules: Record<string, string>): string {
  const hash = createHash('sha256').update(configYaml);
  for (const key of Object.keys(rules).sort()) hash.update(`\0${key}\0${rules[key]}`);
  return hash.digest('hex');
}

/** ConfigMap keys for rule files: DNS-safe, unique, in the order given, each beginning with a digit (pure). */
export function ruleFileKeys(paths: readonly string[]): string[] {
  return paths.map((path, i) => {
    const safe = basename(path).replace(/[^-._a-zA-Z0-9]/g, '_');
    return `${String(i).padStart(2, '0')}-${safe}`;
  });
}

/** prometheus.yml (as an object): pods annotated `prometheus.io/scrape`, as Istio's addon does. */
export function buildPrometheusConfig(options: PrometheusManifestOptions): Record<string, unknown> {
  const scrape = toPromDuration(options.scrapeIntervalMs);
  return {
    global: {
      scrape_interval: scrape,
      scrape_timeout: toPromDuration(Math.min(options.scrapeIntervalMs, 10_000)),
      evaluation_interval: toPromDuration(options.evaluationIntervalMs),
    },
    rule_files: [PROMETHEUS_RULE_FILES],
    ...(options.alertmanagers?.length
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [...options.alertmanagers] }] }] } }
      : {}),
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
      {
        job_name: 'kubernetes-pods',
        kubernetes_sd_configs: [{ role: 'pod' }],
        relabel_configs: [
          {
            source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'],
            action: 'keep',
            regex: 'true',
          },
          {
            source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'],
            action: 'replace',
            target_label: '__metrics_path__',
            regex: '(.+)',
          },
          {
            source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
            action: 'replace',
            regex: '([^:]+)(?::\\d+)?;(\\d+)',
            replacement: '$1:$2',
            target_label: '__address__',
          },
          { action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)' },
          { source_labels: ['__meta_kubernetes_namespace'], action: 'replace', target_label: 'namespace' },
          { source_labels: ['__meta_kubernetes_pod_name'], action: 'replace', target_label: 'pod' },
          {
            source_labels: ['__meta_kubernetes_pod_phase'],
            action: 'drop',
            regex: 'Pending|Succeeded|Failed|Completed',
          },
        ],
      },
    ],
  };
}

export function buildPrometheusManifests(
  options: PrometheusManifestOptions,
  configYaml: string,
): KubeObject[] {
  const rules = ruleFilesByKey(options.ruleFiles);
  return [
    buildNamespace(),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadataOf(PROMETHEUS_NAME) },
    buildClusterRole(),
    buildClusterRoleBinding(),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metadataOf(`${PROMETHEUS_NAME}-config`),
      data: { 'prometheus.yml': configYaml },
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadataOf(`${PROMETHEUS_NAME}-rules`), data: rules },
    buildDeployment(options, configChecksum(configYaml, rules)),
    buildService(),
  ];
}

function metadataOf(name: string, namespaced = true): KubeObject['metadata'] {
  return {
    name,
    ...(namespaced ? { namespace: PROMETHEUS_NAMESPACE } : {}),
    labels: { ...LABELS },
  };
}

/** The rules ConfigMap's data: each file's content under its ruleFileKeys key. */
function ruleFilesByKey(ruleFiles: PrometheusManifestOptions['ruleFiles']): Record<string, string> {
  const rules: Record<string, string> = {};
  const keys = ruleFileKeys(ruleFiles.map((f) => f.name));
  ruleFiles.forEach((file, i) => {
    rules[keys[i] as string] = file.content;
  });
  return rules;
}

function buildNamespace(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    // No sidecar for the monitoring namespace: Prometheus must keep scraping while the mesh is broken.
    metadata: { name: PROMETHEUS_NAMESPACE, labels: { ...LABELS, 'istio-injection': 'disabled' } },
  };
}

function buildClusterRole(): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: metadataOf(PROMETHEUS_NAME, false),
    rules: [
      {
        apiGroups: [''],
        resources: ['nodes', 'nodes/proxy', 'nodes/metrics', 'services', 'endpoints', 'pods'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { nonResourceURLs: ['/metrics'], verbs: ['get'] },
    ],
  };
}

function buildClusterRoleBinding(): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: metadataOf(PROMETHEUS_NAME, false),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PROMETHEUS_NAME },
    subjects: [{ kind: 'ServiceAccount', name: PROMETHEUS_NAME, namespace: PROMETHEUS_NAMESPACE }],
  };
}

function buildDeployment(options: PrometheusManifestOptions, checksum: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadataOf(PROMETHEUS_NAME),
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': PROMETHEUS_NAME } },
      template: {
        metadata: {
          labels: { ...LABELS, 'sidecar.istio.io/inject': 'false' },
          // A new configuration or rule set rolls the pod (Helm's checksum idiom): on a reused cluster the
          // mounted ConfigMaps change a minute late and Prometheus would go on with the old rules meanwhile.
          annotations: { [CONFIG_CHECKSUM_ANNOTATION]: checksum },
        },
        spec: {
          serviceAccountName: PROMETHEUS_NAME,
          containers: [buildContainer(options)],
          volumes: [
            { name: 'config', configMap: { name: `${PROMETHEUS_NAME}-config` } },
            { name: 'rules', configMap: { name: `${PROMETHEUS_NAME}-rules` } },
            { name: 'data', emptyDir: {} },
          ],
        },
      },
    },
  };
}

function buildContainer(options: PrometheusManifestOptions): Record<string, unknown> {
  return {
    name: 'prometheus',
    image: options.image ?? PROMETHEUS_IMAGE,
    args: [
      '--config.file=/etc/prometheus/config/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      `--storage.tsdb.retention.time=${options.retention ?? '12h'}`,
      '--web.enable-lifecycle',
    ],
    ports: [{ name: 'http', containerPort: PROMETHEUS_PORT }],
    readinessProbe: { httpGet: { path: '/-/ready', port: PROMETHEUS_PORT }, periodSeconds: 5 },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/prometheus/config' },
      { name: 'rules', mountPath: PROMETHEUS_RULES_DIR },
      { name: 'data', mountPath: '/prometheus' },
    ],
  };
}

function buildService(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadataOf(PROMETHEUS_NAME),
    spec: {
      selector: { 'app.kubernetes.io/name': PROMETHEUS_NAME },
      ports: [{ name: 'http', port: PROMETHEUS_PORT, targetPort: PROMETHEUS_PORT }],
    },
  };
}
