// Installs meshdrill's Prometheus through the Kubernetes API (server-side apply), waits for it, and reaches it
// through a port-forward whose URL becomes TargetEnvironment.prometheusUrl.

import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { KubeClient } from '../../../harness/kube/index.js';
import { MeshdrillError } from '../../../harness/model/index.js';
import type { Host } from '../host.js';
import { type PortForward, startPortForward } from '../port-forward.js';
import { type WaitOptions, pollUntilReady, waitForDeploymentsAvailable } from '../readiness.js';
import {
  PROMETHEUS_NAME,
  PROMETHEUS_NAMESPACE,
  PROMETHEUS_PORT,
  buildPrometheusConfig,
  buildPrometheusManifests,
} from './manifests.js';

export interface PrometheusInstallOptions {
  scrapeIntervalMs: number;
  evaluationIntervalMs: number;
  ruleFiles: string[];
  localPort?: number;
  /** host:port of the Alertmanagers Prometheus sends alerts to. */
  alertmanagers?: string[];
}

export async function readRuleFiles(paths: readonly string[]): Promise<{ name: string; content: string }[]> {
  const files: { name: string; content: string }[] = [];
  for (const path of paths) {
    try {
      files.push({ name: path, content: await readFile(path, 'utf8') });
    } catch (error) {
      throw new MeshdrillError('invalid-input', `cannot read the Prometheus rule file ${path}`, {
        hint: 'check the path of the rule files passed to the run',
        cause: error,
      });
    }
  }
  return files;
}

export async function installPrometheus(
  kube: KubeClient,
  options: PrometheusInstallOptions,
  wait: WaitOptions,
): Promise<void> {
  const manifestOptions = {
    scrapeIntervalMs: options.scrapeIntervalMs,
    evaluationIntervalMs: options.evaluationIntervalMs,
    ruleFiles: await readRuleFiles(options.ruleFiles),
    ...(options.alertmanagers ? { alertmanagers: options.alertmanagers } : {}),
  };
  const configYaml = stringify(buildPrometheusConfig(manifestOptions));
  for (const object of buildPrometheusManifests(manifestOptions, configYaml)) await kube.apply(object);
  await waitForDeploymentsAvailable(kube, PROMETHEUS_NAMESPACE, [PROMETHEUS_NAME], wait);
}

/** Polls `/-/ready` through the forward, so the URL handed to the engine answers. */
export async function waitForPrometheusReady(url: string, wait: WaitOptions): Promise<void> {
  await pollUntilReady(
    `Prometheus at ${url}`,
    async () => {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(5000) });
      return response.ok ? undefined : `/-/ready answered ${response.status}`;
    },
    { ...wait, hint: 'check the Prometheus pod and the port-forward (`kubectl port-forward` output)' },
  );
}

/** Checks that a Prometheus-compatible API answers a PromQL query (works for Thanos and Mimir fronts too). */
export async function waitForPromqlApi(url: string, wait: WaitOptions): Promise<void> {
  await pollUntilReady(
    `the Prometheus API at ${url}`,
    async () => {
      const response = await fetch(`${url}/api/v1/query?query=vector(1)`, {
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) return `GET /api/v1/query answered ${response.status}`;
      const body = (await response.json()) as { status?: unknown };
      return body.status === 'success'
        ? undefined
        : `GET /api/v1/query answered status ${String(body.status)}`;
    },
    {
      ...wait,
      hint: 'check --target-opt prometheus-url: it must be the base URL of a Prometheus HTTP API reachable from here',
    },
  );
}

export async function forwardPrometheus(
  host: Host,
  kubeconfigPath: string,
  service: { namespace: string; name: string; port: number },
  wait: WaitOptions,
  options: { localPort?: number; commands?: string[] } = {},
): Promise<PortForward> {
  const forward = await startPortForward(
    host,
    {
      kubeconfigPath,
      namespace: service.namespace,
      resource: `svc/${service.name}`,
      remotePort: service.port,
      ...(options.localPort ? { localPort: options.localPort } : {}),
    },
    options.commands ? { commands: options.commands } : {},
  );
  try {
    await waitForPrometheusReady(forward.url, wait);
  } catch (error) {
    await forward.stop();
    throw error;
  }
  return forward;
}

export const MESHDRILL_PROMETHEUS_SERVICE = {
  namespace: PROMETHEUS_NAMESPACE,
  name: PROMETHEUS_NAME,
  port: PROMETHEUS_PORT,
} as const;
