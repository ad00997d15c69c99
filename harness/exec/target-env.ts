// The environment every command aimed at the target gets (runbook steps, `command` conditions): KUBECONFIG
// pinned to the target, a private KUBECACHEDIR, the target's bin dirs first on PATH — never the user's context.

import { join } from 'node:path';

export interface TargetEnvOptions {
  kubeconfigPath: string;
  binDirs: readonly string[];
  /** A directory private to this run; kubectl's discovery and version caches live below it. */
  workDir: string;
  /** Extra variables (e.g. the runbook's bound variables). */
  extra?: Record<string, string>;
}

/**
 * Variables that would let a command escape to another cluster or context: kubectl's (`KUBECONFIG`,
 * `KUBECACHEDIR`, `KUBE_CONTEXT`…), helm's (`HELM_KUBECONTEXT`, `HELM_KUBEAPISERVER`, `HELM_KUBETOKEN`,
 * `HELM_KUBECAFILE`…), istioctl's, and the in-cluster service account's address.
 */
const LEAKY = /^(KUBE|HELM_KUBE|ISTIOCTL_|KUBERNETES_SERVICE_)/;

export function buildTargetEnv(
  options: TargetEnvOptions,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !LEAKY.test(key)) env[key] = value;
  }
  env.KUBECONFIG = options.kubeconfigPath;
  env.KUBECACHEDIR = join(options.workDir, 'kube-cache');
  env.PATH = [...options.binDirs, base.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(':');
  return { ...env, ...(options.extra ?? {}) };
}
