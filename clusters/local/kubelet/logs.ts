// pods/log: the current or previous instance's log of a container, read once or followed.

import { type LogOptions, type PodRuntime, PodRuntimeError } from '../pod-runtime.js';
import type { ContainerRunner } from './container-runner.js';
import { findRunner } from './find-runner.js';
import type { LogBuffer } from './log-buffer.js';
import type { KubeletState } from './state.js';

export type ContainerLogs = Pick<PodRuntime, 'readLog' | 'followLog'>;

function previousLog(runner: ContainerRunner, pod: string): LogBuffer {
  if (!runner.previousLog) {
    throw new PodRuntimeError(
      400,
      `previous terminated container "${runner.name}" in pod "${pod}" not found`,
    );
  }
  return runner.previousLog;
}

/** A container that never ran and wrote nothing has no log yet: the API server answers why it waits. */
function currentLog(runner: ContainerRunner, pod: string): LogBuffer {
  const waiting = runner.state.waiting;
  if (
    waiting &&
    !runner.instance &&
    runner.restartCount === 0 &&
    !runner.previousLog &&
    runner.currentLog.read().length === 0
  ) {
    throw new PodRuntimeError(
      400,
      `container "${runner.name}" in pod "${pod}" is waiting to start: ${waiting.reason}`,
    );
  }
  return runner.currentLog;
}

export function createContainerLogs(state: KubeletState): ContainerLogs {
  const logSource = (namespace: string, pod: string, opts: LogOptions): LogBuffer => {
    const { runner } = findRunner(state.workers, namespace, pod, opts.container);
    return opts.previous ? previousLog(runner, pod) : currentLog(runner, pod);
  };
  return {
    readLog(namespace, pod, opts) {
      return logSource(namespace, pod, opts).read(opts);
    },
    followLog(namespace, pod, opts) {
      const source = logSource(namespace, pod, opts);
      return {
        initial: source.read(opts),
        subscribe: (onData, onEnd) => source.subscribe(onData, onEnd),
      };
    },
  };
}
