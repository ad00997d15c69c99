// TimeChaos: the selected pods' clock offset file gets the spec's `timeOffset` (Go duration, may be negative);
// the sidecar's certificate checks read it (clusters/local/chaos-hooks.ts). Recovery removes it.

import type { Pod } from '../../controllers/kube-types.js';
import { KEYS } from '../../store/resources.js';
import { parseGoDuration } from '../go-duration.js';
import { containerNames, specOf } from '../spec.js';
import { type ChaosHandler, chaosSource, containerTargets } from './types.js';

export const timeChaosHandler: ChaosHandler = {
  targets(chaos, pods) {
    return containerTargets(pods, containerNames(chaos), 'all');
  },

  async inject(chaos, target, ctx) {
    const parsed = parseGoDuration(String(specOf(chaos).timeOffset ?? ''));
    if (!parsed.ok) return { ok: false, message: parsed.error };
    const pod = ctx.store.get(KEYS.pods, target.pod.metadata.namespace, target.pod.metadata.name) as
      | Pod
      | undefined;
    if (!pod || pod.metadata.uid !== target.pod.metadata.uid)
      return { ok: false, message: `pod ${target.id} is gone` };
    // The clock is per pod here (one file): every selected container of the pod shares it.
    ctx.hooks.setTimeOffset(pod, chaosSource(chaos), parsed.ms);
    return { ok: true };
  },

  async recover(chaos, target, ctx) {
    const pod = ctx.store.get(KEYS.pods, target.pod.metadata.namespace, target.pod.metadata.name);
    if (pod && pod.metadata.uid === target.pod.metadata.uid) ctx.hooks.clear(target.pod, chaosSource(chaos));
    else ctx.hooks.forget(target.pod.metadata.uid);
  },
};
