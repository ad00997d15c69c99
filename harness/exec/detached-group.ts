// The mechanics of a long-lived child in a process group of its own, without the lifeline: the lifeline's own
// watcher starts through here (it cannot hold itself), and process-group.ts adds the lifeline for every other
// caller. The group is what is signalled, so a stop reaches everything the child forked.

import { type ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { killOnProcessExit } from './exit-kills.js';
import { groupMembers, isAlive, readProcessTable, signalTree } from './process-table.js';

/** How a process ended, as Node reports it (a failed start closes with a negative errno and no signal). */
export interface ProcessExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export type OutputStream = 'stdout' | 'stderr';

export interface ProcessGroupOptions {
  /** The child's whole environment: nothing is inherited that is not here. */
  env: Record<string, string | undefined>;
  cwd?: string;
  /** A writable stdin (interactive sessions, a control pipe); default: none. */
  stdin?: boolean;
  /**
   * Where stdout and stderr go: `pipe` (default: to `onOutput`, drained when there is none, so a chatty child
   * never blocks on a full pipe), `ignore`, or a file descriptor both share (a log file; the caller may close its
   * copy once this returns).
   */
  output?: 'pipe' | 'ignore' | number;
  onOutput?(chunk: Buffer, stream: OutputStream): void;
  /** false: neither the child nor its pipes keep meshdrill's event loop alive (background helpers). */
  keepsAlive?: boolean;
  /** SIGTERM to the tree should meshdrill exit without having stopped it (a kept target skips teardown). */
  stopOnExit?: boolean;
}

export interface ProcessGroup {
  /** The command line as a human would type it. */
  readonly command: string;
  /** The leader's PID, which is also the group's ID; undefined when the binary could not be started. */
  readonly pid: number | undefined;
  /** With `stdin: true`; errors on it (the child closed its end) are swallowed. */
  readonly stdin: Writable | null;
  /** The leader exited (or the start failed). Its output may still be arriving. */
  readonly exited: Promise<ProcessExit>;
  /** The leader exited and its output pipes closed: every chunk has been delivered. */
  readonly closed: Promise<ProcessExit>;
  /** Why it could not start (ENOENT, EACCES), once Node has said so. */
  error(): Error | undefined;
  hasExited(): boolean;
  isClosed(): boolean;
  /** Signals the group and any descendant that escaped it (setsid). */
  signal(signal: NodeJS.Signals): void;
  /**
   * SIGTERM to the tree, SIGKILL after `graceMs` (default 2000) unless it closed first; resolves once it has.
   * Idempotent: a closed group is not signalled again.
   */
  stop(options?: { graceMs?: number }): Promise<ProcessExit>;
  /** Proof by PID: neither the leader nor any member of its group is alive (zombies count as gone). */
  gone(): boolean;
}

export const DEFAULT_STOP_GRACE_MS = 2000;

/** Starts `file` as the leader of a new process group. Never throws for a binary that cannot start. */
export function spawnDetachedGroup(
  file: string,
  args: readonly string[],
  command: string,
  options: ProcessGroupOptions,
): ProcessGroup {
  const output = options.output ?? 'pipe';
  const child: ChildProcess = spawn(file, args, {
    cwd: options.cwd,
    env: options.env as NodeJS.ProcessEnv,
    detached: true,
    stdio: [options.stdin ? 'pipe' : 'ignore', output, output],
  });
  const pid = child.pid;
  if (options.keepsAlive === false) unrefAll(child);
  child.stdin?.on('error', () => undefined);
  forwardOutput(child, options.onOutput);

  let startError: Error | undefined;
  let exitedFlag = false;
  let closedFlag = false;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.on('exit', (exitCode, signal) => {
      exitedFlag = true;
      resolve({ exitCode, signal });
    });
    child.on('error', (error) => {
      startError ??= error;
      resolve({ exitCode: null, signal: null });
    });
  });
  const closed = new Promise<ProcessExit>((resolve) => {
    child.on('close', (exitCode, signal) => {
      closedFlag = true;
      resolve({ exitCode, signal });
    });
  });
  const signal = (sig: NodeJS.Signals): void => {
    if (pid !== undefined) signalTree(pid, sig);
  };
  if (options.stopOnExit && pid !== undefined) {
    const forget = killOnProcessExit(() => signal('SIGTERM'));
    void closed.then(forget);
  }

  return {
    command,
    pid,
    stdin: child.stdin,
    exited,
    closed,
    error: () => startError,
    hasExited: () => exitedFlag,
    isClosed: () => closedFlag,
    signal,
    async stop({ graceMs = DEFAULT_STOP_GRACE_MS } = {}) {
      if (closedFlag || pid === undefined) return closed;
      signal('SIGTERM');
      const hard = setTimeout(() => signal('SIGKILL'), Math.max(0, graceMs));
      try {
        return await closed;
      } finally {
        clearTimeout(hard);
      }
    },
    gone: () => pid === undefined || isGone(pid),
  };
}

function isGone(pid: number): boolean {
  return !isAlive(pid) && groupMembers(pid, readProcessTable()).length === 0;
}

function unrefAll(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as { unref?: () => void } | null)?.unref?.();
  }
}

function forwardOutput(child: ChildProcess, onOutput: ProcessGroupOptions['onOutput']): void {
  for (const [stream, name] of [
    [child.stdout, 'stdout'],
    [child.stderr, 'stderr'],
  ] as const) {
    if (!stream) continue;
    if (onOutput) stream.on('data', (chunk: Buffer) => onOutput(chunk, name));
    else stream.resume();
  }
}
