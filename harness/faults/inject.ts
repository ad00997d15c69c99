// Fault injection (STYLE.md §3): one handler per fault kind, each returning the undo step that cleanup runs
// unconditionally. Every object a fault creates carries the run label, so `meshdrill cleanup` finds it too.

import {
  type BeforeState,
  type ObjectKey,
  beforeObject,
  changeRecord,
  createdByRun,
  describeObject,
  keyOf,
  labelForRun,
  restoreFromRecord,
  sanitize,
} from '../kube/index.js';
import { describeFailure } from '../exec/index.js';
import type { FaultKind, FaultSpec, KubeAction, KubeObject, ObjectRef } from '../model/index.js';
import { injectCertificateExpiry } from './certificate-expiry.js';
import { sharedPodSelection, waitForPodsReady } from './chaos-heal.js';
import { waitForRollouts } from './rollout.js';
import type { FaultContext, InjectedFault } from './types.js';

/** How long undoing a scale waits for the Deployments to be ready again. */
const SCALE_UNDO_TIMEOUT_MS = 120_000;
/**
 * How long a command action may run: istioctl install waits for its istiod (a minute or two on a real cluster);
 * the phase's deadline still aborts it sooner.
 */
export const COMMAND_TIMEOUT_MS = 300_000;
/** How long undoing a Chaos Mesh fault waits for the shared pods it hit to be Ready again. */
const CHAOS_HEAL_TIMEOUT_MS = 120_000;

export type { FaultContext, InjectedFault, RecordedStep } from './types.js';

type Handler<K extends FaultKind> = (
  fault: Extract<FaultSpec, { kind: K }>,
  ctx: FaultContext,
) => Promise<InjectedFault>;

function withNamespace(object: KubeObject, namespace: string): KubeObject {
  return object.metadata.namespace ? object : { ...object, metadata: { ...object.metadata, namespace } };
}

/** A copy of the object with extra labels and annotations (pure). */
function withMetadata(object: KubeObject, extra: ReturnType<typeof changeRecord>['metadata']): KubeObject {
  const { labels = {}, annotations = {} } = object.metadata;
  return {
    ...object,
    metadata: {
      ...object.metadata,
      labels: { ...labels, ...extra.labels },
      annotations: { ...annotations, ...extra.annotations },
    },
  };
}

/**
 * Applies a manifest; the undo deletes it if the run created it, or restores what was there before. An object
 * that existed is never given the run-id label (cleanup deletes what carries it); its before-state is sent with
 * the change instead, so `meshdrill cleanup --run-id` restores it after a crash too.
 */
async function applyRevertibly(manifest: KubeObject, ctx: FaultContext): Promise<InjectedFault> {
  const placed = withNamespace(manifest, ctx.defaultNamespace);
  const key = keyOf(placed);
  const name = describeObject(key);
  const before = await ctx.kube.get(key);
  if (!before || createdByRun(before, ctx.runId)) {
    // The run's own object (new, or one its workload made): cleanup deletes it after a crash; the undo puts back
    // what the workload had.
    await ctx.kube.apply(labelForRun(placed, ctx.runId, ctx.scenario));
    return {
      description: `${before ? 'changed' : 'created'} ${name}`,
      objects: [name],
      async revert() {
        if (!before) await ctx.kube.delete(key);
        else if (await ctx.kube.get(key)) await ctx.kube.replace(sanitize(before));
        else await ctx.kube.apply(sanitize(before));
      },
    };
  }
  const record = changeRecord(before, beforeObject(before, ctx.runId));
  await ctx.kube.apply(withMetadata(placed, record.metadata));
  return {
    description: `changed ${name}`,
    objects: [name],
    revert: () => restoreFromRecord(ctx.kube, key, record.state),
  };
}

/**
 * Writes the before-state of each object the run did not create into the object itself, before it is changed;
 * returns each key with the state to restore (undefined for the run's own objects and objects not found).
 */
async function recordBefore(
  keys: readonly ObjectKey[],
  ctx: FaultContext,
  stateOf: (object: KubeObject) => BeforeState | undefined,
): Promise<{ key: ObjectKey; state: BeforeState | undefined }[]> {
  const out: { key: ObjectKey; state: BeforeState | undefined }[] = [];
  for (const key of keys) {
    const object = await ctx.kube.get(key);
    const wanted = object && !createdByRun(object, ctx.runId) ? stateOf(object) : undefined;
    if (!object || !wanted) {
      out.push({ key, state: undefined });
      continue;
    }
    const record = changeRecord(object, wanted);
    await ctx.kube.patch(key, { metadata: record.metadata }, 'merge');
    out.push({ key, state: record.state });
  }
  return out;
}

