// The parts every Chaos Mesh kind shares (`selector`, `mode`, `value`, `duration`, `containerNames`), read from
// the stored object's unknown JSON into typed values; the webhook has already rejected what cannot be read.

import { isObject } from '../store/json.js';
import type { StoredObject } from '../store/types.js';
import { parseGoDuration } from './go-duration.js';

export const MODES = ['one', 'all', 'fixed', 'fixed-percent', 'random-max-percent'] as const;
export type PodMode = (typeof MODES)[number];

export interface ExpressionRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

export interface SelectorSpec {
  namespaces: string[];
  labelSelectors: Record<string, string>;
  expressionSelectors: ExpressionRequirement[];
  annotationSelectors: Record<string, string>;
  fieldSelectors: Record<string, string>;
  podPhaseSelectors: string[];
  /** namespace → pod names. */
  pods: Record<string, string[]>;
  nodes: string[];
}

export interface PodSelectorSpec {
  selector: SelectorSpec;
  mode: PodMode;
  value: string;
}

export const CHAOS_KINDS = ['PodChaos', 'StressChaos', 'NetworkChaos', 'TimeChaos', 'HTTPChaos'] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function readSelector(value: unknown, defaultNamespace: string): SelectorSpec {
  const s = isObject(value) ? value : {};
  const pods: Record<string, string[]> = {};
  if (isObject(s.pods)) for (const [ns, names] of Object.entries(s.pods)) pods[ns] = strings(names);
  const namespaces = strings(s.namespaces);
  return {
    // Chaos Mesh's mutating webhook: no namespaces means the chaos object's own namespace.
    namespaces: namespaces.length > 0 || Object.keys(pods).length > 0 ? namespaces : [defaultNamespace],
    labelSelectors: stringMap(s.labelSelectors),
    expressionSelectors: (Array.isArray(s.expressionSelectors) ? s.expressionSelectors : [])
      .filter(isObject)
      .map((e) => ({
        key: typeof e.key === 'string' ? e.key : '',
        operator: (['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(e.operator))
          ? e.operator
          : 'In') as ExpressionRequirement['operator'],
        values: strings(e.values),
      })),
    annotationSelectors: stringMap(s.annotationSelectors),
    fieldSelectors: stringMap(s.fieldSelectors),
    podPhaseSelectors: strings(s.podPhaseSelectors),
    pods,
    nodes: strings(s.nodes),
  };
}

export function readPodSelectorSpec(value: unknown, defaultNamespace: string): PodSelectorSpec {
  const s = isObject(value) ? value : {};
  const mode = MODES.includes(s.mode as PodMode) ? (s.mode as PodMode) : 'one';
  return {
    selector: readSelector(s.selector, defaultNamespace),
    mode,
    value: typeof s.value === 'string' ? s.value : s.value === undefined ? '' : String(s.value),
  };
}

export function specOf(chaos: StoredObject): Record<string, unknown> {
  return isObject(chaos.spec) ? chaos.spec : {};
}

/** The spec's duration in ms (undefined: until deleted). */
export function durationMs(chaos: StoredObject): number | undefined {
  const d = specOf(chaos).duration;
  if (typeof d !== 'string' || d === '') return undefined;
  const parsed = parseGoDuration(d);
  return parsed.ok ? parsed.ms : undefined;
}

export function containerNames(chaos: StoredObject): string[] {
  return strings(specOf(chaos).containerNames);
}

export const PAUSE_ANNOTATION = 'experiment.chaos-mesh.org/pause';
export const FINALIZER = 'chaos-mesh/records';

export function isPaused(chaos: StoredObject): boolean {
  return chaos.metadata.annotations?.[PAUSE_ANNOTATION] === 'true';
}
