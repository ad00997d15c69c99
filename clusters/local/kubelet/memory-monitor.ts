// Memory limits and metrics: one /proc scan per tick for every container's process tree (its own group and the
// processes attached to it). A container over its memory limit is OOM-killed; the samples feed metrics.k8s.io.

import { groupMembers, type ProcEntry, readProcessTable, readRssBytes } from '../../../harness/exec/index.js';
import type { PodMetrics } from '../pod-runtime.js';
import type { ContainerRunner } from './container-runner.js';
import type { PodWorker } from './pod-worker.js';
import type { KubeletState } from './state.js';

const CLOCK_TICKS = 100;

interface CpuSample {
  ticks: number;
  at: number;
  nanoCores: number;
}

export interface MemoryMonitor {
  /** PodRuntime.podMetrics: the last sampled CPU and RSS of every running container. */
  podMetrics(): PodMetrics[];
  stop(): void;
}

/** CPU use since the previous sample, in nanocores (0 for a first sample). */
function nanoCoresSince(prev: CpuSample | undefined, ticks: number, now: number): number {
  if (!prev || now <= prev.at) return 0;
  return Math.max(0, (((ticks - prev.ticks) / CLOCK_TICKS) * 1e9) / ((now - prev.at) / 1000));
}

export function startMemoryMonitor(state: KubeletState, sampleMs: number): MemoryMonitor {
  // Both keyed by the container's main pid; written by sampleRunner, read by podMetrics.
  const cpuSamples = new Map<number, CpuSample>();
  const rssOf = new Map<number, number>();

  const sampleRunner = (runner: ContainerRunner, table: ProcEntry[], now: number): void => {
    const pid = runner.pid();
    if (pid === undefined) return;
    const members = [pid, ...runner.attachedPids()].flatMap((root) => groupMembers(root, table));
    const rss = members.reduce((s, p) => s + readRssBytes(p.pid), 0);
    const ticks = members.reduce((s, p) => s + p.cpuTicks, 0);
    rssOf.set(pid, rss);
    cpuSamples.set(pid, { ticks, at: now, nanoCores: nanoCoresSince(cpuSamples.get(pid), ticks, now) });
    if (runner.memoryLimitBytes !== undefined && rss > runner.memoryLimitBytes) {
      runner.oomKill(rss, members.find((m) => m.pid === pid)?.comm ?? runner.name);
    }
  };

  const sample = (): void => {
    const table = readProcessTable(sampleMs - 10);
    const now = performance.now();
    for (const worker of state.workers.values()) {
      for (const runner of worker.runners()) sampleRunner(runner, table, now);
    }
  };
  const sampler = setInterval(sample, sampleMs);
  sampler.unref();

  const containerMetrics = (runner: ContainerRunner) => {
    const pid = runner.pid() as number;
    return {
      name: runner.name,
      cpuNanoCores: Math.round(cpuSamples.get(pid)?.nanoCores ?? 0),
      memoryBytes: rssOf.get(pid) ?? readRssBytes(pid),
    };
  };
  const podMetricsOf = (worker: PodWorker, timestamp: string): PodMetrics => ({
    namespace: worker.pod.metadata.namespace ?? 'default',
    name: worker.pod.metadata.name,
    timestamp,
    containers: worker
      .runners()
      .filter((r) => r.pid() !== undefined)
      .map(containerMetrics),
  });

  return {
    podMetrics() {
      const timestamp = new Date().toISOString();
      return [...state.workers.values()]
        .filter((w) => w.runners().some((r) => r.pid() !== undefined))
        .map((w) => podMetricsOf(w, timestamp));
    },
    stop() {
      clearInterval(sampler);
    },
  };
}
