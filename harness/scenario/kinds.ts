// The tagged-union registries (STYLE.md §3): one resolver per fault kind, kube action and condition kind.
// Mapped types over the model's unions make a kind without a resolver a compile error.

import type { KubeObject } from '../model/index.js';
import type {
  ConditionKind,
  ConditionSpec,
  FaultKind,
  FaultSpec,
  KubeAction,
  ObjectRef,
} from '../model/index.js';
import type {
  ConditionSpecInput,
  FaultSpecInput,
  KubeActionInput,
  ManifestRefInput,
  ObjectRefInput,
} from './spec.js';
import type { MeshVariables } from './mesh-variables.js';

/** What a resolver may ask of the scenario around it (all pure). */
export interface KindContext {
  namespace: string;
  /** The objects a manifest reference stands for (file read by the loader, or inline), namespace filled. */
  manifests(ref: ManifestRefInput): KubeObject[];
  objectRef(ref: ObjectRefInput): ObjectRef;
  /** Expands `${scaled:…}` in a string or inside any JSON-like value. */
  scaled<T>(value: T): T;
  /** A drill duration in ms, time-scaled (`fallbackMs` is unscaled, as written). */
  duration(text: string | undefined, fallbackMs: number): number;
  /** The target's control-plane names (`${mesh.…}`), for defaults that name the control plane. */
  mesh: MeshVariables;
}

/** Unscaled defaults of the certificate-expiry fault: the CA Secret and istiod, where the target installed them. */
export const CERTIFICATE_EXPIRY_DEFAULTS = {
  secret: (mesh: MeshVariables) => ({ kind: 'Secret', namespace: mesh.namespace, name: 'cacerts' }),
  restart: (mesh: MeshVariables) => [
    { kind: 'Deployment', namespace: mesh.namespace, name: mesh.istiodDeployment },
  ],
  maxWaitMs: 600_000,
} as const;

type FaultResolvers = {
  [K in FaultKind]: (
    input: Extract<FaultSpecInput, { kind: K }>,
    ctx: KindContext,
  ) => Extract<FaultSpec, { kind: K }>;
};

type ActionResolvers = {
  [K in KubeAction['action']]: (
    input: Extract<KubeActionInput, { action: K }>,
    ctx: KindContext,
  ) => Extract<KubeAction, { action: K }>;
};

type ConditionResolvers = {
  [K in ConditionKind]: (
    input: Extract<ConditionSpecInput, { kind: K }>,
    ctx: KindContext,
  ) => Extract<ConditionSpec, { kind: K }>;
};

function single(ctx: KindContext, ref: ManifestRefInput): KubeObject {
  const [object] = ctx.manifests(ref);
  // The fault-manifest-single-object rule guarantees exactly one object before resolution runs.
  if (!object)
    throw new Error('internal: fault manifest resolved to no object (validation should have caught it)');
  return ctx.scaled(object);
}

export const FAULT_RESOLVERS: FaultResolvers = {
  'chaos-mesh': (input, ctx) => ({ kind: 'chaos-mesh', manifest: single(ctx, input.manifest) }),
  istio: (input, ctx) => ({ kind: 'istio', manifest: single(ctx, input.manifest) }),
  kubernetes: (input, ctx) => ({
    kind: 'kubernetes',
    steps: input.steps.map((step) => resolveAction(step, ctx)),
  }),
  'certificate-expiry': (input, ctx) => ({
    kind: 'certificate-expiry',
    secret: ctx.objectRef(input.secret ?? CERTIFICATE_EXPIRY_DEFAULTS.secret(ctx.mesh)),
    restart: (input.restart ?? CERTIFICATE_EXPIRY_DEFAULTS.restart(ctx.mesh)).map((r) => ctx.objectRef(r)),
    maxWaitMs: ctx.duration(input.maxWait, CERTIFICATE_EXPIRY_DEFAULTS.maxWaitMs),
  }),
};

export const ACTION_RESOLVERS: ActionResolvers = {
  scale: (a, ctx) => ({ action: 'scale', target: ctx.objectRef(a.target), replicas: a.replicas }),
  delete: (a, ctx) => ({ action: 'delete', target: ctx.objectRef(a.target) }),
  'rollout-restart': (a, ctx) => ({ action: 'rollout-restart', target: ctx.objectRef(a.target) }),
  patch: (a, ctx) => ({
    action: 'patch',
    target: ctx.objectRef(a.target),
    patchType: a.patchType ?? 'merge',
    patch: ctx.scaled(a.patch),
  }),
  apply: (a, ctx) => ({ action: 'apply', manifest: single(ctx, a.manifest) }),
  command: (a, ctx) => ({
    action: 'command',
    run: ctx.scaled(a.run),
    ...(a.undo ? { undo: ctx.scaled(a.undo) } : {}),
  }),
};

export const CONDITION_RESOLVERS: ConditionResolvers = {
  promql: (c, ctx) => ({ kind: 'promql', query: ctx.scaled(c.query) }),
  alert: (c) => ({ kind: 'alert', alert: c.alert, ...(c.labels ? { labels: c.labels } : {}) }),
  notification: (c) => ({
    kind: 'notification',
    alert: c.alert,
    ...(c.labels ? { labels: c.labels } : {}),
    ...(c.receiver ? { receiver: c.receiver } : {}),
  }),
  log: (c, ctx) => ({
    kind: 'log',
    namespace: c.namespace ?? ctx.namespace,
    labelSelector: c.labelSelector,
    container: c.container,
    pattern: c.pattern,
  }),
  kubernetes: (c, ctx) => ({
    kind: 'kubernetes',
    resource: ctx.objectRef(c.resource),
    field: c.field,
    op: c.op ?? (c.value === undefined ? 'exists' : '=='),
    ...(c.value === undefined ? {} : { value: c.value }),
    match: c.match ?? 'any',
  }),
  http: (c) => ({
    kind: 'http',
    url: c.url,
    ...(c.host === undefined ? {} : { host: c.host }),
    expectStatus:
      c.expectStatus === undefined
        ? [200]
        : Array.isArray(c.expectStatus)
          ? c.expectStatus
          : [c.expectStatus],
    ...(c.bodyPattern === undefined ? {} : { bodyPattern: c.bodyPattern }),
  }),
  command: (c, ctx) => ({
    kind: 'command',
    run: ctx.scaled(c.run),
    expectExitCode: c.expectExitCode ?? 0,
    ...(c.outputPattern === undefined ? {} : { outputPattern: c.outputPattern }),
  }),
};

export const FAULT_KINDS = Object.keys(FAULT_RESOLVERS) as FaultKind[];
export const CONDITION_KINDS = Object.keys(CONDITION_RESOLVERS) as ConditionKind[];

// The casts below are where TypeScript cannot correlate the key with its handler; the mapped types above
// already guarantee each handler accepts exactly its own variant.
export function resolveFault(input: FaultSpecInput, ctx: KindContext): FaultSpec {
  const resolver = FAULT_RESOLVERS[input.kind] as (i: FaultSpecInput, c: KindContext) => FaultSpec;
  return resolver(input, ctx);
}

export function resolveAction(input: KubeActionInput, ctx: KindContext): KubeAction {
  const resolver = ACTION_RESOLVERS[input.action] as (i: KubeActionInput, c: KindContext) => KubeAction;
  return resolver(input, ctx);
}

export function resolveCondition(input: ConditionSpecInput, ctx: KindContext): ConditionSpec {
  const resolver = CONDITION_RESOLVERS[input.kind] as (
    i: ConditionSpecInput,
    c: KindContext,
  ) => ConditionSpec;
  return resolver(input, ctx);
}
