// The contract between the chaos controller and each kind's implementation (Chaos Mesh's chaosimpl): which
// records an experiment has, and how one record is injected and recovered.

import type { EventRecorder } from '../../controllers/events.js';
import type { Pod } from '../../controllers/kube-types.js';
import type { ContainerRuntimeSocket } from '../../kubelet/chaos-hooks.js';
import type { ObjectStore, StoredObject } from '../../store/types.js';
import type { HookFiles } from '../hook-files.js';

export interface ChaosTarget {
  /** Record id as Chaos Mesh writes it: `ns/pod` or `ns/pod/container`. */
  id: string;
  pod: Pod;
  container?: string;
  /** `.` for the selector, `.Target` for NetworkChaos's target selector. */
  selectorKey: '.' | '.Target';
}

export interface ActionContext {
  store: ObjectStore;
  workDir: string;
  hooks: HookFiles;
  events: EventRecorder;
  /** The node runtime, once the kubelet runs. */
  runtime(): ContainerRuntimeSocket | undefined;
  /** The stressor program's bundle entry (polinux/stress's program). */
  stressEntry: string;
  random: () => number;
}

export type InjectResult = { ok: true; message?: string } | { ok: false; message: string };

export interface ChaosHandler {
  /** Turns the selected pods into records; `problems` name what could not be selected (no such container…). */
  targets(
    chaos: StoredObject,
    pods: Pod[],
    ctx: ActionContext,
  ): { targets: ChaosTarget[]; problems: string[] };
  inject(chaos: StoredObject, target: ChaosTarget, ctx: ActionContext): Promise<InjectResult>;
  recover(chaos: StoredObject, target: ChaosTarget, ctx: ActionContext): Promise<void>;
}

export function podId(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}

export function chaosSource(chaos: StoredObject): string {
  return `${chaos.kind}/${chaos.metadata.namespace ?? 'default'}/${chaos.metadata.name}`;
}

/**
 * Container targets as Chaos Mesh's container selector makes them: `containerNames` against the pod's
 * *containers* only — a native sidecar (an init container with restartPolicy Always) is never matched, as on a
 * real cluster (ISTIO-FACTS.md "Sidecar memory and OOM"). Without names, `all` decides: every container or the first.
 */
export function containerTargets(
  pods: Pod[],
  names: string[],
  whenEmpty: 'first' | 'all',
): { targets: ChaosTarget[]; problems: string[] } {
  const targets: ChaosTarget[] = [];
  const problems: string[] = [];
  for (const pod of pods) {
    const containers = pod.spec.containers.map((c) => c.name);
    const wanted = names.length > 0 ? names : whenEmpty === 'first' ? containers.slice(0, 1) : containers;
    for (const name of wanted) {
      if (containers.includes(name)) {
        targets.push({ id: `${podId(pod)}/${name}`, pod, container: name, selectorKey: '.' });
        continue;
      }
      const init = pod.spec.initContainers?.find((c) => c.name === name);
      problems.push(
        init?.restartPolicy === 'Always'
          ? `container "${name}" of pod ${podId(pod)} is a native sidecar (an init container with restartPolicy Always); containerNames only match spec.containers, so it is not selected (annotate the pod sidecar.istio.io/nativeSidecar: "false" to target the proxy)`
          : `container "${name}" not found in pod ${podId(pod)} (containers: ${containers.join(', ')})`,
      );
    }
  }
  return { targets, problems };
}
