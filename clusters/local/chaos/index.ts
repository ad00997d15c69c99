// The Chaos Mesh emulation of the local target: its public face. `installChaosMesh` is what the target's
// `configure` calls — webhooks on the chaos kinds, the pause image, and the controller-manager.

import { programEntry } from '../programs/default-images.js';
import type { ImageRegistry } from '../programs/registry.js';
import type { ObjectStore } from '../store/types.js';
import { type ChaosController, startChaosController } from './controller.js';
import { registerPauseImage } from './pause-image.js';
import { CHAOS_KINDS } from './spec.js';
import { installChaosWebhooks } from './webhook.js';

export { PAUSE_IMAGE } from './actions/pod-chaos.js';
export type { ChaosController } from './controller.js';
export { parseGoDuration } from './go-duration.js';
export { filterPods, matchesSelector, pickByMode } from './selector.js';
export { CHAOS_KINDS, type ChaosKind, FINALIZER, PAUSE_ANNOTATION } from './spec.js';
export { buildChaosStatus } from './status.js';
export { applyChaosDefaults, parseStressSize, schemaErrors, webhookErrors } from './webhook.js';

export interface ChaosMeshInstall {
  readonly controller: ChaosController;
  stop(): Promise<void>;
}

/**
 * Installs Chaos Mesh on a local cluster from the target's `configure` hook:
 * `createLocalTarget({ configure: (c) => { installChaosMesh(c); } })`. Works before or after the kubelet starts
 * (the controller reaches the node runtime when it first needs it). Stop it before the store goes away.
 */
export function installChaosMesh(cluster: {
  store: ObjectStore;
  images: ImageRegistry;
  workDir: string;
}): ChaosMeshInstall {
  installChaosWebhooks(cluster.store, CHAOS_KINDS);
  registerPauseImage(cluster.images);
  const controller = startChaosController({
    store: cluster.store,
    workDir: cluster.workDir,
    stressEntry: programEntry('./stress/main.ts'),
  });
  return { controller, stop: () => controller.stop() };
}
