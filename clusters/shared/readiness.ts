// Bounded waits for cluster state through the Kubernetes API: nodes Ready, Deployments Available, CRDs served.
// Each wait polls with a deadline and, on timeout, says what it last saw.

import { MeshdrillError } from '../../harness/model/index.js';
import type { KubeClient } from '../../harness/kube/index.js';
import type { KubeObject } from '../../harness/model/index.js';
import { formatDuration } from '../../harness/util/duration.js';

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  signal?: AbortSignal;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Polls `check` until it returns undefined (ready) or the deadline passes; `check` returns what is still
 * missing, which becomes the timeout message.
 */
export async function pollUntilReady(
  what: string,
  check: () => Promise<string | undefined>,
  options: WaitOptions & { hint?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'not checked yet';
  for (;;) {
    if (options.signal?.aborted) {
      throw new MeshdrillError('interrupted', `interrupted while waiting for ${what}`);
    }
    try {
      const pending = await check();
      if (pending === undefined) return;
      last = pending;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(options.pollMs, Math.max(0, deadline - Date.now())), options.signal);
  }
  throw new MeshdrillError(
    'environment',
    `${what} not ready after ${formatDuration(options.timeoutMs)}: ${last}`,
    options.hint === undefined ? {} : { hint: options.hint },
  );
}

function conditionsOf(
  object: KubeObject,
): { type?: string; status?: string; reason?: string; message?: string }[] {
  const status = object.status as { conditions?: unknown } | undefined;
  return Array.isArray(status?.conditions) ? (status.conditions as { type?: string; status?: string }[]) : [];
}

/** What keeps a node from Ready (pure); undefined when it is Ready. */
export function nodeNotReadyReason(node: KubeObject): string | undefined {
  const ready = conditionsOf(node).find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return undefined;
  return `node ${node.metadata.name} is not Ready${ready?.message ? ` (${ready.message})` : ''}`;
}

/** What keeps a Deployment from Available (pure); undefined when it is Available. */
export function deploymentNotAvailableReason(deployment: KubeObject): string | undefined {
  const available = conditionsOf(deployment).find((c) => c.type === 'Available');
  if (available?.status === 'True') return undefined;
  const status = deployment.status as { readyReplicas?: number; replicas?: number } | undefined;
  const name = `${deployment.metadata.namespace}/${deployment.metadata.name}`;
  return `Deployment ${name} is not Available (${status?.readyReplicas ?? 0}/${status?.replicas ?? '?'} ready${available?.message ? `: ${available.message}` : ''})`;
}

export async function waitForNodesReady(
  kube: KubeClient,
  expectedNodes: number,
  options: WaitOptions,
): Promise<KubeObject[]> {
  let nodes: KubeObject[] = [];
  await pollUntilReady(
    'cluster nodes',
    async () => {
      nodes = await kube.list('v1', 'Node');
      if (nodes.length < expectedNodes) return `${nodes.length} of ${expectedNodes} nodes registered`;
      const reasons = nodes.map(nodeNotReadyReason).filter((r): r is string => r !== undefined);
      return reasons.length > 0 ? reasons.join('; ') : undefined;
    },
    {
      ...options,
      hint: 'look at `kubectl get nodes -o wide` and the node container logs (`kind export logs`)',
    },
  );
  return nodes;
}

export async function waitForDeploymentsAvailable(
  kube: KubeClient,
  namespace: string,
  names: readonly string[],
  options: WaitOptions,
): Promise<void> {
  await pollUntilReady(
    `Deployment${names.length === 1 ? '' : 's'} ${names.map((n) => `${namespace}/${n}`).join(', ')}`,
    async () => {
      const reasons: string[] = [];
      for (const name of names) {
        const deployment = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name });
        const reason = deployment
          ? deploymentNotAvailableReason(deployment)
          : `Deployment ${namespace}/${name} does not exist`;
        if (reason) reasons.push(reason);
      }
      return reasons.length > 0 ? reasons.join('; ') : undefined;
    },
    {
      ...options,
      hint: `look at \`kubectl -n ${namespace} get pods\` and \`kubectl -n ${namespace} describe pods\``,
    },
  );
}