/** The objects an action's target selects (by name, or listed by label selector). */
export async function resolveTargets(t: ObjectRef, ctx: FaultContext): Promise<ObjectKey[]> {
  const namespace = t.namespace ?? ctx.defaultNamespace;
  if (t.name) return [{ apiVersion: t.apiVersion, kind: t.kind, namespace, name: t.name }];
  const found = await ctx.kube.list(t.apiVersion, t.kind, {
    namespace,
    ...(t.labelSelector ? { labelSelector: t.labelSelector } : {}),
  });
  return found.map(keyOf);
}

/** One Kubernetes action with its undo (shared by `kubernetes` faults and workload setup actions). */
export async function runAction(action: KubeAction, ctx: FaultContext): Promise<InjectedFault> {
  if (action.action === 'apply') return applyRevertibly(action.manifest, ctx);
  if (action.action === 'command') return runScript(action, ctx);
  const keys = await resolveTargets(action.target, ctx);
  if (keys.length === 0) {
    throw new Error(
      `fault step ${action.action}: no ${action.target.kind} matched ${action.target.name ?? action.target.labelSelector ?? ''} in ${action.target.namespace ?? ctx.defaultNamespace}`,
    );
  }
  const names = keys.map(describeObject);
  switch (action.action) {
    case 'scale': {
      const previous = await Promise.all(
        keys.map(async (key) => ({ key, replicas: readReplicas(await ctx.kube.get(key)) })),
      );
      const recorded = await recordBefore(keys, ctx, (object) => {
        const replicas = readReplicas(object);
        return replicas === undefined ? undefined : { runId: ctx.runId, restore: 'replicas', replicas };
      });
      for (const key of keys) await ctx.kube.patch(key, { spec: { replicas: action.replicas } }, 'merge');
      return {
        description: `scaled ${names.join(', ')} to ${action.replicas}`,
        objects: names,
        async revert() {
          for (const [i, { key, replicas }] of previous.entries()) {
            const state = recorded[i]?.state;
            if (state) await restoreFromRecord(ctx.kube, key, state);
            else if (replicas !== undefined && (await ctx.kube.get(key))) {
              await ctx.kube.patch(key, { spec: { replicas } }, 'merge');
            }
          }
          // Scaled back is not the same as serving again: the next variant (or the next user of a real cluster)
          // needs the replicas ready — e.g. istiod, whose webhooks fail closed until it is.
          await waitForRollouts(ctx.kube, keys, { timeoutMs: SCALE_UNDO_TIMEOUT_MS });
        },
      };
    }
    case 'delete':
      for (const key of keys) await ctx.kube.delete(key);
      // Nothing to undo: controllers recreate what they own; a deleted bare object is the fault itself.
      return { description: `deleted ${names.join(', ')}`, objects: names, revert: async () => undefined };
    case 'rollout-restart': {
      const at = new Date().toISOString();
      const patch = {
        spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
      };
      for (const key of keys) await ctx.kube.patch(key, patch, 'strategic');
      return { description: `restarted ${names.join(', ')}`, objects: names, revert: async () => undefined };
    }
    case 'patch': {
      const before = await Promise.all(keys.map((key) => ctx.kube.get(key)));
      const recorded = await recordBefore(keys, ctx, (object) => beforeObject(object, ctx.runId));
      for (const key of keys)
        await ctx.kube.patch(key, action.patch as Record<string, unknown>, action.patchType);
      return {
        description: `patched (${action.patchType}) ${names.join(', ')}`,
        objects: names,
        async revert() {
          for (const [i, { key, state }] of recorded.entries()) {
            const object = before[i];
            if (state) await restoreFromRecord(ctx.kube, key, state);
            else if (object) await ctx.kube.replace(sanitize(object));
          }
        },
      };
    }
  }
}

const lines = (script: string): string[] => script.split('\n').filter((l) => l.trim() !== '');

