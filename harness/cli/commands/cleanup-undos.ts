// The pending undos of killed runs (harness/exec/pending-undos.ts), run by `meshdrill cleanup` before it deletes
// the run's labelled objects: a setup `command` step's undo (uninstall the Istio revision it installed) runs as
// the run's cleanup would have run it — through the one process door, the same timeout, the environment the run
// gave it (its PATH entries first) — against the context cleanup was given, never another.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildTargetEnv,
  describeFailure,
  type PendingUndoFile,
  readPendingUndos,
  removePendingUndo,
  run,
  runsWithPendingUndos,
} from '../../exec/index.js';
import { COMMAND_TIMEOUT_MS } from '../../faults/index.js';

export interface UndoRunOptions {
  /** The context cleanup acts on, and its pinned one-context kubeconfig. */
  context: string;
  kubeconfig: string;
  /** A private directory (kubectl's caches). */
  workDir: string;
  /** The process door; a test passes a fake. */
  exec?: typeof run;
  log?: (line: string) => void;
}

export interface UndoOutcome {
  runId: string;
  /** `scenario step N: ran …`, as the report lines name it. */
  name: string;
  status: 'ran' | 'failed' | 'other-context';
  detail?: string;
}

const nameOf = ({ record }: PendingUndoFile): string =>
  `${record.scenario} ${record.part} step ${record.step + 1} (${record.description})`;

/** The records of the given runs (every run that has some when `runIds` is undefined), each run's in reverse. */
export async function pendingUndosOf(
  stateDir: string,
  runIds: readonly string[] | undefined,
): Promise<PendingUndoFile[]> {
  const ids = runIds ?? (await runsWithPendingUndos(stateDir));
  const all: PendingUndoFile[] = [];
  for (const id of ids) all.push(...(await readPendingUndos(stateDir, id)));
  return all;
}

/** Runs one undo as the run would have; resolves to its outcome (its record removed only when it succeeded). */
async function runOne(entry: PendingUndoFile, options: UndoRunOptions): Promise<UndoOutcome> {
  const { record } = entry;
  const base = { runId: record.runId, name: nameOf(entry) };
  if (record.env.context !== options.context) {
    return {
      ...base,
      status: 'other-context',
      detail: `recorded on context "${record.env.context}", cleanup was given context "${options.context}": not run`,
    };
  }
  const missing = record.env.path.filter((dir) => !existsSync(dir));
  if (missing.length > 0) options.log?.(`  note: PATH entries of the run gone: ${missing.join(', ')}`);
  const env = buildTargetEnv({
    kubeconfigPath: options.kubeconfig,
    binDirs: record.env.path,
    workDir: join(options.workDir, 'undo'),
  });
  const exec = options.exec ?? run;
  const result = await exec('bash', ['-o', 'pipefail', '-c', record.undo], {
    env,
    cleanEnv: true,
    timeoutMs: COMMAND_TIMEOUT_MS,
    ...(existsSync(record.env.cwd) ? { cwd: record.env.cwd } : {}),
  });
  if (result.exitCode !== 0) return { ...base, status: 'failed', detail: describeFailure(result) };
  await removePendingUndo(entry.file);
  return { ...base, status: 'ran' };
}

/**
 * Runs the pending undos in the order given (each run's last step first), one at a time; a failed one does not
 * stop the others. With `onlyContext`, records of another context are left alone without counting as failures
 * (`cleanup --all` on one cluster of several).
 */
export async function runPendingUndos(
  entries: readonly PendingUndoFile[],
  options: UndoRunOptions & { onlyContext?: boolean },
): Promise<UndoOutcome[]> {
  const outcomes: UndoOutcome[] = [];
  for (const entry of entries) {
    if (options.onlyContext && entry.record.env.context !== options.context) {
      options.log?.(
        `skipped undo of run ${entry.record.runId}: ${nameOf(entry)} (context "${entry.record.env.context}")`,
      );
      continue;
    }
    options.log?.(
      `undoing run ${entry.record.runId}: ${nameOf(entry)}: \`${entry.record.undo.trim().split('\n')[0]}\``,
    );
    const outcome = await runOne(entry, options);
    options.log?.(
      outcome.status === 'ran' ? `  ran; record removed` : `  FAILED — ${outcome.detail ?? ''}`.trimEnd(),
    );
    outcomes.push(outcome);
  }
  return outcomes;
}
