// The host's process table as the long-lived process door sees it: /proc reads (who is alive, who belongs to a
// group, how much memory it holds) and signals by PID and group — never by name.

import { readdirSync, readFileSync } from 'node:fs';

export interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  comm: string;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  state: string;
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
    const entry = readStat(name);
    if (entry) out.push(entry);
  }
  return out;
}

function readStat(name: string): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    return {
      pid: Number(name),
      state: fields[0] ?? '',
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      comm,
      cpuTicks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    // The process exited while we looked.
    return undefined;
  }
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

/** Signals a process group (its leader's PID); a group already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Signals the whole group and any descendant that escaped it. */
export function signalTree(root: number, signal: NodeJS.Signals): void {
  const members = groupMembers(root, readProcessTable());
  signalGroup(root, signal);
  for (const p of members) {
    try {
      process.kill(p.pid, signal);
    } catch {
      // gone
    }
  }
}
