// Test support: the real /usr/bin/kubectl against a target's kubeconfig, each call with its own KUBECACHEDIR.

import { join } from 'node:path';
import { type ExecResult, run } from '../../../harness/exec/index.js';
import { expectOk } from './wait.js';

export type Kubectl = (args: string[], input?: string) => Promise<ExecResult>;

/**
 * A kubectl runner. Each call gets a fresh cache directory under `dir` because the dispatcher caches its
 * version choice per server URL, and HOME points into `dir` so nothing leaks into the user's ~/.kube.
 */
export function createKubectl(kubeconfig: string, dir: string, timeoutMs = 60_000): Kubectl {
  let n = 0;
  return (args, input) =>
    run('/usr/bin/kubectl', args, {
      env: { KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, `kubecache-${n++}`), HOME: dir },
      timeoutMs,
      ...(input === undefined ? {} : { input }),
    });
}

/** A kubectl for describe-level helpers, resolved at call time (the target boots later, in `before`). */
export function lateKubectl(get: () => { kubectl: Kubectl } | undefined): Kubectl {
  return (args, input) => {
    const booted = get();
    return booted ? booted.kubectl(args, input) : Promise.reject(new Error('not booted'));
  };
}

/** Applies a workload and waits for each named deployment in `namespace` to roll out. */
export async function applyAndRollOut(
  kubectl: Kubectl,
  yaml: string,
  namespace: string,
  deployments: string[],
): Promise<void> {
  expectOk(await kubectl(['apply', '-f', '-'], yaml));
  for (const d of deployments) {
    expectOk(await kubectl(['-n', namespace, 'rollout', 'status', `deployment/${d}`, '--timeout=60s']));
  }
}
