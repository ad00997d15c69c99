// StressChaos: a memory (and/or cpu) stressor started inside the target container through the node runtime, so
// its resident memory counts against the container's limit — past the limit the kubelet OOM-kills the container
// (OOMKilled, 137), stressor included, as the kernel does with the container's cgroup. Recovery stops it.

import { totalmem } from 'node:os';
import { isObject } from '../../store/json.js';
import type { StoredObject } from '../../store/types.js';
import { containerNames, specOf } from '../spec.js';
import { parseStressSize } from '../webhook.js';
import type { AttachedProcess } from '../../kubelet/chaos-hooks.js';
import { type ChaosHandler, chaosSource, containerTargets } from './types.js';

/** `stress` arguments for the spec's stressors (pure). */
export function stressArgs(spec: Record<string, unknown>, totalBytes: number): string[] {
  const stressors = isObject(spec.stressors) ? spec.stressors : {};
  const args: string[] = [];
  const memory = isObject(stressors.memory) ? stressors.memory : undefined;
  if (memory) {
    const workers = Math.max(1, Number(memory.workers ?? 1));
    const size = parseStressSize(typeof memory.size === 'string' ? memory.size : '256MB', totalBytes) ?? 0;
    // Chaos Mesh's memStress: `size` is the total the workers hold together.
    args.push('--vm', String(workers), '--vm-bytes', `${Math.max(1, Math.floor(size / workers / 1024))}k`);
  }
  const cpu = isObject(stressors.cpu) ? stressors.cpu : undefined;
  if (cpu) args.push('--cpu', String(Math.max(1, Number(cpu.workers ?? 1))));
  return args;
}

const running = new Map<string, AttachedProcess>();

export const stressChaosHandler: ChaosHandler = {
  targets(chaos, pods) {
    return containerTargets(pods, containerNames(chaos), 'first');
  },

  async inject(chaos, target, ctx) {
    const runtime = ctx.runtime();
    if (!runtime) return { ok: false, message: 'the node runtime is not running' };
    const meta = target.pod.metadata;
    const key = `${chaos.metadata.uid}/${target.id}`;
    if (running.has(key)) return { ok: true };
    const proc = await runtime.attachProcess(
      meta.namespace ?? 'default',
      meta.name,
      target.container ?? '',
      { entry: ctx.stressEntry },
      stressArgs(specOf(chaos), totalmem()),
    );
    running.set(key, proc);
    void proc.exited.then(() => {
      if (running.get(key) === proc) running.delete(key);
    });
    return { ok: true, message: `stressor pid ${proc.pid} in ${chaosSource(chaos)}` };
  },

  async recover(chaos: StoredObject, target, _ctx) {
    const key = `${chaos.metadata.uid}/${target.id}`;
    const proc = running.get(key);
    running.delete(key);
    await proc?.stop();
  },
};
