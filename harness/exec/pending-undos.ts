// Pending undos: the durable record of a setup `command` action's `undo` that has not run yet, so that
// `meshdrill cleanup --run-id` can run it after the run was killed with SIGKILL (its memory gone).
//
// Kept on the SRE's machine, in meshdrill's state directory, never in the cluster: cleanup executes the text it
// reads back, and anyone who can write a ConfigMap in the cluster must not get to run code on this machine.
// One file per step: <state-dir>/pending-undos/<run-id>/<seq>.json, written atomically (tmp + rename) before the
// step's command starts, removed once its undo has run (or the step is known to need none).

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PendingUndoRecord {
  version: 1;
  runId: string;
  /** The scenario (variant) whose workload setup or fault holds the step, and the step's index there. */
  scenario: string;
  part: 'setup' | 'fault';
  step: number;
  /** How the journal names the step's command. */
  description: string;
  /** The shell text of the undo, as the scenario file gave it. */
  undo: string;
  env: {
    /** The kubeconfig context the run acted on: cleanup runs the undo only against the same one. */
    context: string;
    /** The kubeconfig the run gave the command (informative: cleanup pins its own copy of that context). */
    kubeconfig: string;
    /** Directories the run put first on PATH (the target's istioctl, the `istioctl-<v>` links). */
    path: string[];
    cwd: string;
  };
  /** When the record was written (ISO 8601). */
  recordedAt: string;
}

/** What recording a step needs; the run fills in the rest. */
export type PendingUndoStep = Pick<PendingUndoRecord, 'scenario' | 'part' | 'step' | 'description' | 'undo'>;

export interface PendingUndoFile {
  file: string;
  record: PendingUndoRecord;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A run id is a path segment here: anything else (`..`, a slash) is refused. */
export const isRunId = (runId: string): boolean => SAFE_ID.test(runId) && !runId.includes('..');

function checkRunId(runId: string): string {
  if (!isRunId(runId)) throw new Error(`not a run id: ${JSON.stringify(runId)}`);
  return runId;
}

export const pendingUndoRoot = (stateDir: string): string => join(stateDir, 'pending-undos');

/**
 * Writes the record of one step before its command starts; returns what removes it. The file name orders the
 * records of a run as their steps ran (time, then a counter), so cleanup can undo them in reverse.
 */
export async function recordPendingUndo(
  stateDir: string,
  record: Omit<PendingUndoRecord, 'version' | 'recordedAt'>,
  now: Date = new Date(),
): Promise<() => Promise<void>> {
  const dir = join(pendingUndoRoot(stateDir), checkRunId(record.runId));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = `${String(now.getTime()).padStart(15, '0')}-${String(sequence++).padStart(6, '0')}-${randomBytes(3).toString('hex')}.json`;
  const file = join(dir, name);
  const tmp = `${file}.tmp`;
  const full: PendingUndoRecord = { version: 1, ...record, recordedAt: now.toISOString() };
  await writeFile(tmp, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
  return () => removePendingUndo(file);
}
let sequence = 0;

/** Removes one record, and the run's directory once it is empty. */
export async function removePendingUndo(file: string): Promise<void> {
  await rm(file, { force: true });
  await rmdir(join(file, '..')).catch(() => undefined);
}

/** The run ids that have records. */
export async function runsWithPendingUndos(stateDir: string): Promise<string[]> {
  const entries = await readdir(pendingUndoRoot(stateDir), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && SAFE_ID.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** The records of a run, in the order cleanup runs them: the reverse of the order their steps ran. */
export async function readPendingUndos(stateDir: string, runId: string): Promise<PendingUndoFile[]> {
  const dir = join(pendingUndoRoot(stateDir), checkRunId(runId));
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
  const found: PendingUndoFile[] = [];
  for (const name of names.reverse()) {
    const file = join(dir, name);
    const record = JSON.parse(await readFile(file, 'utf8')) as PendingUndoRecord;
    if (record.version !== 1 || typeof record.undo !== 'string' || record.runId !== runId) {
      throw new Error(`${file}: not a pending-undo record of run ${runId}`);
    }
    found.push({ file, record });
  }
  return found;
}
