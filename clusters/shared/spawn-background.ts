// A long-running child (e.g. `kubectl port-forward`) that outlives the call that started it, with the output a
// caller waits on ("Forwarding from …") kept: harness/exec's long-lived door (own process group, lifeline,
// stopped by PID) plus the last 64 KiB of each stream.

import { type ProcessGroup, startProcessGroup } from '../../harness/exec/index.js';

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

/** What the child printed so far, and who waits for more. */
class OutputLog {
  stdout = '';
  stderr = '';
  ended = false;
  readonly listeners = new Set<() => void>();

  append(stream: 'stdout' | 'stderr', text: string): void {
    this[stream] = (this[stream] + text).slice(-KEEP);
    this.notify();
  }

  notify(): void {
    for (const l of this.listeners) l();
  }
}

export function spawnBackground(
  file: string,
  args: readonly string[],
  options: { env: Record<string, string | undefined>; cwd?: string },
): BackgroundProcess {
  const log = new OutputLog();
  const group = startProcessGroup(file, args, {
    env: options.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    onOutput: (chunk, stream) => log.append(stream, chunk.toString()),
    // A background helper must never be what keeps meshdrill running; and a kept target (`--keep-target`) ends
    // the CLI without teardown, so it is stopped when meshdrill exits instead.
    keepsAlive: false,
    stopOnExit: true,
  });
  const exited = group.closed.then(({ exitCode, signal }) => {
    const error = group.error();
    if (error) log.stderr += `\n${error.message}`;
    log.ended = true;
    log.notify();
    return { exitCode, signal: signal as string | null };
  });
  return {
    command: group.command,
    pid: group.pid ?? -1,
    output: () => ({ stdout: log.stdout, stderr: log.stderr }),
    exited,
    waitForOutput: (pattern, timeoutMs) => waitForOutput(group, log, pattern, timeoutMs),
    async stop(graceMs = 2000) {
      if (log.ended) return;
      await group.stop({ graceMs });
      await exited;
    },
  };
}

function waitForOutput(
  group: ProcessGroup,
  log: OutputLog,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  const { command } = group;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = `${log.stdout}\n${log.stderr}`.match(pattern);
      if (match) {
        finish();
        resolve(match[0]);
      } else if (log.ended) {
        finish();
        reject(
          new Error(
            `\`${command}\` exited before printing ${pattern}:\n${log.stderr.trim() || log.stdout.trim()}`,
          ),
        );
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(
        new Error(`\`${command}\` did not print ${pattern} within ${timeoutMs} ms:\n${log.stderr.trim()}`),
      );
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      log.listeners.delete(check);
    };
    log.listeners.add(check);
    check();
  });
}
