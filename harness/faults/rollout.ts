// Waiting for Deployments to finish a rollout (restart, scale): every replica updated and ready and no old pod
// left, as `kubectl rollout status` judges it. Bounded by a deadline and an abort signal.

import type { KubeClient, ObjectKey } from '../kube/index.js';

interface DeploymentView {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
  };
}

/** Why a Deployment has not rolled out yet, or undefined when it has (pure). */
export function describeRolloutWait(object: unknown): string | undefined {
  const d = object as DeploymentView;
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0))
    return 'the controller has not seen the change';
  if ((s.updatedReplicas ?? 0) < want) return `${s.updatedReplicas ?? 0} of ${want} replicas updated`;
  if ((s.replicas ?? 0) > want) return `${(s.replicas ?? 0) - want} old replicas pending termination`;
  if ((s.readyReplicas ?? 0) < want) return `${s.readyReplicas ?? 0} of ${want} updated replicas ready`;
  return undefined;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits until every Deployment in `keys` has rolled out; other kinds are skipped. Throws at the deadline. */
export async function waitForRollouts(
  kube: KubeClient,
  keys: readonly ObjectKey[],
  options: { timeoutMs: number; signal?: AbortSignal; pollMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (const key of keys) {
    if (key.kind !== 'Deployment') continue;
    let why: string | undefined = 'not read yet';
    while (why !== undefined) {
      const object = await kube.get(key);
      why = object ? describeRolloutWait(object) : 'not found';
      if (why === undefined) break;
      if (Date.now() >= deadline) {
        throw new Error(
          `Deployment ${key.namespace}/${key.name} did not roll out within ${options.timeoutMs} ms: ${why}; check \`kubectl -n ${key.namespace} get pods\``,
        );
      }
      await pause(options.pollMs ?? 250, options.signal);
    }
  }
}

export { pause };
