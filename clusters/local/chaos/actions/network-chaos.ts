// NetworkChaos: delay (latency, jitter, correlation), loss and partition become rules in the selected pods' files,
// with the target selector's pod IPs as peers (any peer without a target) and the spec's direction. Whatever
// carries the traffic — sidecar, kube-proxy stand-in, the programs' outbound HTTP — applies them; recovery removes them.

import type { NetworkFaultRule } from '../../chaos-hooks.js';
import type { Pod } from '../../controllers/kube-types.js';
import { KEYS } from '../../store/resources.js';
import { isObject } from '../../store/json.js';
import type { StoredObject } from '../../store/types.js';
import { parseGoDuration } from '../go-duration.js';
import { filterPods, pickByMode } from '../selector.js';
import { readPodSelectorSpec, specOf } from '../spec.js';
import { type ActionContext, type ChaosHandler, type ChaosTarget, chaosSource, podId } from './types.js';

const EMULATED = ['delay', 'loss', 'partition'] as const;

function ms(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseGoDuration(String(value));
  return parsed.ok ? parsed.ms : undefined;
}

/** The rule the spec asks for, given the target pods' IPs ('*' when there is no target) (pure). */
export function buildRule(chaos: StoredObject, peers: string[] | '*'): NetworkFaultRule | undefined {
  const spec = specOf(chaos);
  const action = String(spec.action);
  if (!(EMULATED as readonly string[]).includes(action)) return undefined;
  const direction = (spec.direction ?? 'to') as NetworkFaultRule['direction'];
  const base = { source: chaosSource(chaos), action: action as NetworkFaultRule['action'], direction, peers };
  if (action === 'delay') {
    const delay = isObject(spec.delay) ? spec.delay : {};
    const correlation = Number(delay.correlation ?? 0);
    return {
      ...base,
      delayMs: ms(delay.latency) ?? 0,
      jitterMs: ms(delay.jitter) ?? 0,
      ...(correlation > 0 ? { correlation } : {}),
    };
  }
  if (action === 'loss') {
    const loss = isObject(spec.loss) ? spec.loss : {};
    const correlation = Number(loss.correlation ?? 0);
    return { ...base, lossPercent: Number(loss.loss ?? 0), ...(correlation > 0 ? { correlation } : {}) };
  }
  return base;
}

/** Target pods are chosen once, at the first injection (as the selected ones are), and kept per chaos uid. */
const targetPods = new Map<string, Pod[]>();

function chooseTargets(chaos: StoredObject, ctx: ActionContext): Pod[] | undefined {
  const spec = specOf(chaos);
  if (!isObject(spec.target)) return undefined;
  const known = targetPods.get(chaos.metadata.uid);
  if (known) return known;
  const sel = readPodSelectorSpec(spec.target, chaos.metadata.namespace ?? 'default');
  const candidates = filterPods(ctx.store.list(KEYS.pods).items as Pod[], sel.selector);
  const picked = pickByMode(candidates, sel.mode, sel.value, ctx.random);
  const pods = picked.ok ? picked.pods : [];
  targetPods.set(chaos.metadata.uid, pods);
  return pods;
}

export const networkChaosHandler: ChaosHandler = {
  targets(chaos, pods, ctx) {
    const targets: ChaosTarget[] = pods.map((pod) => ({ id: podId(pod), pod, selectorKey: '.' }));
    const peers = chooseTargets(chaos, ctx);
    const problems: string[] = [];
    if (peers !== undefined && peers.length === 0) problems.push('no pod is selected by spec.target');
    for (const pod of peers ?? []) targets.push({ id: podId(pod), pod, selectorKey: '.Target' });
    return { targets, problems };
  },

  async inject(chaos, target, ctx) {
    const action = String(specOf(chaos).action);
    if (!(EMULATED as readonly string[]).includes(action)) {
      return {
        ok: false,
        message: `action "${action}" is not emulated on the local target (delay, loss and partition are)`,
      };
    }
    // The target side's records are bookkeeping: the rule lives in the selected pods' files and names the peers.
    if (target.selectorKey === '.Target') return { ok: true };
    const peers = chooseTargets(chaos, ctx);
    const ips = peers === undefined ? '*' : peers.map((p) => p.status?.podIP ?? '').filter((ip) => ip !== '');
    const rule = buildRule(chaos, ips);
    if (!rule) return { ok: false, message: `action "${action}" has no rule` };
    const pod = ctx.store.get(KEYS.pods, target.pod.metadata.namespace, target.pod.metadata.name) as
      | Pod
      | undefined;
    if (!pod || pod.metadata.uid !== target.pod.metadata.uid)
      return { ok: false, message: `pod ${target.id} is gone` };
    ctx.hooks.setNetworkRules(pod, chaosSource(chaos), [rule]);
    return { ok: true };
  },

  async recover(chaos, target, ctx) {
    if (target.selectorKey === '.') {
      const pod = ctx.store.get(KEYS.pods, target.pod.metadata.namespace, target.pod.metadata.name);
      if (pod && pod.metadata.uid === target.pod.metadata.uid)
        ctx.hooks.clear(target.pod, chaosSource(chaos));
      else ctx.hooks.forget(target.pod.metadata.uid);
    }
  },
};

/** Forgets the target choice of a chaos object that is gone. */
export function forgetNetworkTargets(uid: string): void {
  targetPods.delete(uid);
}
