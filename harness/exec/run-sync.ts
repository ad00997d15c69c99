// A short command waited for synchronously — for the rare caller that cannot await (a module bundled on first
// use, inside a synchronous constructor). It blocks the event loop, so it is for quick, bounded work only; a
// meshdrill killed meanwhile leaves nothing behind, because the command ends by itself a moment later.

import { execFileSync } from 'node:child_process';

export interface SyncRunOptions {
  /** Bytes of standard output kept; more fails the command (the default is Node's 1 MiB). */
  maxBuffer?: number;
}

/** Runs `file args` to completion and returns its standard output; throws with its standard error on failure. */
export function runSyncChecked(file: string, args: readonly string[], options: SyncRunOptions = {}): string {
  return execFileSync(file, args, {
    encoding: 'utf8',
    maxBuffer: options.maxBuffer,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
