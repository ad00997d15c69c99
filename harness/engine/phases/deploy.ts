// deploy: the namespace, the objects generated for this variant, the workload's setup actions, the workload
// itself; done once its Deployments are ready and the ingress routes to it.

import { deleteObjects, runSetupActions } from '../../faults/index.js';
import { labelForRun } from '../../kube/index.js';
import { generateManifests } from '../../scenario/index.js';
import {
  type ApplyAllOptions,
  applyAll,
  buildNamespace,
  buildWorkload,
  deleteNamespace,
  refuseForeignNamespace,
  waitForDeployments,
  waitForRoute,
} from '../deploy.js';
import { faultContext, type VariantContext } from './context.js';
import type { VariantState } from './state.js';

export async function deploy(v: VariantContext, state: VariantState): Promise<void> {
  const { ctx, scenario, runner, tuning } = v;
  // Deleted only once claimed: a namespace the drill refused to take over is never touched.
  runner.onCleanup('delete the workload namespace', async () => {
    if (state.namespaceClaimed)
      await deleteNamespace(ctx.kube, scenario.namespace, tuning.namespaceDeleteTimeoutMs);
  });
  // Generated objects (a plug-in CA made for this variant) and setup actions prepare the cluster the workload
  // runs on; at cleanup the generated objects go and setup runs again, so restarted components leave them.
  runner.onCleanup('remove generated objects and re-run workload setup', async () => {
    if (state.generated.length === 0) return;
    await deleteObjects(ctx.kube, state.generated);
    // Commands are not re-run: their own undo (below) takes back what they did.
    const rerun = (scenario.workload.setup ?? []).filter((a) => a.action !== 'command');
    await runSetupActions(rerun, faultContext(v), { timeoutMs: scenario.timeouts.cleanup / 2 });
  });
  // Registered after, so it runs before (teardowns run in reverse): a setup command's undo (uninstalling the
  // control plane it installed) runs after the fault's, and before the namespace goes.
  runner.onCleanup('undo the workload setup commands', async () => {
    for (const { revert } of [...state.setupUndos].reverse()) {
      await revert().catch((error: unknown) => {
        if (!ctx.recordPendingUndo) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `${message}\n(the undo stays recorded: \`meshdrill cleanup --run-id ${ctx.runId}\` runs it again)`,
        );
      });
    }
  });
  await runner.phase('deploy', scenario.timeouts.deploy, async (signal) => {
    await refuseForeignNamespace(ctx.kube, scenario);
    state.namespaceClaimed = true;
    await ctx.kube.apply(buildNamespace(scenario, ctx.runId));
    state.generated = (await generateManifests(scenario.workload.generate ?? [])).map((o) =>
      labelForRun(o, ctx.runId, scenario.name),
    );
    const applyOptions = applyOptionsFor(v, signal);
    await applyAll(ctx.kube, state.generated, applyOptions);
    await runSetupActions(scenario.workload.setup ?? [], faultContext(v, signal), {
      timeoutMs: scenario.workload.readyTimeoutMs,
      signal,
      onUndo: (revert, description) => state.setupUndos.push({ description, revert }),
    });
    await applyAll(ctx.kube, buildWorkload(scenario, ctx.runId), applyOptions);
    await waitForWorkload(v, signal);
  });
}

/** How objects are applied: retried while an admission webhook is unreachable, each wait journaled. */
function applyOptionsFor(v: VariantContext, signal: AbortSignal): ApplyAllOptions {
  const { ctx, scenario, tuning } = v;
  return {
    signal,
    retryPollMs: tuning.deployPollMs,
    onWebhookWait: (object: string, error: Error) =>
      ctx.journal.append({
        type: 'log',
        level: 'warn',
        scenario: scenario.name,
        message: `deploy: ${object} waits for an admission webhook the API server cannot reach yet (${error.message}); retrying until the deploy deadline`,
      }),
  };
}

/** Until the Deployments are ready and the ingress routes the first request's path. */
async function waitForWorkload(v: VariantContext, signal: AbortSignal): Promise<void> {
  const { ctx, scenario, tuning } = v;
  await waitForDeployments(ctx.kube, scenario.namespace, signal, tuning.deployPollMs);
  const first = scenario.load.requests[0];
  if (first && !tuning.skipRouteWait) {
    await waitForRoute(ctx.ingressUrl, first.path, scenario.load.host, signal, tuning.deployPollMs);
  }
}
