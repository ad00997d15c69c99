// Test support: boots the in-process pieces of the local target (store, controllers, kubelet) in a temp dir.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ControllerManager, startControllers } from '../../../clusters/local/controllers/index.js';
import { type Kubelet, startKubelet } from '../../../clusters/local/kubelet/index.js';
import { type Network, startNetwork } from '../../../clusters/local/network/index.js';
import {
  createBundler,
  createDefaultImageRegistry,
  type ImageRegistry,
} from '../../../clusters/local/programs/index.js';
import {
  createMemoryStore,
  type MemoryStore,
  type StoredObject,
} from '../../../clusters/local/store/index.js';
import { untilWith } from '../support/index.js';

export interface Rig {
  store: MemoryStore;
  controllers: ControllerManager;
  kubelet: Kubelet;
  network: Network;
  images: ImageRegistry;
  dir: string;
  stop(): Promise<void>;
}

export async function startRig(options: { backoffScale?: number } = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdrill-rt-'));
  const store = createMemoryStore({ gracefulPodDeletion: true });
  const images = createDefaultImageRegistry();
  const network = startNetwork({ store, dnsFile: join(dir, 'cluster-dns.json') });
  const controllers = startControllers({ store });
  const kubelet = await startKubelet({
    store,
    images,
    bundler: createBundler(join(dir, 'bin')),
    workDir: dir,
    clusterDnsFile: join(dir, 'cluster-dns.json'),
    backoffScale: options.backoffScale ?? 0.02,
  });
  return {
    store,
    controllers,
    kubelet,
    network,
    images,
    dir,
    async stop() {
      controllers.stop();
      await kubelet.stop();
      await network.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls at the runtime tests' pace: 5 s by default, every 25 ms, a throwing probe counts as "not yet". */
export const until = untilWith({ timeoutMs: 5000, intervalMs: 25, retryErrors: true });

export function pod(
  name: string,
  spec: Record<string, unknown>,
  metadata: Record<string, unknown> = {},
): StoredObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...metadata },
    spec,
  } as unknown as StoredObject;
}
