// A long-running child (e.g. `kubectl port-forward`) that outlives the call that started it. harness/exec's
// `run` waits for the command to finish, so this is the one place meshdrill keeps a child in the background:
// same conventions (own process group, explicit env, output kept), stopped by PID at teardown.

import { type ChildProcess, spawn } from 'node:child_process';
import { formatCommand, holdGroup, lifelineEnv, releaseGroup } from '../../harness/exec/index.js';

export interface BackgroundProcess {
  readonly command: string;
  readonly pid: number;
  /** Output so far (clipped to the last 64 KiB per stream). */
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit code (or signal) when the process ends, for whatever reason. */
  readonly exited: Promise<{ exitCode: number | null; signal: string | null }>;
  /** Resolves once a line matching `pattern` appears on stdout/stderr; rejects when the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM to the whole group, SIGKILL after the grace period; resolves when it is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const KEEP = 64 * 1024;

export function spawnBackground(
  file: string,
  args: readonly string[],
  options: { env: Record<string, string | undefined>; cwd?: string },
): BackgroundProcess {
  const command = formatCommand(file, args);
  const child: ChildProcess = spawn(file, args, {
    cwd: options.cwd,
    env: { ...options.env, ...lifelineEnv() } as NodeJS.ProcessEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A background helper must never be what keeps meshdrill running: the exit hook below ends it instead.
  child.unref();
  const pid = child.pid;
  if (pid !== undefined) {
    // Ended by the lifeline if meshdrill is SIGKILLed before it stops it.
    holdGroup(pid);
    child.once('exit', () => releaseGroup(pid));
  }
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString()).slice(-KEEP);
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-KEEP);
    for (const l of listeners) l();
  });
  let ended = false;
  // A kept target (`--keep-target`) ends the CLI without teardown: the child must not outlive meshdrill.
  const killOnExit = (): void => killGroup('SIGTERM');
  process.once('exit', killOnExit);
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
    });
    child.on('close', (exitCode, signal) => {
      ended = true;
      process.removeListener('exit', killOnExit);
      for (const l of listeners) l();
      resolve({ exitCode, signal });
    });
  });
  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };

  return {
    command,
    pid: child.pid ?? -1,
    output: () => ({ stdout, stderr }),
    exited,
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = `${stdout}\n${stderr}`.match(pattern);
          if (match) {
            finish();
            resolve(match[0]);
          } else if (ended) {
            finish();
            reject(
              new Error(
                `\`${command}\` exited before printing ${pattern}:\n${stderr.trim() || stdout.trim()}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(`\`${command}\` did not print ${pattern} within ${timeoutMs} ms:\n${stderr.trim()}`),
          );
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 2000) {
      if (ended) return;
      killGroup('SIGTERM');
      const hard = setTimeout(() => killGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(hard);
    },
  };
}
