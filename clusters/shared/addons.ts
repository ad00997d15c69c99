// Add-ons installed by Helm: Chaos Mesh (with the container runtime's socket, one controller replica) and,
// optionally, k6-operator for distributed load. Command lines are pure builders; installs wait for readiness.

import type { KubeClient } from '../../harness/kube/index.js';
import { helmEnv } from './istio/install.js';
import { type WaitOptions, pollUntilReady, waitForDeploymentsAvailable } from './readiness.js';
import type { ToolRunner } from './tool-runner.js';

export const CHAOS_MESH_NAMESPACE = 'chaos-mesh';
export const CHAOS_MESH_REPO = 'https://charts.chaos-mesh.org';
export const DEFAULT_CHAOS_MESH_VERSION = '2.8.3';
export const K6_OPERATOR_NAMESPACE = 'k6-operator-system';
/** The grafana/k6-operator chart of k6-operator 1.6.0 (the chart's appVersion), whose CRDs ../shared/crds holds. */
export const K6_OPERATOR_CHART_VERSION = '4.6.0';
export const GRAFANA_REPO = 'https://grafana.github.io/helm-charts';

export interface ChaosMeshConfig {
  version: string;
  runtime: string;
  socketPath: string;
}

export interface K6OperatorConfig {
  version?: string;
}

/** helm invocations for Chaos Mesh (pure). */
export function buildChaosMeshCommands(config: ChaosMeshConfig, kubeconfigPath: string): string[][] {
  return [
    ['repo', 'add', 'chaos-mesh', CHAOS_MESH_REPO, '--force-update'],
    [
      'upgrade',
      '--install',
      'chaos-mesh',
      'chaos-mesh/chaos-mesh',
      '-n',
      CHAOS_MESH_NAMESPACE,
      '--create-namespace',
      '--set',
      `chaosDaemon.runtime=${config.runtime}`,
      '--set',
      `chaosDaemon.socketPath=${config.socketPath}`,
      '--set',
      'controllerManager.replicaCount=1',
      '--version',
      config.version,
      '--kubeconfig',
      kubeconfigPath,
      '--wait',
      '--timeout',
      '10m',
    ],
  ];
}

/** helm invocations for k6-operator (pure). */
export function buildK6OperatorCommands(config: K6OperatorConfig, kubeconfigPath: string): string[][] {
  return [
    ['repo', 'add', 'grafana', GRAFANA_REPO, '--force-update'],
    [
      'upgrade',
      '--install',
      'k6-operator',
      'grafana/k6-operator',
      '-n',
      K6_OPERATOR_NAMESPACE,
      '--create-namespace',
      // The chart renders its own Namespace unless told not to, and Helm then refuses the one --create-namespace
      // made ("exists and cannot be imported into the current release": k6-operator issues #322, #514).
      '--set',
      'namespace.create=false',
      ...(config.version ? ['--version', config.version] : []),
      '--kubeconfig',
      kubeconfigPath,
      '--wait',
      '--timeout',
      '10m',
    ],
  ];
}

/** Waits until every named CRD is Established (the API serves it). */
export async function waitForCrds(
  kube: KubeClient,
  names: readonly string[],
  wait: WaitOptions,
): Promise<void> {
  await pollUntilReady(
    `CustomResourceDefinitions ${names.join(', ')}`,
    async () => {
      const missing: string[] = [];
      for (const name of names) {
        const crd = await kube.get({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          name,
        });
        const conditions = (crd?.status as { conditions?: { type?: string; status?: string }[] } | undefined)
          ?.conditions;
        if (!conditions?.some((c) => c.type === 'Established' && c.status === 'True')) missing.push(name);
      }
      return missing.length > 0 ? `not established: ${missing.join(', ')}` : undefined;
    },
    wait,
  );
}

export const CHAOS_MESH_CRDS = [
  'podchaos.chaos-mesh.org',
  'networkchaos.chaos-mesh.org',
  'stresschaos.chaos-mesh.org',
];

export async function installChaosMesh(
  runner: ToolRunner,
  kube: KubeClient,
  context: { kubeconfigPath: string; cacheDir: string; wait: WaitOptions },
  config: ChaosMeshConfig,
): Promise<void> {
  runner.progress(`installing Chaos Mesh ${config.version} with Helm`);
  for (const args of buildChaosMeshCommands(config, context.kubeconfigPath)) {
    await runner.runChecked('helm', args, {
      timeoutMs: 15 * 60_000,
      env: helmEnv(context.cacheDir),
      hint: `check that Chaos Mesh chart ${config.version} exists (\`helm search repo chaos-mesh --versions\`) and look at \`kubectl -n chaos-mesh get pods\``,
    });
  }
  await waitForDeploymentsAvailable(kube, CHAOS_MESH_NAMESPACE, ['chaos-controller-manager'], context.wait);
  await waitForCrds(kube, CHAOS_MESH_CRDS, context.wait);
}

export async function installK6Operator(
  runner: ToolRunner,
  kube: KubeClient,
  context: { kubeconfigPath: string; cacheDir: string; wait: WaitOptions },
  config: K6OperatorConfig,
): Promise<void> {
  runner.progress('installing k6-operator with Helm');
  for (const args of buildK6OperatorCommands(config, context.kubeconfigPath)) {
    await runner.runChecked('helm', args, { timeoutMs: 15 * 60_000, env: helmEnv(context.cacheDir) });
  }
  await waitForDeploymentsAvailable(
    kube,
    K6_OPERATOR_NAMESPACE,
    ['k6-operator-controller-manager'],
    context.wait,
  );
  await waitForCrds(kube, ['testruns.k6.io'], context.wait);
}
