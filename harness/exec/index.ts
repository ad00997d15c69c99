// The one door for subprocesses (STYLE.md §7): kind, kubectl, istioctl, helm, prometheus, runbook steps.
// Two ways through it: `run` for a command that runs to completion — one result shape; a non-zero exit is data,
// not an exception, unless the caller asks for `check` — and `startProcessGroup` (process-group.ts) for a child
// that outlives the call that started it. Children get their own process group so a timeout, abort or stop kills
// grandchildren too (`kubectl … &`).

import { MeshdrillError } from '../model/index.js';
import { formatCommand } from './format.js';
import { holdGroup, lifelineEnv, releaseGroup } from './lifeline.js';
import { signalGroup } from './process-table.js';

export interface ExecResult {
  /** The command line as a human would type it. */
  command: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** Set when the binary could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
}

export interface ExecOptions {
  cwd?: string;
  /** Merged over process.env unless `cleanEnv` is set. */
  env?: Record<string, string | undefined>;
  cleanEnv?: boolean;
  input?: string;
  timeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL on timeout or abort. */
  killGraceMs?: number;
  signal?: AbortSignal;
  /** Called with each chunk of output as it arrives (live progress, journaling). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Cap on the output kept in the result, per stream (the middle is elided). */
  maxOutputBytes?: number;
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;

/** Keeps the head and tail of long output, marking what was cut. */
export function clipOutput(text: string, maxBytes: number): string {
  if (text.length <= maxBytes) return text;
  const half = Math.floor(maxBytes / 2);
  return `${text.slice(0, half)}\n… [${text.length - 2 * half} characters elided] …\n${text.slice(-half)}`;
}

/** Runs a command to completion. Never throws for a non-zero exit, a timeout or a missing binary. */
export async function run(
  file: string,
  args: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const started = performance.now();
  const command = formatCommand(file, args);
  const maxOut = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  // Marked and held by the lifeline while it runs: a runbook step (and what it forks) must not outlive a
  // meshdrill killed with SIGKILL.
  const env = { ...(options.cleanEnv ? options.env : { ...process.env, ...options.env }), ...lifelineEnv() };
  let timedOut = false;

  // Imported on first use: commands that run nothing (validate, report) start without it.
  const { execa } = await import('execa');
  const child = execa(file, args, {
    cwd: options.cwd,
    env: env as Record<string, string>,
    extendEnv: false,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    reject: false,
    detached: true,
    cleanup: true,
    stripFinalNewline: false,
    buffer: true,
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });

  if (child.pid !== undefined) holdGroup(child.pid);
  const killGroup = (sig: NodeJS.Signals): void => {
    if (child.pid !== undefined) signalGroup(child.pid, sig);
  };
  const terminate = (): void => {
    killGroup('SIGTERM');
    const hard = setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? 2000);
    hard.unref();
  };

  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          terminate();
        }, options.timeoutMs);
  const onAbort = (): void => terminate();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) terminate();

  if (options.onOutput) {
    const forward = options.onOutput;
    child.stdout?.on('data', (chunk: Buffer | string) => forward(chunk.toString(), 'stdout'));
    child.stderr?.on('data', (chunk: Buffer | string) => forward(chunk.toString(), 'stderr'));
  }

  const result = await child;
  if (timer) clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  // A finished leader may leave children behind in its group (`sleep 100 &`): they go with it.
  killGroup('SIGKILL');
  if (child.pid !== undefined) releaseGroup(child.pid);

  const spawnFailed =
    result.failed && result.exitCode === undefined && result.signal === undefined && !timedOut;
  return {
    command,
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stdout: clipOutput(String(result.stdout ?? ''), maxOut),
    stderr: clipOutput(String(result.stderr ?? ''), maxOut),
    durationMs: Math.round(performance.now() - started),
    timedOut,
    ...(spawnFailed ? { spawnError: result.shortMessage ?? result.message } : {}),
  };
}

/** Explains a failed result the way a user needs it: what ran, how it ended, and the tail of stderr. */
export function describeFailure(result: ExecResult): string {
  const how = result.spawnError
    ? `could not start: ${result.spawnError}`
    : result.timedOut
      ? `timed out after ${result.durationMs} ms`
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited with code ${result.exitCode}`;
  const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-8).join('\n');
  return `\`${result.command}\` ${how}${tail ? `:\n${tail}` : ''}`;
}

/** Runs a command that must succeed; otherwise throws an environment error that keeps the result. */
export async function runChecked(
  file: string,
  args: readonly string[],
  options: ExecOptions & { hint?: string } = {},
): Promise<ExecResult> {
  const result = await run(file, args, options);
  if (result.exitCode !== 0) {
    throw new MeshdrillError('environment', describeFailure(result), {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      cause: result,
    });
  }
  return result;
}

/** Finds an executable on PATH (or the given PATH string), without running it. */
export async function which(name: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const { join } = await import('node:path');
  for (const dir of pathEnv.split(':')) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
export { formatCommand } from './format.js';
export { runSyncChecked, type SyncRunOptions } from './run-sync.js';
export {
  DEFAULT_STOP_GRACE_MS,
  type OutputStream,
  type ProcessExit,
  type ProcessGroup,
  type ProcessGroupOptions,
  startProcessGroup,
} from './process-group.js';
export {
  groupMembers,
  isAlive,
  type ProcEntry,
  readProcessTable,
  readRssBytes,
  signalGroup,
  signalTree,
} from './process-table.js';
export { killOnProcessExit, runExitKillsForTest } from './exit-kills.js';
export {
  holdDirectory,
  holdGroup,
  LIFELINE_MARKER,
  closeLifeline,
  lifelineEnv,
  lifelinePid,
  releaseDirectory,
  releaseGroup,
} from './lifeline.js';
export * from './target-env.js';
export * from './pending-undos.js';
