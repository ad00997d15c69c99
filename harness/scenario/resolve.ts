// resolveScenario: ScenarioSpec (what users write) → ResolvedScenario (what the engine runs). Pure: files the
// spec refers to were read by the loader and arrive in the context. Every default is decided here.

import { dirname, resolve as resolvePath } from 'node:path';
import type { KubeObject } from '../model/index.js';
import type { LoadProfile, RequestSpec } from '../model/index.js';
import type {
  AlertmanagerRoutingFile,
  EfficacyCheck,
  GeneratedManifest,
  PhaseName,
  RecoveryCondition,
  ResolvedScenario,
  RunbookRef,
  RunbookStep,
  ScenarioVariant,
  SignalSpec,
  SloThreshold,
} from '../model/index.js';
import { bindRunbookSteps } from '../runbook/index.js';
import { parseRuleDocument } from '../slo/index.js';
import { parseThreshold } from '../slo/index.js';
import { parseDuration } from '../util/duration.js';
import { type KindContext, resolveAction, resolveCondition, resolveFault } from './kinds.js';
import { DEFAULT_MESH_VARIABLES, type MeshVariables } from './mesh-variables.js';
import { resolveObjectRef, withDefaultNamespace } from './object-refs.js';
import { expandScaled, expandScaledDeep } from './scaled.js';
import type {
  ConditionSpecInput,
  LoadSpecInput,
  ManifestRefInput,
  RecoveryConditionInput,
  RunbookOrNoneInput,
  ScenarioSpec,
} from './spec.js';

export interface ResolveContext {
  /** Absolute path of the scenario file; relative paths in the spec resolve against its directory. */
  file: string;
  /** The target name (`local`, `kind`, `existing`): selects the time scale. */
  target: string;
  /**
   * The target's control-plane names. The loader expanded `${mesh.…}` before validation; resolution uses them
   * for the defaults that name the control plane (the certificate-expiry fault, a generated cacerts).
   */
  mesh?: MeshVariables;
  /** Objects of every manifest file the spec names, by absolute path (the loader reads them). */
  manifestFiles: ReadonlyMap<string, KubeObject[]>;
  /** The documents of every alert rule file the spec names, by absolute path (read and parsed once). */
  ruleFiles: ReadonlyMap<string, unknown[]>;
  /** The steps of every runbook the spec names, parsed once and not yet bound, by absolute path. */
  runbookFiles: ReadonlyMap<string, readonly RunbookStep[]>;
  /** Every Alertmanager routing file the spec names, read and checked once, by absolute path. */
  routingFiles: ReadonlyMap<string, AlertmanagerRoutingFile>;
}

/** Unscaled defaults, in ms (docs/scenario-format.md lists them). */
export const DEFAULTS = {
  readyTimeoutMs: 120_000,
  requestTimeoutMs: 5_000,
  steadyStateMs: 30_000,
  efficacyWithinMs: 30_000,
  detectWithinMs: 60_000,
  pollMs: 1_000,
  verifyMs: 30_000,
  /** Poll intervals never go below this, whatever the time scale. */
  minPollMs: 100,
  /** Added to a phase's own budget for its default timeout. */
  phaseSlackMs: 30_000,
  provisionMs: 600_000,
  injectMs: 60_000,
  loadMs: 60_000,
  cleanupMs: 180_000,
} as const;

export const MAIN_VARIANT = 'main';

/** Root CA lifetime of a generated `cacerts` when none is given: ten years, as Istio's own self-signed root. */
export const DEFAULT_ROOT_VALIDITY_MS = 3650 * 24 * 3600 * 1000;

export function namespaceFor(name: string): string {
  return `drill-${name}`.slice(0, 63).replace(/-+$/, '');
}

export function timeScaleFor(spec: ScenarioSpec, target: string): number {
  const ts = spec.spec.timeScale;
  if (ts === undefined) return 1;
  if (typeof ts === 'number') return ts;
  return (ts as Record<string, number | undefined>)[target] ?? 1;
}

/** Absolute path of a path written in the scenario file. */
export function resolveRelative(scenarioFile: string, path: string): string {
  return resolvePath(dirname(scenarioFile), path);
}

/** What every part of one scenario's resolution reads: the spec, the loader's context and the time scale. */
interface Resolution {
  spec: ScenarioSpec['spec'];
  ctx: ResolveContext;
  scale: number;
  /** Namespace, manifests, object references, `${scaled:…}` and durations, as the kinds resolve them. */
  kinds: KindContext;
}

