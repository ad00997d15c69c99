// Removing a Chaos Mesh object heals its targets (pod-failure puts the real image back and the container
// restarts), but not at once. When the fault hit pods outside the drill's namespace — a shared component such as
// istiod — the undo waits until those pods are Ready again, so the next drill does not start on a control plane
// still coming back (its deploy would meet a webhook with no endpoints). Pods in the drill's own namespace are not
// waited for: the namespace is deleted next.

import type { KubeClient } from '../kube/index.js';
import type { KubeObject } from '../model/index.js';
import { pause } from './rollout.js';

export interface PodSelection {
  namespaces: string[];
  /** `k=v,k2=v2`, from the chaos object's `selector.labelSelectors`. */
  labelSelector: string;
}

/**
 * The pods a Chaos Mesh object selects outside `drillNamespace`, when its selector can be read as namespaces +
 * labels (Chaos Mesh's default namespace is the chaos object's own). Undefined when there are none to wait for.
 */
export function sharedPodSelection(chaos: KubeObject, drillNamespace: string): PodSelection | undefined {
  const selector = (chaos.spec as { selector?: Record<string, unknown> } | undefined)?.selector;
  const labels = selector?.labelSelectors;
  if (!labels || typeof labels !== 'object' || Object.keys(labels).length === 0) return undefined;
  const listed = Array.isArray(selector.namespaces) ? selector.namespaces.map(String) : [];
  const namespaces = (listed.length > 0 ? listed : [chaos.metadata.namespace ?? drillNamespace]).filter(
    (n) => n !== drillNamespace,
  );
  if (namespaces.length === 0) return undefined;
  const labelSelector = Object.entries(labels as Record<string, unknown>)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
  return { namespaces, labelSelector };
}

/** Why a pod is not Ready yet, or undefined when it is (condition Ready=True, not terminating). */
function notReady(pod: KubeObject): string | undefined {
  if (pod.metadata.deletionTimestamp) return 'terminating';
  const status = pod.status as
    | { phase?: string; conditions?: { type: string; status: string }[] }
    | undefined;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' ? undefined : `${status?.phase ?? 'no phase'}, not Ready`;
}

/** Waits until at least one pod is selected in each namespace and every one is Ready; throws at the deadline. */
export async function waitForPodsReady(
  kube: KubeClient,
  selection: PodSelection,
  options: { timeoutMs: number; pollMs?: number; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (const namespace of selection.namespaces) {
    for (;;) {
      const pods = (
        await kube.list('v1', 'Pod', { namespace, labelSelector: selection.labelSelector })
      ).filter((p) => !p.metadata.deletionTimestamp);
      const waiting = pods.flatMap((p) => {
        const why = notReady(p);
        return why ? [`${p.metadata.name}: ${why}`] : [];
      });
      if (pods.length > 0 && waiting.length === 0) break;
      if (Date.now() >= deadline) {
        const state = pods.length === 0 ? 'no pod selected' : waiting.join('; ');
        throw new Error(
          `pods ${selection.labelSelector} in ${namespace} were not Ready ${options.timeoutMs} ms after the chaos object was removed (${state}); the fault's effect may outlast it — check \`kubectl -n ${namespace} get pods -l ${selection.labelSelector}\``,
        );
      }
      await pause(options.pollMs ?? 500, options.signal);
    }
  }
}
