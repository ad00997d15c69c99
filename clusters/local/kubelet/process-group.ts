// The kubelet's door for long-lived processes (containers, exec sessions, Prometheus): each runs in its own
// process group so a stop reaches everything it forked, and is killed by PID/group — never by name. Each group is
// held by the lifeline (harness/exec/lifeline.ts) while it runs, so it ends even when meshdrill is SIGKILLed.
// (harness/exec's `run` is for commands that run to completion; probes' exec actions use it.)

import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { holdGroup, lifelineEnv, releaseGroup } from '../../../harness/exec/index.js';

export interface SpawnGroupOptions {
  env: Record<string, string>;
  cwd: string;
  stdin?: boolean;
  /** A file descriptor for stdout and stderr both (a log file); default: pipes. */
  outputFd?: number;
}

export function spawnGroup(file: string, args: string[], options: SpawnGroupOptions): ChildProcess {
  const output = options.outputFd ?? 'pipe';
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: { ...options.env, ...lifelineEnv() },
    detached: true,
    stdio: [options.stdin ? 'pipe' : 'ignore', output, output],
  });
  const pid = child.pid;
  if (pid !== undefined) {
    holdGroup(pid);
    child.once('exit', () => releaseGroup(pid));
  }
  return child;
}

/**
 * kill(pid, 0) succeeds, and the process is not a zombie. (An orphan whose parent died is reparented to PID 1;
 * where PID 1 does not reap, it lingers as a zombie: exited, holding no memory, yet still answering kill 0.)
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  comm: string;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  state: string;
}

let lastTable: { at: number; table: ProcEntry[] } | undefined;

/**
 * The process table: /proc/PID/stat of every process. `maxAgeMs` lets a caller that can live with a slightly old
 * view (memory sampling, PID bookkeeping) share the last read with every other caller in this process — a read
 * costs ≈ 3 ms here, and each local cluster's kubelet and target asked for one six times a second. Kill-tree walks
 * read afresh (a child forked a moment ago must not escape).
 */
export function readProcessTable(maxAgeMs = 0): ProcEntry[] {
  const now = performance.now();
  if (maxAgeMs > 0 && lastTable && now - lastTable.at <= maxAgeMs) return lastTable.table;
  const table = scanProcesses();
  lastTable = { at: now, table };
  return table;
}

function scanProcesses(): ProcEntry[] {
  const out: ProcEntry[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      out.push({
        pid: Number(name),
        state: fields[0] ?? '',
        ppid: Number(fields[1]),
        pgid: Number(fields[2]),
        comm,
        cpuTicks: Number(fields[11]) + Number(fields[12]),
      });
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

/** The process group of `root` plus every descendant of it (a child may have left the group with setsid). */
export function groupMembers(root: number, table: ProcEntry[]): ProcEntry[] {
  const members = new Map<number, ProcEntry>();
  for (const p of table) if (p.pgid === root || p.pid === root) members.set(p.pid, p);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (!members.has(p.pid) && members.has(p.ppid)) {
        members.set(p.pid, p);
        grew = true;
      }
    }
  }
  return [...members.values()].filter((p) => p.state !== 'Z');
}

/** VmRSS of a process in bytes (0 when gone or a kernel thread). */
export function readRssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Signals the whole group and any descendant that escaped it. */
export function signalTree(root: number, signal: NodeJS.Signals): void {
  const members = groupMembers(root, readProcessTable());
  try {
    process.kill(-root, signal);
  } catch {
    // group already gone
  }
  for (const p of members) {
    try {
      process.kill(p.pid, signal);
    } catch {
      // gone
    }
  }
}