type ResolvedRecovery = ResolvedScenario['recovery'];

export function resolveScenario(spec: ScenarioSpec, ctx: ResolveContext): ResolvedScenario {
  const s = spec.spec;
  const r = createResolution(spec, ctx);
  const { namespace } = r.kinds;
  const { efficacy, signals } = resolveChecks(r);
  const fault = resolveFault(s.fault, r.kinds);
  const steadyText = typeof s.steadyState === 'string' ? s.steadyState : s.steadyState?.duration;
  const steadyStateMs = r.kinds.duration(steadyText, DEFAULTS.steadyStateMs);
  const recovery = resolveRecovery(r, r.spec.recovery);
  const readyTimeoutMs = r.kinds.duration(s.workload.readyTimeout, DEFAULTS.readyTimeoutMs);
  const timeouts = resolveTimeouts(r, {
    readyTimeoutMs,
    steadyStateMs,
    injectWaitMs: fault.kind === 'certificate-expiry' ? fault.maxWaitMs : 0,
    efficacy,
    signals,
    recovery,
  });
  const generate = resolveGenerated(r);
  const variants = resolveVariants(r);
  // The load runs as long as the longest variant may: one with a recovery of its own may wait longer.
  const longest = Math.max(
    0,
    ...variants.map((v) =>
      drillDurationMs(v.ownRecovery === undefined ? timeouts : { ...timeouts, ...v.ownRecovery.timeouts }),
    ),
  );
  const alertRules = (s.alertRules ?? []).map((p) => resolveRelative(ctx.file, p));
  return {
    name: spec.metadata.name,
    title: spec.metadata.title ?? spec.metadata.name,
    description: spec.metadata.description ?? '',
    file: ctx.file,
    timeScale: r.scale,
    isolation: s.isolation ?? 'cluster',
    namespace,
    workload: {
      manifests: s.workload.manifests.flatMap((ref) =>
        ref.generate === undefined ? r.kinds.manifests(ref) : [],
      ),
      injection: s.workload.injection ?? true,
      readyTimeoutMs,
      ...(generate.length > 0 ? { generate } : {}),
      ...(s.workload.setup ? { setup: s.workload.setup.map((a) => resolveAction(a, r.kinds)) } : {}),
    },
    // A held fault keeps the load running that much longer before the runbook.
    load: resolveLoad(s.load, r.scale, longest + (resolveDuringFault(r).holdForMs ?? 0)),
    slos: s.slos.map(mustThreshold),
    duringFault: resolveDuringFault(r),
    steadyState: { durationMs: steadyStateMs },
    fault,
    efficacy,
    signals,
    variants,
    recovery,
    alertRules,
    alertRuleSet: alertRuleSetOf(alertRules, ctx.ruleFiles),
    timeouts,
  };
}

function resolveDuringFault(r: Resolution): ResolvedScenario['duringFault'] {
  const { duringFault } = r.spec;
  const slos = duringFault?.slos ?? 'ignore';
  return duringFault?.holdFor === undefined
    ? { slos }
    : { slos, holdForMs: r.kinds.duration(duringFault.holdFor, 0) };
}

/** The time scale for the target, the drill's namespace, and the kinds' view of both. */
function createResolution(spec: ScenarioSpec, ctx: ResolveContext): Resolution {
  const scale = timeScaleFor(spec, ctx.target);
  const namespace = spec.spec.workload.namespace ?? namespaceFor(spec.metadata.name);
  const manifests = (ref: ManifestRefInput): KubeObject[] => {
    const objects =
      ref.file !== undefined
        ? (ctx.manifestFiles.get(resolveRelative(ctx.file, ref.file)) ?? [])
        : ref.inline !== undefined
          ? [ref.inline as KubeObject]
          : [];
    return objects.map((o) => withDefaultNamespace(o, namespace));
  };
  const kinds: KindContext = {
    namespace,
    manifests,
    objectRef: (ref) => resolveObjectRef(ref, namespace),
    scaled: <T>(value: T): T =>
      (typeof value === 'string' ? expandScaled(value, scale) : expandScaledDeep(value, scale)) as T,
    duration: (text, fallbackMs) => Math.round((text === undefined ? fallbackMs : mustParse(text)) * scale),
    mesh: ctx.mesh ?? DEFAULT_MESH_VARIABLES,
  };
  return { spec: spec.spec, ctx, scale, kinds };
}

