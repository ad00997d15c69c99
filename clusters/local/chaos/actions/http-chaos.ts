// HTTPChaos: accepted and recorded, never effective here. On real clusters its tproxy cannot sit in front of an
// Istio sidecar (ISTIO-FACTS.md "Chaos Mesh": use a VirtualService fault); the local target emulates no tproxy at
// all, so pods without a sidecar are recorded NotInjected too, each with the reason.

import { hasIstioSidecar } from '../hook-files.js';
import { type ChaosHandler, podId } from './types.js';

export const httpChaosHandler: ChaosHandler = {
  targets(_chaos, pods) {
    return { targets: pods.map((pod) => ({ id: podId(pod), pod, selectorKey: '.' as const })), problems: [] };
  },

  async inject(_chaos, target) {
    if (hasIstioSidecar(target.pod)) {
      return {
        ok: false,
        message: `HTTPChaos has no effect on pod ${target.id}: it has an Istio sidecar, which takes the traffic before Chaos Mesh's tproxy; use a VirtualService fault (abort/delay) instead`,
      };
    }
    return {
      ok: false,
      message: `HTTPChaos is not emulated on the local target (no tproxy): pod ${target.id} is unaffected; use a VirtualService fault in a meshed namespace`,
    };
  },

  async recover() {},
};
