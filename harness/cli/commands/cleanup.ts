// `meshdrill cleanup`: for runs that were killed before their own cleanup — run the setup commands' undos the run
// recorded in the state directory (cleanup-undos.ts), then delete every object carrying the run-id label (or any
// meshdrill run's, with --all) and prove none is left.
//
// It deletes, so it never guesses the cluster: the context is named (--context), or the kubeconfig defines one
// context only (the run's own pinned copy). KUBECONFIG may be a list, merged as kubectl merges it.

import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  kubeconfigPathsOf,
  listContexts,
  readKubeconfigFiles,
  writePinnedKubeconfig,
} from '../../../clusters/existing/index.js';
import { isRunId, type PendingUndoFile } from '../../exec/index.js';
import { createKubeClient, deleteRunObjects } from '../../kube/index.js';
import { stateDir } from '../../util/state-dir.js';
import { invalidInput, EXIT_CODES } from '../../model/errors.js';
import type { CliArgs } from '../args.js';
import { pendingUndosOf, runPendingUndos } from './cleanup-undos.js';

/** The context cleanup acts on: the one named, or the only one the files define; otherwise a clear refusal. */
export async function chooseCleanupContext(
  paths: readonly string[],
  named: string | undefined,
): Promise<string> {
  if (named) return named;
  const contexts = listContexts(await readKubeconfigFiles(paths));
  if (contexts.length === 1 && contexts[0]) return contexts[0];
  throw invalidInput(
    `cleanup: expected --context NAME: ${paths.join(delimiter)} defines ${contexts.length} contexts` +
      `${contexts.length > 0 ? ` (${contexts.join(', ')})` : ''}, and cleanup deletes objects, so it never ` +
      'falls back to the current context',
    "name the context the run used (results.json: versions.context), or pass --kubeconfig with the run's own one-context copy",
  );
}

export async function cleanupCommand(args: CliArgs, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!args.runId && !args.all) {
    throw invalidInput('cleanup: expected --run-id ID (see runs/<run-id>/) or --all for every meshdrill run');
  }
  if (args.runId && !isRunId(args.runId))
    throw invalidInput(`cleanup: --run-id ${JSON.stringify(args.runId)} is no run id`);
  const runIds = args.all ? undefined : [args.runId ?? ''];
  const pending = await pendingUndosOf(stateDir(env), runIds);
  if (args.dryRun) return listPending(pending);
  const paths = kubeconfigPathsOf(args.kubeconfig, env, homedir());
  const context = await chooseCleanupContext(paths, args.context);
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-cleanup-'));
  try {
    const pinned = join(dir, 'kubeconfig');
    await writePinnedKubeconfig(paths, context, pinned, '--context');
    console.log(`cleaning context "${context}"`);
    // Before the labelled objects go: an undo may need the drill's namespace, as at the run's own cleanup.
    const undos = await runPendingUndos(pending, {
      context,
      kubeconfig: pinned,
      workDir: dir,
      onlyContext: args.all,
      log: (line) => console.log(line),
    });
    const kube = createKubeClient(pinned, context);
    const result = await deleteRunObjects(kube, args.all ? undefined : args.runId, { timeoutMs: 120_000 });
    for (const name of result.restored) console.log(`restored ${name}`);
    for (const name of result.removed) console.log(`deleted ${name}`);
    const failedUndos = undos.filter((u) => u.status !== 'ran');
    for (const u of failedUndos) {
      console.error(
        `CLEANUP FAILED — undo of run ${u.runId} not done (record kept): ${u.name}: ${u.detail ?? ''}`,
      );
    }
    if (result.leftover.length > 0) {
      console.error(`CLEANUP FAILED — still present: ${result.leftover.join(', ')}`);
    }
    if (failedUndos.length > 0 || result.leftover.length > 0) return EXIT_CODES.cleanupFailed;
    console.log(
      `${undos.length > 0 ? `${undos.length} pending undo(s) run, ` : ''}${result.restored.length} object(s) restored, ${result.removed.length} removed; nothing carrying the run's labels is left`,
    );
    return EXIT_CODES.passed;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `cleanup --dry-run`: the pending undos that cleanup would run, in its order; nothing is run or deleted. */
function listPending(pending: readonly PendingUndoFile[]): number {
  for (const { record } of pending) {
    console.log(
      `would undo run ${record.runId} on context "${record.env.context}": ${record.scenario} ${record.part} step ${record.step + 1} (recorded ${record.recordedAt}):\n  ${record.undo.trim().split('\n').join('\n  ')}`,
    );
  }
  console.log(`dry run: ${pending.length} pending undo(s); nothing was run or deleted`);
  return EXIT_CODES.passed;
}
