// Every process the kubelet started, as a whole: the PID view (containers, what was attached to them, exec
// sessions, with their process groups) and the teardown that kills them all.

import { groupMembers, isAlive, readProcessTable, signalTree } from '../../../harness/exec/index.js';
import type { KubeletState } from './state.js';

/** How old a process table `pids()` may answer from (it feeds bookkeeping, not kills). */
const PID_VIEW_MAX_AGE_MS = 250;

/** PIDs of every live process the kubelet started (containers and exec sessions). */
export function kubeletPids(state: KubeletState): number[] {
  const out = new Set<number>(state.execPids);
  const table = readProcessTable(PID_VIEW_MAX_AGE_MS);
  for (const w of state.workers.values()) {
    for (const pid of w.pids()) for (const m of groupMembers(pid, table)) out.add(m.pid);
    for (const r of w.runners())
      for (const pid of r.attachedPids()) for (const m of groupMembers(pid, table)) out.add(m.pid);
  }
  return [...out];
}

/** Stops every pod and exec session and forgets the workers. */
export async function killAll(state: KubeletState): Promise<void> {
  const { workers } = state;
  // Teardown is not a graceful drain: a short grace, then SIGKILL, for every pod at once.
  await Promise.all([...workers.values()].map((w) => w.terminate(1).catch(() => undefined)));
  for (const pid of state.execPids) signalTree(pid, 'SIGKILL');
  for (const w of workers.values()) for (const pid of w.pids()) if (isAlive(pid)) signalTree(pid, 'SIGKILL');
  workers.clear();
}