/** A poll interval, time-scaled, never below the floor. */
function pollMs(r: Resolution, text: string | undefined): number {
  return Math.max(DEFAULTS.minPollMs, r.kinds.duration(text, DEFAULTS.pollMs));
}

function resolveTimedCondition(r: Resolution, c: ConditionSpecInput, withinDefaultMs: number) {
  return {
    ...resolveCondition(c, r.kinds),
    name: c.name,
    withinMs: r.kinds.duration(c.within, withinDefaultMs),
    pollMs: pollMs(r, c.poll),
  };
}

/** The efficacy checks and the detection signals, each with its budget and poll interval. */
function resolveChecks(r: Resolution): { efficacy: EfficacyCheck[]; signals: SignalSpec[] } {
  const efficacy: EfficacyCheck[] = (r.spec.efficacy ?? []).map((c) =>
    resolveTimedCondition(r, c, DEFAULTS.efficacyWithinMs),
  );
  const signals: SignalSpec[] = (r.spec.detect ?? []).map((c) => ({
    ...resolveTimedCondition(r, c, DEFAULTS.detectWithinMs),
    ...(c.informational ? { informational: true } : {}),
  }));
  return { efficacy, signals };
}

/** A recovery as written: the drill's, or a variant's own with the drill's fields filling what it leaves out. */
type RecoveryInput = {
  budget: string;
  verify?: string | undefined;
  conditions?: RecoveryConditionInput[] | undefined;
};

function resolveRecovery(r: Resolution, recovery: RecoveryInput): ResolvedRecovery {
  return {
    budgetMs: r.kinds.duration(recovery.budget, 0),
    verifyMs: r.kinds.duration(recovery.verify, DEFAULTS.verifyMs),
    conditions: (recovery.conditions ?? []).map(
      (c): RecoveryCondition => ({
        ...resolveCondition(c, r.kinds),
        name: c.name,
        pollMs: pollMs(r, c.poll),
      }),
    ),
  };
}

/** What the phases' default deadlines are derived from. */
interface PhaseBudgets {
  readyTimeoutMs: number;
  steadyStateMs: number;
  /** How long the fault may wait for its moment before it injects. */
  injectWaitMs: number;
  efficacy: readonly { withinMs: number }[];
  signals: readonly { withinMs: number }[];
  recovery: ResolvedRecovery;
}

/** Each phase's deadline: derived from its own budget plus slack, unless the spec sets it. */
function resolveTimeouts(r: Resolution, budgets: PhaseBudgets): Record<PhaseName, number> {
  const ms = r.kinds.duration;
  const { steadyStateMs, recovery } = budgets;
  const maxWithin = (list: readonly { withinMs: number }[]) => Math.max(0, ...list.map((c) => c.withinMs));
  const slack = ms(undefined, DEFAULTS.phaseSlackMs);
  const timeouts: Record<PhaseName, number> = {
    provision: ms(undefined, DEFAULTS.provisionMs),
    deploy: budgets.readyTimeoutMs + ms(undefined, 60_000),
    // Starting load; the engine adds its settle budget (the signals' look-back) to this deadline.
    load: ms(undefined, DEFAULTS.loadMs) + 2 * steadyStateMs,
    'steady-state': steadyStateMs + ms(undefined, 60_000),
    // A fault that waits for its moment (certificate-expiry) may take up to its maxWait to inject.
    inject: ms(undefined, DEFAULTS.injectMs) + budgets.injectWaitMs,
    efficacy: maxWithin(budgets.efficacy) + slack,
    detect: maxWithin(budgets.signals) + slack,
    ...recoveryTimeouts(r, recovery),
    cleanup: ms(undefined, DEFAULTS.cleanupMs),
  };
  for (const [phase, text] of Object.entries(r.spec.timeouts ?? {})) {
    if (text !== undefined) timeouts[phase as PhaseName] = ms(text, 0);
  }
  return timeouts;
}

