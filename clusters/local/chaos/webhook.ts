// Chaos Mesh's admission webhooks, as store admission hooks: the CRD schema's enums (422 Invalid, as the API
// server words them), then the validating webhook's semantic checks (403, `admission webhook "v<kind>.kb.io"
// denied the request: …`), then the mutating webhook's defaults (selector namespace, direction).

import { isObject } from '../store/json.js';
import { type ObjectStore, StoreError, type StoredObject } from '../store/types.js';
import { KEYS } from '../store/resources.js';
import { parseGoDuration } from './go-duration.js';
import { type ChaosKind, MODES, specOf } from './spec.js';

interface FieldError {
  field: string;
  message: string;
}

const ACTIONS: Partial<Record<ChaosKind, readonly string[]>> = {
  PodChaos: ['pod-kill', 'pod-failure', 'container-kill'],
  NetworkChaos: ['netem', 'delay', 'loss', 'duplicate', 'corrupt', 'partition', 'bandwidth'],
};

const quote = (v: unknown): string => JSON.stringify(v);

/** CRD schema checks: enums and required fields, worded as the API server's structural validation. */
export function schemaErrors(kind: ChaosKind, spec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const actions = ACTIONS[kind];
  if (actions) {
    if (spec.action === undefined) errors.push({ field: 'spec.action', message: 'Required value' });
    else if (!actions.includes(String(spec.action))) {
      errors.push({
        field: 'spec.action',
        message: `Unsupported value: ${quote(spec.action)}: supported values: ${actions.map(quote).join(', ')}`,
      });
    }
  }
  if (kind !== 'HTTPChaos' || spec.mode !== undefined) {
    if (spec.mode === undefined) errors.push({ field: 'spec.mode', message: 'Required value' });
    else if (!MODES.includes(spec.mode as (typeof MODES)[number])) {
      errors.push({
        field: 'spec.mode',
        message: `Unsupported value: ${quote(spec.mode)}: supported values: ${MODES.map(quote).join(', ')}`,
      });
    }
  }
  if (
    kind === 'NetworkChaos' &&
    spec.direction !== undefined &&
    !['to', 'from', 'both'].includes(String(spec.direction))
  ) {
    errors.push({
      field: 'spec.direction',
      message: `Unsupported value: ${quote(spec.direction)}: supported values: "to", "from", "both"`,
    });
  }
  if (kind === 'TimeChaos' && typeof spec.timeOffset !== 'string') {
    errors.push({ field: 'spec.timeOffset', message: 'Required value' });
  }
  return errors;
}

function checkMode(spec: Record<string, unknown>, path: string, errors: FieldError[]): void {
  const mode = spec.mode;
  const value = spec.value === undefined ? '' : String(spec.value);
  if (mode === 'fixed') {
    const n = Number(value);
    if (value === '' || !Number.isInteger(n)) {
      errors.push({
        field: `${path}value`,
        message: `Invalid value: ${quote(value)}: parse value field error:strconv.Atoi: parsing ${quote(value)}: invalid syntax`,
      });
    } else if (n <= 0) {
      errors.push({
        field: `${path}value`,
        message: `Invalid value: ${quote(value)}: value must be greater than 0 with mode:fixed`,
      });
    }
  }
  if (mode === 'fixed-percent' || mode === 'random-max-percent') {
    const n = Number(value);
    if (value === '' || !Number.isInteger(n)) {
      errors.push({
        field: `${path}value`,
        message: `Invalid value: ${quote(value)}: parse value field error:strconv.Atoi: parsing ${quote(value)}: invalid syntax`,
      });
    } else if (n <= 0 || n > 100) {
      errors.push({
        field: `${path}value`,
        message: `Invalid value: ${quote(value)}: value of ${n} is invalid, Must be (0,100] with mode:${mode}`,
      });
    }
  }
}

function checkDuration(
  spec: Record<string, unknown>,
  field: string,
  errors: FieldError[],
  required: boolean,
): void {
  const d = spec.duration;
  if (d === undefined || d === null || d === '') {
    if (required) errors.push({ field, message: 'Required value: duration is required' });
    return;
  }
  const parsed = parseGoDuration(String(d));
  if (!parsed.ok)
    errors.push({ field, message: `Invalid value: ${quote(d)}: parse duration field error:${parsed.error}` });
  else if (parsed.ms <= 0)
    errors.push({ field, message: `Invalid value: ${quote(d)}: duration must be positive` });
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib|k|m|g|%)?$/i;

