// Test support: one booted LocalTarget in a temp dir, with its kubectl, torn down and removed by `stop`.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLocalTarget,
  type LocalTarget,
  type LocalTargetOptions,
} from '../../../clusters/local/index.js';
import type { ProvisionOptions, TargetEnvironment } from '../../../clusters/target.js';
import { createKubectl, type Kubectl } from './kubectl.js';

export interface Booted {
  target: LocalTarget;
  env: TargetEnvironment;
  dir: string;
  /** Runs kubectl with a fresh cache directory (the dispatcher caches its version choice per server URL). */
  kubectl: Kubectl;
  stop(): Promise<void>;
}

export interface BootOptions {
  ruleFiles?: string[];
  settings?: Record<string, string>;
  backoffScale?: number;
  /** Prefix of the temp dir, so a leftover dir names the test that made it. */
  dirPrefix?: string;
  kubectlTimeoutMs?: number;
  /** Runs before any pod starts (register images, install emulations such as Chaos Mesh). */
  configure?: LocalTargetOptions['configure'];
  /** Scenario routings to run an Alertmanager each for. */
  routings?: ProvisionOptions['routings'];
  /** `--istio`: the Istio version to install (default the target's). */
  istioVersion?: string;
}

export async function bootTarget(options: BootOptions = {}): Promise<Booted> {
  const dir = mkdtempSync(join(tmpdir(), options.dirPrefix ?? 'meshdrill-e2e-'));
  const target = createLocalTarget({
    backoffScale: options.backoffScale ?? 0.05,
    ...(options.configure ? { configure: options.configure } : {}),
  });
  let env: TargetEnvironment;
  try {
    env = await target.provision({
      workDir: dir,
      ruleFiles: options.ruleFiles ?? [],
      settings: options.settings ?? {},
      ...(options.routings ? { routings: options.routings } : {}),
      ...(options.istioVersion ? { istioVersion: options.istioVersion } : {}),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    target,
    env,
    dir,
    kubectl: createKubectl(env.kubeconfigPath, dir, options.kubectlTimeoutMs),
    async stop() {
      try {
        await target.teardown();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