/** The remediate and recover deadlines a recovery sets, unless the spec's `timeouts` sets them. */
function recoveryTimeouts(
  r: Resolution,
  recovery: ResolvedRecovery,
): Record<'remediate' | 'recover', number> {
  const ms = r.kinds.duration;
  const set = r.spec.timeouts ?? {};
  return {
    remediate: set.remediate === undefined ? recovery.budgetMs : ms(set.remediate, 0),
    recover:
      set.recover === undefined
        ? recovery.budgetMs + recovery.verifyMs + ms(undefined, DEFAULTS.phaseSlackMs)
        : ms(set.recover, 0),
  };
}

/** Load runs from the load phase until cleanup: its natural upper bound is the sum of those phase deadlines. */
function drillDurationMs(timeouts: Record<PhaseName, number>): number {
  return (
    timeouts.load +
    timeouts['steady-state'] +
    timeouts.inject +
    timeouts.efficacy +
    timeouts.detect +
    timeouts.remediate +
    timeouts.recover
  );
}

/** The manifests the engine generates (a `cacerts` Secret), with their lifetimes. */
function resolveGenerated(r: Resolution): GeneratedManifest[] {
  return r.spec.workload.manifests.flatMap((ref) =>
    ref.generate === undefined
      ? []
      : [
          {
            generate: ref.generate,
            namespace: ref.namespace ?? r.kinds.mesh.namespace,
            name: ref.name ?? 'cacerts',
            // The intermediate's lifetime sets the drill's pace (it must outlive deploy + steady state): scaled.
            intermediateValidityMs: r.kinds.duration(ref.intermediateValidity, 0),
            // The root's is a property of the PKI, not of the drill: as written.
            rootValidityMs:
              ref.rootValidity === undefined ? DEFAULT_ROOT_VALIDITY_MS : mustParse(ref.rootValidity),
            ...(ref.rootSecret === undefined ? {} : { rootSecret: ref.rootSecret }),
          },
        ],
  );
}

/**
 * The main variant, then the negative controls and the runbook variants, which inherit the main's variables and
 * the scenario's Alertmanager routing unless they name their own.
 */
function resolveVariants(r: Resolution): ScenarioVariant[] {
  const { spec: s, ctx } = r;
  const mainRunbook = resolveRunbook(s.runbook, {}, ctx);
  const mainVariables = mainRunbook?.variables ?? {};
  const scenarioRouting = resolveRouting(s.alertmanager, ctx);
  const silentOf = (list: string[] | undefined) =>
    list === undefined || list.length === 0 ? {} : { silent: [...new Set(list)] };
  const own = (v: VariantInput): Pick<ScenarioVariant, 'routing' | 'silent'> => {
    const routing = v.alertmanager === undefined ? scenarioRouting : resolveRouting(v.alertmanager, ctx);
    return {
      ...(routing === undefined ? {} : { routing }),
      ...silentOf(v.silent ?? s.silent),
    };
  };
  return [
    {
      name: MAIN_VARIANT,
      runbook: mainRunbook,
      expect: 'recovery',
      ...(scenarioRouting === undefined ? {} : { routing: scenarioRouting }),
      ...silentOf(s.silent),
    },
    ...(s.negativeControls ?? []).map((v) => ({
      name: v.name,
      runbook: resolveRunbook(v.runbook, mainVariables, ctx),
      expect: 'no-recovery' as const,
      ...own(v),
    })),
    ...(s.runbookVariants ?? []).map((v) => ({
      name: v.name,
      runbook: resolveRunbook(v.runbook, mainVariables, ctx),
      expect: v.expect ?? ('measure' as const),
      ...own(v),
      ...ownRecovery(r, v.recovery),
    })),
  ];
}

type VariantInput = NonNullable<ScenarioSpec['spec']['negativeControls']>[number];
type VariantRecoveryInput = NonNullable<ScenarioSpec['spec']['runbookVariants']>[number]['recovery'];

/** A runbook variant's own recovery: each field it gives replaces the drill's (conditions as a whole list). */
function ownRecovery(r: Resolution, input: VariantRecoveryInput): Pick<ScenarioVariant, 'ownRecovery'> {
  if (input === undefined) return {};
  const drill = r.spec.recovery;
  const recovery = resolveRecovery(r, {
    budget: input.budget ?? drill.budget,
    verify: input.verify ?? drill.verify,
    conditions: input.conditions ?? drill.conditions,
  });
  return { ownRecovery: { recovery, timeouts: recoveryTimeouts(r, recovery) } };
}

