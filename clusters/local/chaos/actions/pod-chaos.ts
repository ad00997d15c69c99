// PodChaos: pod-kill deletes the pods (their controller recreates them); pod-failure swaps every container's image
// for the pause image until recovery, as Chaos Mesh's podfailure impl does (the kubelet restarts each container
// from it: the app is gone, probes fail, traffic fails); container-kill SIGKILLs containers through the runtime.

import type { Pod } from '../../controllers/kube-types.js';
import { KEYS } from '../../store/resources.js';
import { StoreError, type StoredObject } from '../../store/types.js';
import { containerNames, specOf } from '../spec.js';
import { type ChaosHandler, type ChaosTarget, containerTargets, podId } from './types.js';

export const PAUSE_IMAGE = 'gcr.io/google-containers/pause:latest';

/** Where pod-failure keeps a container's own image while the pause image runs (one key per chaos and container). */
export function originalImageAnnotation(chaos: StoredObject, container: string): string {
  return `chaos-mesh.org/${chaos.metadata.name}-${container}-image`.slice(0, 253);
}

function action(chaos: StoredObject): string {
  return String(specOf(chaos).action ?? 'pod-kill');
}

async function updatePod(
  ctx: Parameters<ChaosHandler['inject']>[2],
  target: ChaosTarget,
  change: (pod: Pod) => boolean,
): Promise<boolean> {
  const meta = target.pod.metadata;
  for (let attempt = 0; attempt < 5; attempt++) {
    const pod = ctx.store.get(KEYS.pods, meta.namespace, meta.name) as Pod | undefined;
    if (!pod || pod.metadata.uid !== meta.uid) return false;
    if (!change(pod)) return true;
    try {
      await ctx.store.update(KEYS.pods, pod);
      return true;
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 409)) throw error;
    }
  }
  return false;
}

export const podChaosHandler: ChaosHandler = {
  targets(chaos, pods) {
    if (action(chaos) === 'container-kill') return containerTargets(pods, containerNames(chaos), 'first');
    return { targets: pods.map((pod) => ({ id: podId(pod), pod, selectorKey: '.' as const })), problems: [] };
  },

  async inject(chaos, target, ctx) {
    const meta = target.pod.metadata;
    switch (action(chaos)) {
      case 'pod-kill': {
        const grace = Number(specOf(chaos).gracePeriod ?? 0);
        try {
          await ctx.store.delete(KEYS.pods, meta.namespace, meta.name, {
            gracePeriodSeconds: grace,
            preconditions: { uid: meta.uid },
          });
        } catch (error) {
          if (error instanceof StoreError && (error.code === 404 || error.code === 409)) {
            return { ok: false, message: `pod ${podId(target.pod)} was already gone` };
          }
          throw error;
        }
        return { ok: true };
      }
      case 'pod-failure': {
        const done = await updatePod(ctx, target, (pod) => {
          const annotations = { ...(pod.metadata.annotations ?? {}) };
          let changed = false;
          for (const c of pod.spec.containers) {
            const key = originalImageAnnotation(chaos, c.name);
            if (annotations[key] !== undefined) continue;
            annotations[key] = c.image;
            c.image = PAUSE_IMAGE;
            changed = true;
          }
          pod.metadata.annotations = annotations;
          return changed;
        });
        return done ? { ok: true } : { ok: false, message: `pod ${podId(target.pod)} is gone` };
      }
      case 'container-kill': {
        const runtime = ctx.runtime();
        const container = target.container ?? '';
        if (!runtime) return { ok: false, message: 'the node runtime is not running' };
        if (!runtime.signal(meta.namespace ?? 'default', meta.name, container, 'SIGKILL')) {
          return {
            ok: false,
            message: `container "${container}" of pod ${podId(target.pod)} is not running`,
          };
        }
        return { ok: true };
      }
      default:
        return { ok: false, message: `unknown action ${action(chaos)}` };
    }
  },

  async recover(chaos, target, ctx) {
    if (action(chaos) !== 'pod-failure') return;
    await updatePod(ctx, target, (pod) => {
      const annotations = { ...(pod.metadata.annotations ?? {}) };
      let changed = false;
      for (const c of pod.spec.containers) {
        const key = originalImageAnnotation(chaos, c.name);
        const original = annotations[key];
        if (original === undefined) continue;
        c.image = original;
        delete annotations[key];
        changed = true;
      }
      pod.metadata.annotations = annotations;
      return changed;
    });
  },
};
