// Reaches an in-cluster Service from this host through `kubectl port-forward` on a free local port, using the
// target's own kubeconfig (never the user's current context). Teardown stops it by PID.

import { createServer } from 'node:net';
import { which } from '../../harness/exec/index.js';
import { MeshdrillError } from '../../harness/model/index.js';
import type { Host } from './host.js';
import { installHintOf } from './install-hints.js';
import { type BackgroundProcess, spawnBackground } from './spawn-background.js';

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PortForwardSpec {
  kubeconfigPath: string;
  namespace: string;
  /** `svc/prometheus`, `deploy/x`, `pod/y`. */
  resource: string;
  remotePort: number;
  /** 0 or absent: a free port. */
  localPort?: number;
}

export interface PortForward {
  url: string;
  localPort: number;
  process: BackgroundProcess;
  stop(): Promise<void>;
}

/** The kubectl arguments of a port-forward (pure). */
export function buildPortForwardArgs(spec: PortForwardSpec, localPort: number): string[] {
  return [
    '--kubeconfig',
    spec.kubeconfigPath,
    '--namespace',
    spec.namespace,
    'port-forward',
    '--address',
    '127.0.0.1',
    spec.resource,
    `${localPort}:${spec.remotePort}`,
  ];
}

export async function startPortForward(
  host: Host,
  spec: PortForwardSpec,
  options: { readyTimeoutMs?: number; commands?: string[] } = {},
): Promise<PortForward> {
  const kubectl = await which('kubectl', host.env.PATH ?? '');
  if (!kubectl) {
    throw new MeshdrillError('environment', '`kubectl` is not on PATH (needed for the port-forward)', {
      hint: installHintOf('kubectl'),
    });
  }
  const localPort = spec.localPort || (await findFreePort());
  const args = buildPortForwardArgs(spec, localPort);
  options.commands?.push(['kubectl', ...args].join(' '));
  const child = spawnBackground(kubectl, args, { env: host.env });
  try {
    await child.waitForOutput(/Forwarding from 127\.0\.0\.1:\d+/, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await child.stop();
    throw new MeshdrillError(
      'environment',
      `could not port-forward to ${spec.namespace}/${spec.resource}: ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: `check that ${spec.resource} exists in ${spec.namespace} and its pods are running; local port ${localPort} must be free`,
        cause: error,
      },
    );
  }
  return { url: `http://127.0.0.1:${localPort}`, localPort, process: child, stop: () => child.stop() };
}
