// The local target's public face: createLocalTarget (the Target), runLocalCluster (the CLI's `cluster up`),
// and the extension points the Istio emulation uses (image registry, store, admission hooks).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TargetEnvironment } from '../target.js';
import {
  createLocalTarget,
  type LocalTarget,
  type LocalTargetOptions,
  type TeardownReport,
} from './local-target.js';

export {
  createLocalTarget,
  INGRESS_NAMESPACE,
  INGRESS_SERVICE,
  LOCAL_INGRESS_SERVICE_URL,
  type LocalCluster,
  type LocalTarget,
  type LocalTargetOptions,
  type TeardownReport,
} from './local-target.js';
export type { ImageMatcher, ImageProgram, ImageRegistry, Executable } from './programs/index.js';
export { programEntry } from './programs/index.js';
export { checkLocalIstioVersions, LOCAL_SETTING_DOCS, readLocalSettings } from './local-settings.js';
export { INSTALL_HINT as PROMETHEUS_INSTALL_HINT } from './prometheus/index.js';
/** The Istio versions the emulation serves (docs/local-target-fidelity.md): `--istio` may name only these. */
export { SERVED_ISTIO_VERSIONS as LOCAL_ISTIO_VERSIONS } from './mesh/versions.js';

export interface RunLocalClusterOptions extends LocalTargetOptions {
  /** Where the kubeconfig is written (mode 0600). */
  kubeconfigPath: string;
  /** State directory; default a fresh temp dir, removed afterwards. */
  workDir?: string;
  ruleFiles?: string[];
  settings?: Record<string, string>;
  onProgress?: (message: string) => void;
  /** Called once the cluster is up, with the API server URL and the environment (the CLI prints them). */
  onReady: (info: { apiUrl: string; environment: TargetEnvironment; target: LocalTarget }) => void;
  /** Resolves when it is time to stop. Default: the first SIGINT or SIGTERM this process receives. */
  until?: Promise<unknown>;
}

/**
 * `meshdrill cluster up --target local`: provisions, reports the URLs, stays up until told to stop (SIGINT or
 * SIGTERM by default), then tears everything down. Resolves with the teardown report; throws a cleanup
 * MeshdrillError if a process survived.
 */
export async function runLocalCluster(options: RunLocalClusterOptions): Promise<TeardownReport | undefined> {
  const target: LocalTarget = createLocalTarget(options);
  const ownDir = options.workDir === undefined;
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'meshdrill-local-'));
  let release: () => void = () => undefined;
  const signalled = new Promise<void>((resolve) => {
    release = resolve;
  });
  const onSignal = (): void => release();
  if (!options.until) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    const environment = await target.provision({
      workDir,
      ruleFiles: options.ruleFiles ?? [],
      settings: { ...(options.settings ?? {}), kubeconfig: options.kubeconfigPath },
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    options.onReady({ apiUrl: target.cluster?.apiServer.url ?? '', environment, target });
    await (options.until ?? signalled);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await target.teardown();
    } finally {
      if (ownDir) rmSync(workDir, { recursive: true, force: true });
    }
  }
  return target.lastTeardown;
}