/** Parses a memory stressor `size` ("256MB", "1GiB", "50%" of the node's memory) to bytes. */
export function parseStressSize(text: string, totalBytes: number): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  if (unit === '%') return Math.floor((totalBytes * n) / 100);
  const pow =
    { b: 0, k: 1, kb: 1, kib: 1, m: 2, mb: 2, mib: 2, g: 3, gb: 3, gib: 3, tb: 4, tib: 4 }[unit] ?? 0;
  // docker/go-units RAMInBytes, which Chaos Mesh's memory stressor uses: MB means MiB.
  return Math.floor(n * 1024 ** pow);
}

/** One semantic rule of the validating webhook: it appends what it finds wrong with the spec. */
type SpecCheck = (spec: Record<string, unknown>, errors: FieldError[]) => void;

const checkSelectorMode: SpecCheck = (spec, errors) => checkMode(spec, 'spec.', errors);

const checkOptionalDuration: SpecCheck = (spec, errors) =>
  checkDuration(spec, 'spec.duration', errors, false);

const checkContainerKillNames: SpecCheck = (spec, errors) => {
  const names = spec.containerNames;
  if (spec.action === 'container-kill' && (!Array.isArray(names) || names.length === 0)) {
    errors.push({
      field: 'spec.containerNames',
      message: `Invalid value: []string(nil): the name of container should not be empty on container-kill action`,
    });
  }
};

// ISTIO-FACTS.md "Chaos Mesh": pod-failure needs a duration (the pause image must be swapped back).
const checkPodChaosDuration: SpecCheck = (spec, errors) =>
  checkDuration(spec, 'spec.duration', errors, spec.action === 'pod-failure');

const checkGracePeriod: SpecCheck = (spec, errors) => {
  if (
    spec.gracePeriod !== undefined &&
    !(Number.isInteger(spec.gracePeriod) && Number(spec.gracePeriod) >= 0)
  ) {
    errors.push({
      field: 'spec.gracePeriod',
      message: `Invalid value: ${quote(spec.gracePeriod)}: gracePeriod must be a non-negative integer`,
    });
  }
};

function stressorsOf(spec: Record<string, unknown>) {
  const stressors = isObject(spec.stressors) ? spec.stressors : undefined;
  return {
    memory: stressors && isObject(stressors.memory) ? stressors.memory : undefined,
    cpu: stressors && isObject(stressors.cpu) ? stressors.cpu : undefined,
  };
}

const checkStressors: SpecCheck = (spec, errors) => {
  const { memory, cpu } = stressorsOf(spec);
  if (!memory && !cpu && typeof spec.stressngStressors !== 'string') {
    errors.push({ field: 'spec.stressors', message: 'Invalid value: "null": missing stressors' });
  }
  for (const [name, s] of [
    ['memory', memory],
    ['cpu', cpu],
  ] as const) {
    if (!s) continue;
    const workers = s.workers;
    if (workers === undefined || !Number.isInteger(workers) || Number(workers) <= 0) {
      errors.push({
        field: `spec.stressors.${name}.workers`,
        message: `Invalid value: ${quote(workers ?? 0)}: workers should always be positive`,
      });
    }
  }
};

const checkMemorySize: SpecCheck = (spec, errors) => {
  const { memory } = stressorsOf(spec);
  if (memory && typeof memory.size === 'string' && parseStressSize(memory.size, 1) === undefined) {
    errors.push({
      field: 'spec.stressors.memory.size',
      message: `Invalid value: ${quote(memory.size)}: incorrect bytes format`,
    });
  }
};

const checkDirectionTargets: SpecCheck = (spec, errors) => {
  const target = isObject(spec.target) ? spec.target : undefined;
  const externals = Array.isArray(spec.externalTargets) ? spec.externalTargets : [];
  const direction = spec.direction ?? 'to';
  if (direction !== 'to' && !target && externals.length === 0) {
    errors.push({
      field: 'spec.direction',
      message: `Invalid value: ${quote(direction)}: from and both direction cannot be used when targets and external targets are both empty`,
    });
  }
};

const checkTargetMode: SpecCheck = (spec, errors) => {
  if (isObject(spec.target)) checkMode(spec.target, 'spec.target.', errors);
};

const checkDelay: SpecCheck = (spec, errors) => {
  const delay = isObject(spec.delay) ? spec.delay : undefined;
  if (spec.action !== 'delay' && !delay) return;
  for (const key of ['latency', 'jitter'] as const) {
    const v = delay?.[key];
    if (key === 'latency' && v === undefined && spec.action === 'delay') {
      errors.push({
        field: 'spec.delay.latency',
        message: 'Required value: latency is required for delay action',
      });
      continue;
    }
    if (v === undefined) continue;
    const parsed = parseGoDuration(String(v));
    if (!parsed.ok)
      errors.push({
        field: `spec.delay.${key}`,
        message: `Invalid value: ${quote(v)}: parse ${key} field error:${parsed.error}`,
      });
  }
  checkPercent(delay?.correlation, 'spec.delay.correlation', errors);
};