/** The routing file as loaded (the loader read and checked it; the routing rules let only good ones through). */
function resolveRouting(
  input: ScenarioSpec['spec']['alertmanager'],
  ctx: Pick<ResolveContext, 'file' | 'routingFiles'>,
): AlertmanagerRoutingFile | undefined {
  if (input === undefined) return undefined;
  const path = resolveRelative(ctx.file, input.routing);
  const routing = ctx.routingFiles.get(path);
  if (routing === undefined) throw new Error(`internal: routing ${path} was not read with the scenario`);
  return routing;
}

/** The alerting rules of the rule files, in order; what cannot be read of them is said, never fatal. */
function alertRuleSetOf(
  paths: readonly string[],
  files: ReadonlyMap<string, unknown[]>,
): ResolvedScenario['alertRuleSet'] {
  const set: ResolvedScenario['alertRuleSet'] = { rules: [], problems: [] };
  for (const path of paths) {
    const documents = files.get(path);
    if (!documents) set.problems.push(`${path}: the rule file was not read`);
    for (const doc of documents ?? []) {
      const parsed = parseRuleDocument(doc, path);
      if (parsed.ok) set.rules.push(...parsed.rules);
      else set.problems.push(...parsed.errors);
    }
  }
  return set;
}

function resolveLoad(load: LoadSpecInput, scale: number, drillMs: number): LoadProfile {
  const stages = (load.stages ?? []).map((st) => ({
    durationMs: Math.round(mustParse(st.duration) * scale),
    target: st.target,
  }));
  const executor = load.executor ?? (stages.length > 0 ? 'ramping-arrival-rate' : 'constant-arrival-rate');
  const peak = Math.max(load.rate, ...stages.map((st) => st.target));
  // The request timeout is a property of the client and of the latency SLOs, not of the drill's pace: unscaled.
  const requestTimeoutMs =
    load.requestTimeout === undefined ? DEFAULTS.requestTimeoutMs : mustParse(load.requestTimeout);
  const maxDurationMs =
    load.maxDuration === undefined ? drillMs : Math.round(mustParse(load.maxDuration) * scale);
  const requests: RequestSpec[] = (load.requests ?? ['/']).map((r) =>
    typeof r === 'string'
      ? { method: 'GET', path: r, headers: {}, weight: 1 }
      : {
          method: r.method ?? 'GET',
          path: r.path,
          headers: r.headers ?? {},
          ...(r.body === undefined ? {} : { body: r.body }),
          weight: r.weight ?? 1,
        },
  );
  return {
    driver: load.driver ?? 'builtin',
    executor,
    rate: load.rate,
    stages,
    maxDurationMs,
    // Enough slots for every request of one timeout period to hang: beyond that, dropping is the honest answer.
    maxInFlight:
      load.maxInFlight ?? Math.min(10_000, Math.max(10, Math.ceil((peak * requestTimeoutMs) / 1000))),
    requestTimeoutMs,
    maxRequests: load.maxRequests ?? Math.ceil((peak * maxDurationMs) / 1000),
    ...(load.host === undefined ? {} : { host: load.host }),
    requests,
  };
}

/** The runbook with its variables and its steps bound (the loader read and parsed the file; rules checked it). */
function resolveRunbook(
  input: RunbookOrNoneInput,
  inherited: Record<string, string>,
  ctx: Pick<ResolveContext, 'file' | 'runbookFiles'>,
): RunbookRef | null {
  if (input === 'none') return null;
  const own = Object.fromEntries(Object.entries(input.variables ?? {}).map(([k, v]) => [k, String(v)]));
  const path = resolveRelative(ctx.file, input.path);
  const variables = { ...inherited, ...own };
  const parsed = ctx.runbookFiles.get(path);
  // The runbook rules let only readable runbooks with every placeholder bound through: reaching this is a bug.
  if (parsed === undefined) throw new Error(`internal: runbook ${path} was not read with the scenario`);
  return { path, variables, steps: bindRunbookSteps(parsed, variables) };
}

function mustParse(text: string): number {
  const value = parseDuration(text);
  // The shape stage only lets valid durations through; reaching this is a bug, not a user error.
  if (value === undefined) throw new Error(`internal: unvalidated duration ${JSON.stringify(text)}`);
  return value;
}

function mustThreshold(source: string): SloThreshold {
  const parsed = parseThreshold(source);
  if (!parsed.ok) throw new Error(`internal: unvalidated threshold ${JSON.stringify(source)}`);
  return parsed.threshold;
}
