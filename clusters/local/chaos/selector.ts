// Chaos Mesh's pod selection, pure: the selector's filters (all must hold), then the mode picks how many of the
// matching pods are affected (`one`, `all`, `fixed` N, `fixed-percent` P %, `random-max-percent` up to P %).

import type { Pod } from '../controllers/kube-types.js';
import { readFieldPath } from '../store/selectors.js';
import type { PodMode, SelectorSpec } from './spec.js';

function mapMatches(want: Record<string, string>, have: Record<string, string> | undefined): boolean {
  return Object.entries(want).every(([k, v]) => have?.[k] === v);
}

export function matchesSelector(pod: Pod, selector: SelectorSpec): boolean {
  const meta = pod.metadata;
  const ns = meta.namespace ?? 'default';
  const named = Object.keys(selector.pods).length > 0;
  if (named) {
    if (!(selector.pods[ns] ?? []).includes(meta.name)) return false;
  } else if (!selector.namespaces.includes(ns)) return false;
  if (!mapMatches(selector.labelSelectors, meta.labels)) return false;
  if (!mapMatches(selector.annotationSelectors, meta.annotations)) return false;
  for (const e of selector.expressionSelectors) {
    const v = meta.labels?.[e.key];
    if (e.operator === 'In' && (v === undefined || !e.values.includes(v))) return false;
    if (e.operator === 'NotIn' && v !== undefined && e.values.includes(v)) return false;
    if (e.operator === 'Exists' && v === undefined) return false;
    if (e.operator === 'DoesNotExist' && v !== undefined) return false;
  }
  for (const [path, value] of Object.entries(selector.fieldSelectors)) {
    if (readFieldPath(pod, path) !== value) return false;
  }
  if (selector.nodes.length > 0 && !selector.nodes.includes(pod.spec.nodeName ?? '')) return false;
  const phase = pod.status?.phase ?? 'Pending';
  // Without podPhaseSelectors only running pods are candidates; terminating pods never are.
  if (meta.deletionTimestamp) return false;
  if (selector.podPhaseSelectors.length > 0) return selector.podPhaseSelectors.includes(phase);
  return phase === 'Running';
}

export function filterPods(pods: Pod[], selector: SelectorSpec): Pod[] {
  return pods.filter((p) => matchesSelector(p, selector));
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Picks the affected pods; an error message when the mode selects nothing (as the real selector reports). */
export function pickByMode(
  candidates: Pod[],
  mode: PodMode,
  value: string,
  random: () => number = Math.random,
): { ok: true; pods: Pod[] } | { ok: false; message: string } {
  if (candidates.length === 0) return { ok: false, message: 'no pod is selected' };
  const n = Number.parseInt(value, 10);
  let count: number;
  switch (mode) {
    case 'one':
      count = 1;
      break;
    case 'all':
      count = candidates.length;
      break;
    case 'fixed':
      count = Math.min(n, candidates.length);
      break;
    case 'fixed-percent':
      count = Math.floor((candidates.length * n) / 100);
      break;
    case 'random-max-percent':
      count = Math.floor((candidates.length * Math.floor(random() * (n + 1))) / 100);
      break;
  }
  if (count <= 0) {
    return {
      ok: false,
      message: `cannot select any pod as value below or equal 0 (mode ${mode}, value "${value}", ${candidates.length} candidate pods)`,
    };
  }
  return { ok: true, pods: shuffled(candidates, random).slice(0, count) };
}
