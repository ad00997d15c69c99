// The kubelet's side of the emulation's CRI socket (chaos-hooks.ts): container lookups and signals for the chaos
// controller, and processes started inside a container's accounting (chaos-daemon's stressors).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startProcessGroup } from '../../../harness/exec/index.js';
import { PodRuntimeError } from '../pod-runtime.js';
import type { ProgramBundler } from '../programs/bundler.js';
import type { AttachedProcess, ContainerRuntimeSocket } from './chaos-hooks.js';
import type { ContainerRunner } from './container-runner.js';
import { type KubeletState, podKey } from './state.js';

type Program = Parameters<ContainerRuntimeSocket['attachProcess']>[3];

/** Starts `program` in the container's directory and env; its pid counts towards the container's RSS until it exits. */
async function attachTo(
  runner: ContainerRunner,
  cwd: string,
  program: Program,
  args: string[],
  bundler: ProgramBundler,
): Promise<AttachedProcess> {
  const file = 'entry' in program ? process.execPath : program.path;
  const argv = 'entry' in program ? [await bundler.ensure(program.entry), ...args] : args;
  mkdirSync(cwd, { recursive: true });
  // chaos-daemon's processes do not write to the container's log: their output is drained.
  const group = startProcessGroup(file, argv, { env: { ...runner.env, PWD: cwd }, cwd });
  const pid = group.pid;
  if (pid === undefined) {
    throw new PodRuntimeError(500, `could not start ${file} in container "${runner.name}"`);
  }
  runner.attach(pid);
  const exited = group.exited.then(() => undefined);
  void exited.then(() => runner.detach(pid));
  return {
    pid,
    exited,
    async stop() {
      group.signal('SIGKILL');
      await exited;
    },
  };
}

export function createRuntimeSocket(state: KubeletState, bundler: ProgramBundler): ContainerRuntimeSocket {
  const { workers, nodeName } = state;
  return {
    lookup(namespace, pod, container) {
      const worker = workers.get(podKey(namespace, pod));
      if (!worker) return { ok: false, reason: `pod ${namespace}/${pod} is not running on node ${nodeName}` };
      const runner = worker.runner(container);
      if (!runner)
        return { ok: false, reason: `container "${container}" not found in pod ${namespace}/${pod}` };
      return { ok: true, kind: runner.kind, running: runner.instance !== undefined, pid: runner.pid() };
    },
    signal(namespace, pod, container, signal) {
      return workers.get(podKey(namespace, pod))?.runner(container)?.signal(signal) ?? false;
    },
    async attachProcess(namespace, pod, container, program, args) {
      const worker = workers.get(podKey(namespace, pod));
      const runner = worker?.runner(container);
      if (!worker || !runner?.instance) {
        throw new PodRuntimeError(
          404,
          `container "${container}" of pod ${namespace}/${pod} is not running: nothing to attach to`,
        );
      }
      return attachTo(runner, join(worker.dir, runner.name), program, args, bundler);
    },
  };
}
