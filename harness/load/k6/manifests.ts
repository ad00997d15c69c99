// Pure builders for running k6 in-cluster on kind: the script in a ConfigMap, and either a plain Job running the
// grafana/k6 image or a k6-operator TestRun (k6.io/v1alpha1) for distributed load. Every object carries the
// run-id label so cleanup finds it after a crash; names are DNS-safe and deterministic; keys in stable order.

import { type KubeObject, RUN_ID_LABEL, SCENARIO_LABEL } from '../../model/index.js';
import { K6_ENV } from './script.js';

export const K6_IMAGE = 'grafana/k6:0.54.0';
const SCRIPT_KEY = 'script.js';
/** The load stands for users outside the mesh: no pod of it gets an Istio sidecar. */
const NO_SIDECAR = { 'sidecar.istio.io/inject': 'false' };

/**
 * k6's NDJSON points to the container's stdout, where the pod log (kubectl logs) carries them. The path form on
 * purpose: k6 writes a file output straight through, one write per 200 ms batch of whole lines, whereas `json=-`
 * goes through a 4 KiB buffer that can split a line around anything else written to stdout.
 */
export const K6_POINTS_TO_STDOUT: readonly string[] = ['--out', 'json=/dev/stdout'];

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
          annotations: NO_SIDECAR,
        },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'k6',
              image: run.image ?? K6_IMAGE,
              args: ['run', '--quiet', ...K6_POINTS_TO_STDOUT, `/scripts/${SCRIPT_KEY}`],
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

/**
 * A k6-operator TestRun: `parallelism` runners, each running its share of the script's scenario. The operator
 * labels runner pods `app=k6,k6_cr=<name>,runner=true` and names their container `k6`; each runner's points go
 * to its stdout like the Job's. Scuttle (the operator's wrapper that waits for an Istio sidecar) is off: the
 * runners get no sidecar, so it would only wait out its timeout.
 */
export function buildK6TestRun(run: K6ClusterRun): KubeObject {
  return {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: toDnsLabel(run.name, 63), namespace: run.namespace, labels: labels(run) },
    spec: {
      parallelism: run.parallelism ?? 1,
      arguments: K6_POINTS_TO_STDOUT.join(' '),
      script: { configMap: { name: configMapName(run), file: SCRIPT_KEY } },
      scuttle: { enabled: 'false' },
      // The operator's own pods (the initializer runs `k6 inspect`, the starter un-pauses the runners) must not
      // get a sidecar either: in an injected namespace a Job whose pod has a sidecar never completes.
      initializer: { metadata: { labels: labels(run), annotations: NO_SIDECAR } },
      starter: { metadata: { labels: labels(run), annotations: NO_SIDECAR } },
      runner: {
        image: run.image ?? K6_IMAGE,
        metadata: { labels: labels(run), annotations: NO_SIDECAR },
        env: [
          { name: K6_ENV.baseUrl, value: run.baseUrl },
          { name: K6_ENV.summaryPath, value: '/tmp/summary.json' },
        ],
      },
    },
  };
}
