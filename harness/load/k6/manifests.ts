// Pure builders for running k6 in-cluster on kind: the script in a ConfigMap, and either a plain Job running the
// grafana/k6 image or a k6-operator TestRun (k6.io/v1alpha1) for distributed load. Every object carries the
// run-id label so cleanup finds it after a crash; names are DNS-safe and deterministic; keys in stable order.

import { type KubeObject, RUN_ID_LABEL, SCENARIO_LABEL } from '../../model/kube-object.js';
import { K6_ENV } from './script.js';

export const K6_IMAGE = 'grafana/k6:0.54.0';
const SCRIPT_KEY = 'script.js';

export interface K6ClusterRun {
  /** Base of the object names (DNS-safe-ified and truncated). */
  name: string;
  namespace: string;
  runId: string;
  scenario: string;
  /** The generated script (generateK6Script). */
  script: string;
  /** Where the load goes, as seen from inside the cluster (e.g. the ingress gateway's service URL). */
  baseUrl: string;
  image?: string;
  /** TestRun only: k6 runners to split the load across. */
  parallelism?: number;
}

/** A DNS-1123 label: lower-case alphanumerics and '-', at most `max` characters, alphanumeric at both ends. */
export function toDnsLabel(text: string, max = 63): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return cleaned === '' ? 'k6' : cleaned;
}

function labels(run: K6ClusterRun): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': 'meshdrill',
    'app.kubernetes.io/name': 'k6',
    [RUN_ID_LABEL]: toDnsLabel(run.runId),
    [SCENARIO_LABEL]: toDnsLabel(run.scenario),
  };
}

function configMapName(run: K6ClusterRun): string {
  return toDnsLabel(`${run.name}-script`, 63);
}

export function buildK6ConfigMap(run: K6ClusterRun): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: configMapName(run), namespace: run.namespace, labels: labels(run) },
    data: { [SCRIPT_KEY]: run.script },
  };
}

/** A Job running `k6 run` once on the ConfigMap's script; the NDJSON points go to stdout for `kubectl logs`. */
export function buildK6Job(run: K6ClusterRun): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: toDnsLabel(run.name, 63), namespace: run.namespace, labels: labels(run) },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: {
          labels: labels(run),
          // The load generator must not get a sidecar: it stands for users outside the mesh.
          annotations: { 'sidecar.istio.io/inject': 'false' },
        },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'k6',
              image: run.image ?? K6_IMAGE,
              args: ['run', '--quiet', '--out', 'json=/dev/stdout', `/scripts/${SCRIPT_KEY}`],
              env: [
                { name: K6_ENV.baseUrl, value: run.baseUrl },
                { name: K6_ENV.summaryPath, value: '/tmp/summary.json' },
              ],
              volumeMounts: [{ name: 'script', mountPath: '/scripts', readOnly: true }],
            },
          ],
          volumes: [{ name: 'script', configMap: { name: configMapName(run) } }],
        },
      },
    },
  };
}

/** A k6-operator TestRun: `parallelism` runners, each running its share of the script's scenario. */
export function buildK6TestRun(run: K6ClusterRun): KubeObject {
  return {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: toDnsLabel(run.name, 63), namespace: run.namespace, labels: labels(run) },
    spec: {
      parallelism: run.parallelism ?? 1,
      arguments: '--out json=/tmp/points.json',
      script: { configMap: { name: configMapName(run), file: SCRIPT_KEY } },
      runner: {
        image: run.image ?? K6_IMAGE,
        metadata: { labels: labels(run), annotations: { 'sidecar.istio.io/inject': 'false' } },
        env: [{ name: K6_ENV.baseUrl, value: run.baseUrl }],
      },
    },
  };
}
