// A container of a pod on this node, as logs and exec name it: the API server's errors when it is not here.

import { PodRuntimeError } from '../pod-runtime.js';
import type { ContainerRunner } from './container-runner.js';
import type { PodWorker } from './pod-worker.js';
import { podKey } from './state.js';

export interface FoundRunner {
  worker: PodWorker;
  runner: ContainerRunner;
}

/** The container to use when the request names none: the only app container, or a 400 listing the choices. */
function defaultContainer(worker: PodWorker, pod: string): string | undefined {
  if (worker.regular.length === 1) return worker.regular[0]?.name;
  throw new PodRuntimeError(
    400,
    `a container name must be specified for pod ${pod}, choose one of: [${worker
      .runners()
      .map((r) => r.name)
      .join(' ')}]`,
  );
}

export function findRunner(
  workers: ReadonlyMap<string, PodWorker>,
  namespace: string,
  pod: string,
  container: string | undefined,
): FoundRunner {
  const worker = workers.get(podKey(namespace, pod));
  if (!worker) throw new PodRuntimeError(404, `pods "${pod}" not found`);
  const name = container ? container : defaultContainer(worker, pod);
  const runner = worker.runner(name ?? '');
  if (!runner) {
    throw new PodRuntimeError(400, `container ${name} is not valid for pod ${pod}`);
  }
  return { worker, runner };
}