const checkLoss: SpecCheck = (spec, errors) => {
  if (spec.action !== 'loss') return;
  const loss = isObject(spec.loss) ? spec.loss : undefined;
  if (loss?.loss === undefined)
    errors.push({ field: 'spec.loss.loss', message: 'Required value: loss is required for loss action' });
  else checkPercent(loss.loss, 'spec.loss.loss', errors);
  checkPercent(loss?.correlation, 'spec.loss.correlation', errors);
};

const checkTimeOffset: SpecCheck = (spec, errors) => {
  if (typeof spec.timeOffset !== 'string') return;
  const parsed = parseGoDuration(spec.timeOffset);
  if (!parsed.ok)
    errors.push({
      field: 'spec.timeOffset',
      message: `Invalid value: ${quote(spec.timeOffset)}: parse timeOffset field error:${parsed.error}`,
    });
};

/**
 * The validating webhook's rules per kind, run in order after the selector mode check; the order is the
 * order errors are reported in. A kind without an entry is a compile error.
 */
const SEMANTIC_RULES: Record<ChaosKind, readonly SpecCheck[]> = {
  PodChaos: [checkContainerKillNames, checkPodChaosDuration, checkGracePeriod],
  StressChaos: [checkOptionalDuration, checkStressors, checkMemorySize],
  NetworkChaos: [checkOptionalDuration, checkDirectionTargets, checkTargetMode, checkDelay, checkLoss],
  TimeChaos: [checkOptionalDuration, checkTimeOffset],
  HTTPChaos: [checkOptionalDuration],
};

/** The validating webhook's semantic checks. */
export function webhookErrors(kind: ChaosKind, spec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  for (const check of [checkSelectorMode, ...SEMANTIC_RULES[kind]]) check(spec, errors);
  return errors;
}

function checkPercent(value: unknown, field: string, errors: FieldError[]): void {
  if (value === undefined) return;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100) {
    errors.push({
      field,
      message: `Invalid value: ${quote(value)}: ${field.split('.').pop()} is invalid, it should be in [0, 100]`,
    });
  }
}

/** The mutating webhook's defaults: the selector's namespace, NetworkChaos direction `to`. */
export function applyChaosDefaults(kind: ChaosKind, object: StoredObject): void {
  const spec = specOf(object);
  object.spec = spec;
  const selector = isObject(spec.selector) ? spec.selector : {};
  spec.selector = selector;
  const hasNamespaces = Array.isArray(selector.namespaces) && selector.namespaces.length > 0;
  if (!hasNamespaces && !isObject(selector.pods))
    selector.namespaces = [object.metadata.namespace ?? 'default'];
  if (kind === 'NetworkChaos' && spec.direction === undefined) spec.direction = 'to';
}

const KEY_OF: Record<ChaosKind, keyof typeof KEYS> = {
  PodChaos: 'podchaos',
  StressChaos: 'stresschaos',
  NetworkChaos: 'networkchaos',
  TimeChaos: 'timechaos',
  HTTPChaos: 'httpchaos',
};

export function chaosKey(kind: ChaosKind) {
  return KEYS[KEY_OF[kind]];
}

/** Installs the webhooks on every chaos kind. Status-only and finalizer-only updates pass unchecked. */
export function installChaosWebhooks(store: ObjectStore, kinds: readonly ChaosKind[]): void {
  for (const kind of kinds) {
    store.addAdmissionHook(chaosKey(kind), (operation, object, old) => {
      if (operation === 'UPDATE' && old && JSON.stringify(old.spec) === JSON.stringify(object.spec)) return;
      const spec = specOf(object);
      const name = object.metadata.name;
      const schema = schemaErrors(kind, spec);
      if (schema.length > 0) {
        throw new StoreError(
          422,
          'Invalid',
          `${kind}.chaos-mesh.org "${name}" is invalid: ${schema.map((e) => `${e.field}: ${e.message}`).join(', ')}`,
          schema.map((e) => ({ field: e.field, message: e.message, reason: 'FieldValueInvalid' })),
          { kind, name },
        );
      }
      if (operation === 'CREATE') applyChaosDefaults(kind, object);
      const semantic = webhookErrors(kind, specOf(object));
      if (semantic.length > 0) {
        const text = semantic.map((e) => `${e.field}: ${e.message}`).join(', ');
        throw new StoreError(
          403,
          'Forbidden',
          `admission webhook "v${kind.toLowerCase()}.kb.io" denied the request: ${text}`,
          semantic.map((e) => ({ field: e.field, message: e.message, reason: 'FieldValueInvalid' })),
          { kind, name },
        );
      }
    });
  }
}
