// Runs the external tools of a real-cluster target through harness/exec, resolving each on the host's PATH
// so a test's fake binaries are found first, and keeping every command line for the journal and for tests.

import { type ExecOptions, type ExecResult, run, runChecked, which } from '../../harness/exec/index.js';
import { MeshdrillError } from '../../harness/model/index.js';
import type { Host } from './host.js';
import { installHintOf } from './install-hints.js';

export interface ToolRunner {
  readonly host: Host;
  /** Every command run so far, in order (as a human would type it). */
  readonly commands: string[];
  /** Runs a tool by name (looked up on the host's PATH) or by path; a non-zero exit is data. */
  run(tool: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Like run, but a non-zero exit throws an environment error carrying `hint`. */
  runChecked(
    tool: string,
    args: readonly string[],
    options?: ExecOptions & { hint?: string },
  ): Promise<ExecResult>;
  which(tool: string): Promise<string | undefined>;
  progress(message: string): void;
}

export interface ToolRunnerOptions {
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Extra environment for every tool (e.g. KIND_EXPERIMENTAL_PROVIDER=podman). */
  env?: Record<string, string | undefined>;
}

export function createToolRunner(host: Host, options: ToolRunnerOptions = {}): ToolRunner {
  const commands: string[] = [];
  const env = { ...host.env, ...options.env };

  const resolve = async (tool: string): Promise<string> => {
    if (tool.includes('/')) return tool;
    const found = await which(tool, env.PATH ?? '');
    if (!found) {
      throw new MeshdrillError('environment', `\`${tool}\` is not on PATH`, { hint: installHintOf(tool) });
    }
    return found;
  };
  const merge = (extra: ExecOptions | undefined): ExecOptions => ({
    ...extra,
    // The host's environment replaces process.env so PATH (and HOME) are exactly what the caller chose.
    env: { ...env, ...extra?.env },
    cleanEnv: true,
    ...(options.signal && !extra?.signal ? { signal: options.signal } : {}),
  });

  return {
    host,
    commands,
    async run(tool, args, extra) {
      const file = await resolve(tool);
      commands.push([tool, ...args].join(' '));
      return run(file, args, merge(extra));
    },
    async runChecked(tool, args, extra = {}) {
      const file = await resolve(tool);
      commands.push([tool, ...args].join(' '));
      return runChecked(file, args, { ...merge(extra), ...(extra.hint ? { hint: extra.hint } : {}) });
    },
    which: (tool) => which(tool, env.PATH ?? ''),
    progress: (message) => options.onProgress?.(message),
  };
}
