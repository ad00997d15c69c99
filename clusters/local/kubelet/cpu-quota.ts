// A container's CPU limit as the node enforces it: the kubelet turns `resources.limits.cpu` into a CFS bandwidth
// quota (Kubernetes' MilliCPUToQuota: quota = milliCPU × period / 1000, period 100 ms, at least 1 ms), which the
// kernel applies to the container's cgroup (`cpu.max`, "<quota µs> <period µs>", or "max <period>" unlimited).
// Local processes have no cgroup of their own, so the runtime hands the same line to the container in
// MESHDRILL_CPU_MAX; a program that models its CPU use (the emulated proxy) spends its requests against it.

import { parseQuantity } from './quantity.js';

export const CPU_MAX_ENV = 'MESHDRILL_CPU_MAX';
/** The CFS period the kubelet sets (cpuCFSQuotaPeriod, default 100 ms), in µs. */
export const CFS_PERIOD_US = 100_000;
/** The kubelet's smallest quota (MinQuotaPeriod): 1 ms. */
const MIN_QUOTA_US = 1000;

/** The container's `cpu.max` line for its `resources.limits.cpu`. */
export function cpuMaxOf(limits: Record<string, string | number> | undefined): string {
  const cores = parseQuantity(limits?.cpu);
  if (cores === undefined || !(cores > 0)) return `max ${CFS_PERIOD_US}`;
  const milli = Math.ceil(cores * 1000);
  const quota = Math.max(MIN_QUOTA_US, Math.floor((milli * CFS_PERIOD_US) / 1000));
  return `${quota} ${CFS_PERIOD_US}`;
}
