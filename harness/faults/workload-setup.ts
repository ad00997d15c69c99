// Workload setup actions (scenario `workload.setup`): Kubernetes actions run once the workload is ready — e.g.
// restart istiod and the gateway onto a plugged-in CA — each waited on until its Deployments have rolled out.
// At cleanup, after generated objects are deleted, the same actions run again so the restarted components
// leave the generated state too (istiod back on its own CA).

import { type KubeClient, describeObject, keyOf } from '../kube/index.js';
import type { KubeAction, KubeObject } from '../model/index.js';
import { describeScript, type FaultContext, resolveTargets, runAction } from './inject.js';
import { waitForRollouts } from './rollout.js';

export interface SetupOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Given the undo of each `command` action run (its `undo` script), to be run at cleanup. */
  onUndo?: (revert: () => Promise<void>, description: string) => void;
  /**
   * Records the undo of a `command` step durably before its command starts; resolves to what removes the record.
   * The record goes when the command fails (its undo is not run then, as without a record) and once the undo
   * given to `onUndo` has succeeded; a failed undo keeps it for `meshdrill cleanup --run-id`.
   */
  recordUndo?: (step: number, undo: string, description: string) => Promise<() => Promise<void>>;
}

/** Runs the actions in order, each followed by a wait for the Deployments it touched. Returns what was done. */
export async function runSetupActions(
  actions: readonly KubeAction[],
  ctx: FaultContext,
  options: SetupOptions,
): Promise<string[]> {
  const done: string[] = [];
  const deadline = Date.now() + options.timeoutMs;
  for (const [index, action] of actions.entries()) {
    const keys =
      action.action === 'apply'
        ? [keyOf(action.manifest)]
        : action.action === 'command'
          ? []
          : await resolveTargets(action.target, ctx);
    const command = action.action === 'command' ? action : undefined;
    const undo = command?.undo;
    const forget =
      command && undo && options.recordUndo
        ? await options.recordUndo(index, undo, `ran ${describeScript(command.run)}`)
        : undefined;
    let result: Awaited<ReturnType<typeof runAction>>;
    try {
      result = await runAction(action, ctx);
    } catch (error) {
      await forget?.();
      throw error;
    }
    if (undo) {
      const { revert } = result;
      options.onUndo?.(async () => {
        await revert();
        await forget?.();
      }, result.description);
    }
    await waitForRollouts(ctx.kube, keys, {
      timeoutMs: Math.max(1000, deadline - Date.now()),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    done.push(result.description);
  }
  return done;
}

/** Deletes generated objects (absent ones are fine). */
export async function deleteObjects(kube: KubeClient, objects: readonly KubeObject[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const object of objects) {
    const key = keyOf(object);
    await kube.delete(key);
    deleted.push(describeObject(key));
  }
  return deleted;
}
