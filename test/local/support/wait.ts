// Test support: bounded polling (`until`) and `expectOk` for subprocess results, shared by the local-target tests.

import type { ExecResult } from '../../../harness/exec/index.js';

export interface UntilOptions {
  /** Pause between probes. */
  intervalMs?: number;
  /** Treat a probe that throws as "not yet" (and report its last error on timeout) instead of failing at once. */
  retryErrors?: boolean;
}

/** Polls `probe` until it returns something other than undefined/false, failing after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  options: UntilOptions = {},
): Promise<T> {
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (!options.retryErrors) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** An `until` with other defaults, for a folder whose tests share a pace (e.g. in-process rigs poll faster). */
export function untilWith(defaults: UntilOptions & { timeoutMs: number }) {
  return <T>(
    what: string,
    probe: () => Promise<T | undefined | false> | T | undefined | false,
    timeoutMs = defaults.timeoutMs,
  ): Promise<T> => until(what, probe, timeoutMs, defaults);
}

/** The stdout of a command that must have succeeded; otherwise an error with its exit code and output. */
export function expectOk(result: ExecResult): string {
  if (result.exitCode !== 0)
    throw new Error(`${result.command} exited ${result.exitCode}:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}
