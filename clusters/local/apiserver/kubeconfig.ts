// Writes the kubeconfig that real kubectl, client-node and runbook steps use to reach the local API server.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export const KUBECONFIG_CONTEXT = 'meshdrill-local';

export interface KubeconfigOptions {
  url: string;
  token: string;
  namespace?: string;
}

/** The kubeconfig document (pure; see writeKubeconfig for the file). */
export function buildKubeconfig(options: KubeconfigOptions): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: KUBECONFIG_CONTEXT, cluster: { server: options.url, 'insecure-skip-tls-verify': true } },
    ],
    users: [{ name: KUBECONFIG_CONTEXT, user: { token: options.token } }],
    contexts: [
      {
        name: KUBECONFIG_CONTEXT,
        context: {
          cluster: KUBECONFIG_CONTEXT,
          user: KUBECONFIG_CONTEXT,
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    'current-context': KUBECONFIG_CONTEXT,
    preferences: {},
  });
}

/** Writes the kubeconfig with mode 0600 (it holds the token), creating the directory if needed. */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, buildKubeconfig(options), { mode: 0o600 });
  // writeFile's mode applies only to a new file; an existing one keeps its mode unless changed explicitly.
  await chmod(path, 0o600);
}
