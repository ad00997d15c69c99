// E2E fixture: one booted LocalTarget, and the real /usr/bin/kubectl with its own KUBECACHEDIR per call site.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecResult, run } from '../../../harness/exec/index.js';
import type { TargetEnvironment } from '../../../clusters/target.js';
import { createLocalTarget, type LocalTarget } from '../../../clusters/local/index.js';

export interface Booted {
  target: LocalTarget;
  env: TargetEnvironment;
  dir: string;
  /** Runs kubectl with a fresh cache directory (the dispatcher caches its version choice per server URL). */
  kubectl(args: string[], input?: string): Promise<ExecResult>;
  stop(): Promise<void>;
}

export async function bootTarget(options: { ruleFiles?: string[] } = {}): Promise<Booted> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdrill-e2e-'));
  const target = createLocalTarget({ backoffScale: 0.05 });
  const env = await target.provision({ workDir: dir, ruleFiles: options.ruleFiles ?? [], settings: {} });
  let n = 0;
  return {
    target,
    env,
    dir,
    kubectl(args, input) {
      const cache = join(dir, `kubecache-${n++}`);
      return run('/usr/bin/kubectl', args, {
        env: { KUBECONFIG: env.kubeconfigPath, KUBECACHEDIR: cache, HOME: dir },
        timeoutMs: 60_000,
        ...(input === undefined ? {} : { input }),
      });
    },
    async stop() {
      try {
        await target.teardown();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function expectOk(result: ExecResult): string {
  if (result.exitCode !== 0)
    throw new Error(`${result.command} exited ${result.exitCode}:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}
