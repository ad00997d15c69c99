// The deploy phase: the scenario's namespace (run-labelled, injection on) and workload manifests, then a wait
// until every Deployment is ready and the ingress route answers.

import { request } from 'undici';
import { type KubeClient, describeObject, keyOf, labelForRun } from '../kube/index.js';
import { MeshdrillError } from '../model/index.js';
import { type KubeObject, RUN_ID_LABEL, type ResolvedScenario } from '../model/index.js';
import { sleep } from './phase-runner.js';

export function buildNamespace(scenario: ResolvedScenario, runId: string): KubeObject {
  return labelForRun(
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: scenario.namespace,
        labels: scenario.workload.injection ? { 'istio-injection': 'enabled' } : {},
      },
    },
    runId,
    scenario.name,
  );
}

/**
 * Refuses a scenario namespace that exists without a meshdrill run label: a drill deletes its namespace when it
 * ends, so it never takes over one it did not create (on an existing cluster that would delete someone's
 * workloads). A namespace a meshdrill run made (an earlier variant's, a killed run's) may be taken over.
 */
export async function refuseForeignNamespace(kube: KubeClient, scenario: ResolvedScenario): Promise<void> {
  const name = scenario.namespace;
  const existing = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name });
  if (existing && existing.metadata.labels?.[RUN_ID_LABEL] === undefined) {
    throw new MeshdrillError(
      'environment',
      `${scenario.file}: workload.namespace "${name}" already exists and was not created by meshdrill; a drill deletes its namespace when it ends, so it never uses one it did not create`,
      {
        hint: `choose a namespace that does not exist (workload.namespace), or remove "${name}" yourself if nothing in it is needed`,
      },
    );
  }
}

/** Manifests as they will be applied: namespaced into the scenario namespace when they name none, run-labelled. */
export function buildWorkload(scenario: ResolvedScenario, runId: string): KubeObject[] {
  return scenario.workload.manifests.map((manifest) =>
    labelForRun(
      manifest.metadata.namespace || manifest.kind === 'Namespace'
        ? manifest
        : { ...manifest, metadata: { ...manifest.metadata, namespace: scenario.namespace } },
      runId,
      scenario.name,
    ),
  );
}

export async function waitForDeployments(
  kube: KubeClient,
  namespace: string,
  signal: AbortSignal,
  pollMs = 500,
): Promise<void> {
  for (let attempt = 0; attempt < 100_000; attempt++) {
    const deployments = await kube.list('apps/v1', 'Deployment', { namespace });
    const waiting = deployments.filter((d) => {
      const spec = d.spec as { replicas?: number } | undefined;
      const status = d.status as { readyReplicas?: number; updatedReplicas?: number } | undefined;
      const want = spec?.replicas ?? 1;
      return (status?.readyReplicas ?? 0) < want;
    });
    if (waiting.length === 0) return;
    await sleep(pollMs, signal);
  }
}

/** Waits until the first request of the load mix answers 2xx/3xx through the ingress. */
export async function waitForRoute(
  ingressUrl: string,
  path: string,
  host: string | undefined,
  signal: AbortSignal,
  pollMs = 500,
): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 100_000; attempt++) {
    try {
      const response = await request(`${ingressUrl.replace(/\/$/, '')}${path}`, {
        headers: host ? { host } : {},
        headersTimeout: 3000,
        bodyTimeout: 3000,
        signal,
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 400) return;
      last = `HTTP ${response.statusCode}`;
    } catch (error) {
      if (signal.aborted) throw error;
      last = (error as Error).message;
    }
    await sleep(pollMs, signal).catch((error: unknown) => {
      throw new Error(`the ingress route ${path} never answered 2xx (last: ${last})`, { cause: error });
    });
  }
}

/**
 * An admission webhook the API server cannot reach (istiod still starting after an earlier drill restored it,
 * or restarting on a real cluster) makes every apply fail with this text from the API server. It is the
 * environment catching up, not a fault of the scenario, so the deploy phase waits it out until its deadline.
 */
export function isWebhookUnavailable(error: unknown): boolean {
  return error instanceof Error && /failed calling webhook/.test(error.message);
}

export interface ApplyAllOptions {
  /** The phase's signal: retries of an unreachable webhook stop when it aborts (deadline or interrupt). */
  signal?: AbortSignal;
  retryPollMs?: number;
  /** Told once per object the first time its apply meets an unreachable webhook. */
  onWebhookWait?: (object: string, error: Error) => void;
}

export async function applyAll(
  kube: KubeClient,
  objects: KubeObject[],
  options: ApplyAllOptions = {},
): Promise<string[]> {
  const applied: string[] = [];
  for (const object of objects) {
    const name = describeObject(keyOf(object));
    for (let attempt = 1; ; attempt++) {
      try {
        await kube.apply(object);
        break;
      } catch (error) {
        if (!options.signal || !isWebhookUnavailable(error)) throw error;
        if (attempt === 1) options.onWebhookWait?.(name, error as Error);
        // An aborted wait (the deploy deadline) surfaces the webhook's own error, which says what was missing.
        await sleep(options.retryPollMs ?? 1000, options.signal).catch(() => {
          throw error;
        });
      }
    }
    applied.push(name);
  }
  return applied;
}

/** Deletes the namespace and waits until it is gone (proof, not hope). */
export async function deleteNamespace(kube: KubeClient, name: string, timeoutMs: number): Promise<void> {
  await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name }))) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`namespace ${name} still exists ${timeoutMs} ms after deletion`);
}
