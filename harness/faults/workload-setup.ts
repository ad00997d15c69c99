// Workload setup actions (scenario `workload.setup`): Kubernetes actions run once the workload is ready — e.g.
// restart istiod and the gateway onto a plugged-in CA — each waited on until its Deployments have rolled out.
// At cleanup, after generated objects are deleted, the same actions run again so the restarted components
// leave the generated state too (istiod back on its own CA).

import { type KubeClient, describeObject, keyOf } from '../kube/index.js';
import type { KubeAction, KubeObject } from '../model/index.js';
import { type FaultContext, resolveTargets, runRecorded } from './inject.js';
import { waitForRollouts } from './rollout.js';

export interface SetupOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Given the undo of each `command` action run (its `undo` script), to be run at cleanup. */
  onUndo?: (revert: () => Promise<void>, description: string) => void;
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
    // Recorded before a command with an undo starts (ctx.recordUndo), so cleanup can undo it after a SIGKILL.
    const result = await runRecorded(action, 'setup', index, ctx);
    if (action.action === 'command' && action.undo) options.onUndo?.(result.revert, result.description);
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
