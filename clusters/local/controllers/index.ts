// The local target's controller manager: starts every controller against the store and stops them together.
// Namespace deletion and owner-reference cascades on delete happen inside the store (clusters/local/store);
// the garbage collector here sweeps orphans the cascade cannot see (an owner reference to a uid never seen).

import type { ObjectStore } from '../store/types.js';
import { startDeploymentController } from './deployment.js';
import { createEventRecorder, type EventRecorder } from './events.js';
import { type GarbageCollector, startGarbageCollector } from './garbage-collector.js';
import { startJobController } from './job.js';
import { startEndpointsController } from './endpoints.js';
import { startReplicaSetController } from './replicaset.js';
import { startTestRunController, type TestRunControllerOptions } from './testrun.js';
import type { ControllerLoop } from './work-queue.js';

export { createEventRecorder, type EventRecorder, type EventType } from './events.js';
export * from './kube-types.js';
export { matchesSelector, matchesServiceSelector, type LabelSelector } from './labels.js';
export { RESOURCES } from './resources.js';
export { computeTemplateHash, planRollingUpdate, resolveSurgeAndUnavailable } from './deployment-math.js';
export { buildSubsets, resolveTargetPort } from './endpoints.js';
export { startControllerLoop, type ControllerLoop, objectKey, splitKey } from './work-queue.js';
export { startTestRunController, type TestRunControllerOptions } from './testrun.js';

export interface ControllerManager {
  readonly events: EventRecorder;
  /** Resolves when every controller's queue is empty (tests). */
  whenIdle(): Promise<void>;
  gc: GarbageCollector;
  stop(): void;
}

export interface ControllerManagerOptions {
  store: ObjectStore;
  /** Container logs, for the k6-operator's TestRun controller (it reads its initializer's output there). */
  podLogs?: TestRunControllerOptions['podLogs'];
}

export function startControllers(options: ControllerManagerOptions): ControllerManager {
  const { store } = options;
  const events = createEventRecorder(store, { component: 'controller-manager' });
  const loops: ControllerLoop[] = [
    startDeploymentController(store, events),
    startReplicaSetController(store, events),
    startEndpointsController(store),
    startJobController(store, events),
    // The k6-operator (k6.io/v1alpha1 TestRun), which a real cluster runs as its own Deployment.
    startTestRunController(store, events, options.podLogs ? { podLogs: options.podLogs } : {}),
  ];
  const gc = startGarbageCollector(store);
  return {
    events,
    gc,
    async whenIdle(): Promise<void> {
      await Promise.all(loops.map((l) => l.whenIdle()));
      await events.flush();
    },
    stop(): void {
      for (const l of loops) l.stop();
      gc.stop();
    },
  };
}
