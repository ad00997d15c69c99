// Where a spec refers to other files or objects: every manifest, runbook and object reference, with its path.

import type { DataPath } from './shape-issues.js';
import type {
  ManifestRefInput,
  ObjectRefInput,
  RecoveryConditionInput,
  RunbookRefInput,
  ScenarioSpec,
  WorkloadManifestInput,
} from './spec.js';

export interface ManifestUse {
  path: DataPath;
  /** A workload manifest may also be `generate`d; fault manifests are file or inline only. */
  ref: ManifestRefInput | WorkloadManifestInput;
  /** Fault manifests (and apply actions) must be exactly one object. */
  single: boolean;
  faultKind?: 'chaos-mesh' | 'istio';
}

export function listManifestRefs(spec: ScenarioSpec): ManifestUse[] {
  const s = spec.spec;
  const uses: ManifestUse[] = s.workload.manifests.map((ref, i) => ({
    path: ['spec', 'workload', 'manifests', i],
    ref,
    single: false,
  }));
  (s.workload.setup ?? []).forEach((step, i) => {
    if (step.action === 'apply')
      uses.push({ path: ['spec', 'workload', 'setup', i, 'manifest'], ref: step.manifest, single: true });
  });
  const fault = s.fault;
  if (fault.kind === 'kubernetes') {
    fault.steps.forEach((step, i) => {
      if (step.action === 'apply')
        uses.push({ path: ['spec', 'fault', 'steps', i, 'manifest'], ref: step.manifest, single: true });
    });
  } else if (fault.kind !== 'certificate-expiry') {
    uses.push({
      path: ['spec', 'fault', 'manifest'],
      ref: fault.manifest,
      single: true,
      faultKind: fault.kind,
    });
  }
  return uses;
}

export interface RunbookUse {
  /** Path of the `runbook` field. */
  path: DataPath;
  ref: RunbookRefInput;
  /** The variables in force for it (the main runbook's, overridden by the variant's own). */
  variables: Record<string, string>;
}

export function listRunbookRefs(spec: ScenarioSpec): RunbookUse[] {
  const s = spec.spec;
  const strings = (vars: RunbookRefInput['variables']) =>
    Object.fromEntries(Object.entries(vars ?? {}).map(([k, v]) => [k, String(v)]));
  const main = s.runbook === 'none' ? {} : strings(s.runbook.variables);
  const uses: RunbookUse[] = [];
  if (s.runbook !== 'none') uses.push({ path: ['spec', 'runbook'], ref: s.runbook, variables: main });
  const variants: [string, { runbook: ScenarioSpec['spec']['runbook'] }[] | undefined][] = [
    ['negativeControls', s.negativeControls],
    ['runbookVariants', s.runbookVariants],
  ];
  for (const [field, list] of variants) {
    (list ?? []).forEach((v, i) => {
      if (v.runbook !== 'none') {
        uses.push({
          path: ['spec', field, i, 'runbook'],
          ref: v.runbook,
          variables: { ...main, ...strings(v.runbook.variables) },
        });
      }
    });
  }
  return uses;
}

export interface ObjectRefUse {
  path: DataPath;
  ref: ObjectRefInput;
  /** Fault actions must select something: a name or a label selector. */
  mustSelect: boolean;
}

export function listObjectRefs(spec: ScenarioSpec): ObjectRefUse[] {
  const s = spec.spec;
  const uses: ObjectRefUse[] = [];
  (s.workload.setup ?? []).forEach((step, i) => {
    if (step.action !== 'apply' && step.action !== 'command')
      uses.push({ path: ['spec', 'workload', 'setup', i, 'target'], ref: step.target, mustSelect: true });
  });
  if (s.fault.kind === 'kubernetes') {
    s.fault.steps.forEach((step, i) => {
      if (step.action !== 'apply' && step.action !== 'command')
        uses.push({ path: ['spec', 'fault', 'steps', i, 'target'], ref: step.target, mustSelect: true });
    });
  }
  if (s.fault.kind === 'certificate-expiry') {
    if (s.fault.secret)
      uses.push({ path: ['spec', 'fault', 'secret'], ref: s.fault.secret, mustSelect: true });
    (s.fault.restart ?? []).forEach((ref, i) => {
      uses.push({ path: ['spec', 'fault', 'restart', i], ref, mustSelect: true });
    });
  }
  for (const field of ['efficacy', 'detect'] as const) {
    (s[field] ?? []).forEach((c, i) => {
      if (c.kind === 'kubernetes')
        uses.push({ path: ['spec', field, i, 'resource'], ref: c.resource, mustSelect: false });
    });
  }
  const recoveryLists: [DataPath, RecoveryConditionInput[] | undefined][] = [
    [['spec', 'recovery', 'conditions'], s.recovery.conditions],
    ...(s.runbookVariants ?? []).map((v, j): [DataPath, RecoveryConditionInput[] | undefined] => [
      ['spec', 'runbookVariants', j, 'recovery', 'conditions'],
      v.recovery?.conditions,
    ]),
  ];
  for (const [at, list] of recoveryLists) {
    (list ?? []).forEach((c, i) => {
      if (c.kind === 'kubernetes')
        uses.push({ path: [...at, i, 'resource'], ref: c.resource, mustSelect: false });
    });
  }
  return uses;
}

/** A variant of the scenario as the routing rules see it: its name, where it is written, what it overrides. */
export interface VariantUse {
  name: string;
  /** Path of the variant's item (`['spec']` for the main drill, which has no item of its own). */
  path: DataPath;
  /** The routing file in force for it, as written (the variant's own, else the scenario's), and where. */
  routing?: { rel: string; path: DataPath };
  silent: string[];
}

/** Every variant in run order (main, negative controls, runbook variants) with the routing it runs with. */
export function listVariants(spec: ScenarioSpec): VariantUse[] {
  const s = spec.spec;
  const scenarioRouting =
    s.alertmanager === undefined
      ? undefined
      : { rel: s.alertmanager.routing, path: ['spec', 'alertmanager', 'routing'] as DataPath };
  // The scenario's own `silent` is the main variant's (variants without their own inherit it, checked here once).
  const uses: VariantUse[] = [
    { name: 'main', path: ['spec'], ...routingOf(scenarioRouting), silent: s.silent ?? [] },
  ];
  for (const field of ['negativeControls', 'runbookVariants'] as const) {
    (s[field] ?? []).forEach((v, i) => {
      const path: DataPath = ['spec', field, i];
      const own =
        v.alertmanager === undefined
          ? scenarioRouting
          : { rel: v.alertmanager.routing, path: [...path, 'alertmanager', 'routing'] };
      uses.push({ name: v.name, path, ...routingOf(own), silent: v.silent ?? [] });
    });
  }
  return uses;
}

function routingOf(routing: VariantUse['routing']): Pick<VariantUse, 'routing'> {
  return routing === undefined ? {} : { routing };
}