/** The line that says what a script does: the first that is no guard (`if`…`fi`, `echo`, `exit`) or comment. */
function headline(script: string): string {
  const all = lines(script);
  const guard = /^(if|then|else|elif|fi|echo|exit|set|#)\b|^#|^\s/;
  return (all.find((l) => !guard.test(l)) ?? all[0] ?? '').trim();
}

/** `` `the line that acts` (a N-line script) ``: how the journal and the plan name a command action's script. */
export function describeScript(script: string): string {
  const shown = headline(script);
  const n = lines(script).length;
  return `\`${shown.length > 120 ? `${shown.slice(0, 120)}…` : shown}\`${n > 1 ? ` (a ${n}-line script)` : ''}`;
}

/** Runs a script and fails unless it exits 0; what the error says is what a user needs to see. */
async function runChecked(
  script: string,
  what: string,
  ctx: FaultContext,
  signal?: AbortSignal,
): Promise<void> {
  if (!ctx.runCommand) throw new Error(`${what}: no shell to run it with here`);
  const result = await ctx.runCommand(script, signal, COMMAND_TIMEOUT_MS);
  if (result.exitCode !== 0) throw new Error(`${what}: ${describeFailure(result)}`);
}

/** A `command` action: its script now, its `undo` (if any) at cleanup — never aborted, so cleanup completes. */
async function runScript(
  action: Extract<KubeAction, { action: 'command' }>,
  ctx: FaultContext,
): Promise<InjectedFault> {
  await runChecked(action.run, 'command action', ctx, ctx.signal);
  const { undo } = action;
  return {
    description: `ran ${describeScript(action.run)}`,
    objects: [],
    revert: undo ? () => runChecked(undo, 'undoing a command action', ctx) : async () => undefined,
  };
}

/**
 * Runs one step of a setup or a fault; a `command` step with an `undo` is recorded (ctx.recordUndo) before its
 * command starts. The record goes when the command fails (its undo is not run then, as without a record) and
 * once the returned revert has run the undo; a failed undo keeps it for `meshdrill cleanup --run-id`.
 */
export async function runRecorded(
  action: KubeAction,
  part: 'setup' | 'fault',
  step: number,
  ctx: FaultContext,
): Promise<InjectedFault> {
  const undo = action.action === 'command' ? action.undo : undefined;
  if (action.action !== 'command' || !undo || !ctx.recordUndo) return runAction(action, ctx);
  const forget = await ctx.recordUndo({ part, step, undo, description: `ran ${describeScript(action.run)}` });
  let done: InjectedFault;
  try {
    done = await runAction(action, ctx);
  } catch (error) {
    await forget();
    throw error;
  }
  return {
    ...done,
    async revert() {
      await done.revert();
      await forget();
    },
  };
}

function readReplicas(object: KubeObject | undefined): number | undefined {
  const spec = object?.spec as { replicas?: number } | undefined;
  return spec?.replicas;
}

const handlers: { [K in FaultKind]: Handler<K> } = {
  'certificate-expiry': (fault, ctx) => injectCertificateExpiry(fault, ctx),
  async 'chaos-mesh'(fault, ctx) {
    const applied = await applyRevertibly(fault.manifest, ctx);
    const shared = sharedPodSelection(fault.manifest, ctx.defaultNamespace);
    if (!shared) return applied;
    return {
      ...applied,
      async revert() {
        await applied.revert();
        await waitForPodsReady(ctx.kube, shared, { timeoutMs: CHAOS_HEAL_TIMEOUT_MS });
      },
    };
  },
  istio: (fault, ctx) => applyRevertibly(fault.manifest, ctx),
  async kubernetes(fault, ctx) {
    const done: InjectedFault[] = [];
    try {
      for (const [index, step] of fault.steps.entries())
        done.push(await runRecorded(step, 'fault', index, ctx));
    } catch (error) {
      // Undo the steps that did happen before reporting the failure.
      for (const step of done.reverse()) await step.revert().catch(() => undefined);
      throw error;
    }
    return {
      description: done.map((d) => d.description).join('; '),
      objects: done.flatMap((d) => d.objects),
      async revert() {
        for (const step of [...done].reverse()) await step.revert();
      },
    };
  },
};

export function injectFault(fault: FaultSpec, ctx: FaultContext): Promise<InjectedFault> {
  const handler = handlers[fault.kind] as Handler<typeof fault.kind>;
  return handler(fault as never, ctx);
}

export const FAULT_KINDS = Object.keys(handlers) as FaultKind[];
