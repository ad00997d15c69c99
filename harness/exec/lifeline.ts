// What ends meshdrill's long-lived children when meshdrill itself is killed with SIGKILL. A SIGKILL runs no
// handler: the local target's containers, Prometheus and port-forwards (each in a process group of its own, so a
// stop reaches what they fork) were reparented to init and ran on, and the run's work directory stayed in the
// temp folder. Linux's PR_SET_PDEATHSIG is not reachable from Node, and real binaries (prometheus, kubectl) cannot
// be taught to watch a pipe, so one small watcher process holds the lifeline for all of them: its stdin is a
// pipe from meshdrill, which tells it each process group and directory as they come and go. When the pipe ends —
// meshdrill exited, however it died — the watcher sends SIGTERM to every group still registered, SIGKILL after a
// grace period, removes the registered directories, and exits. After a normal exit nothing is registered any
// more, and it exits at once.
//
// A child is registered once `spawn` has returned its PID. A SIGKILL that lands while a spawn is under way (the
// fork of a large process takes milliseconds) leaves a child nobody registered: the kill -9 test caught a pod's
// container that way, and a runbook step that was the run's only child at that moment. So every child also
// carries a marker in its environment (lifelineEnv), and the watcher, unless meshdrill said goodbye with nothing
// registered (a normal exit, having stopped everything), adds every process whose environment holds this
// meshdrill's marker — after it has signalled the registered groups, so a slow scan of /proc (a busy machine)
// never delays them.

import { randomBytes } from 'node:crypto';
import { type ProcessGroup, spawnDetachedGroup } from './detached-group.js';

/** Between SIGTERM and SIGKILL of what a dead meshdrill left (its own stops use the same order). */
export const LIFELINE_GRACE_MS = 2000;

/** The last line of a normal exit: the pipe's end after it is not a death. */
const GOODBYE = 'bye';

/** The environment variable that marks a child of this meshdrill process. */
export const LIFELINE_MARKER = 'MESHDRILL_LIFELINE';

/** The watcher, as plain JavaScript: it must start without the TypeScript loader, and quickly. */
const WATCHER_SOURCE = `
const { readdirSync, readFileSync, rmSync } = require('node:fs');
const marker = Buffer.from('${LIFELINE_MARKER}=' + process.argv[1] + '\\0');
const groups = new Set();
const dirs = new Set();
let pending = '';
let reaping = false;
let orderly = false;
const signalAll = (signal) => {
  for (const group of groups) {
    try { process.kill(-group, signal); } catch {}
  }
};
// Processes started with this meshdrill's marker that were never registered (a spawn cut short by the SIGKILL):
// their groups, added to the registered ones and returned.
const addMarked = () => {
  const found = new Set();
  let names = [];
  try { names = readdirSync('/proc'); } catch {}
  for (const name of names) {
    if (!/^[0-9]+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (!readFileSync('/proc/' + name + '/environ').includes(marker)) continue;
      // Its process group (field 5 of stat): the children are group leaders, and groups are what is signalled.
      const stat = readFileSync('/proc/' + name + '/stat', 'utf8');
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (!groups.has(group)) found.add(group);
      groups.add(group);
    } catch {}
  }
  return found;
};
const reap = () => {
  if (reaping) return;
  reaping = true;
  const finish = () => {
    signalAll('SIGKILL');
    for (const dir of dirs) {
      try { rmSync(dir, { recursive: true, force: true }); } catch {}
    }
    process.exit(0);
  };
  // A goodbye with nothing registered: meshdrill stopped everything itself (a normal exit). Otherwise it died,
  // maybe at work, and a spawn may have been cut short: what carries its marker goes too.
  if (orderly && groups.size === 0) return finish();
  signalAll('SIGTERM');
  for (const group of addMarked()) {
    try { process.kill(-group, 'SIGTERM'); } catch {}
  }
  // A group is forgotten as soon as it is gone, so the SIGKILL can only reach a group that never went away —
  // never a new one that reused its number.
  const deadline = Date.now() + ${LIFELINE_GRACE_MS};
  const poll = setInterval(() => {
    for (const group of groups) {
      try { process.kill(-group, 0); } catch { groups.delete(group); }
    }
    if (groups.size === 0 || Date.now() >= deadline) {
      clearInterval(poll);
      finish();
    }
  }, 100);
};
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let end;
  while ((end = pending.indexOf('\\n')) >= 0) {
    const line = pending.slice(0, end);
    pending = pending.slice(end + 1);
    const value = line.slice(3);
    if (line.startsWith('+g ')) groups.add(Number(value));
    else if (line.startsWith('-g ')) groups.delete(Number(value));
    else if (line.startsWith('+d ')) dirs.add(value);
    else if (line.startsWith('-d ')) dirs.delete(value);
    else if (line === '${GOODBYE}') orderly = true;
  }
});
process.stdin.on('end', reap);
process.stdin.on('error', reap);
`;

let watcher: ProcessGroup | undefined;
/** This meshdrill process's marker value: random, so another meshdrill's children are never touched. */
const token = randomBytes(8).toString('hex');

function send(line: string): void {
  watcher ??= startWatcher();
  watcher.stdin?.write(`${line}\n`);
}

// Through the long-lived door's mechanics but not its lifeline: the watcher is the lifeline, and it must never
// keep meshdrill running (nor fail it).
function startWatcher(): ProcessGroup {
  const child = spawnDetachedGroup(process.execPath, ['-e', WATCHER_SOURCE, token], 'lifeline watcher', {
    stdin: true,
    output: 'ignore',
    // Without the parent's loader flags (tsx): the watcher is plain JavaScript.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    keepsAlive: false,
  });
  void child.exited.then(() => {
    if (watcher === child) watcher = undefined;
  });
  return child;
}

/**
 * The environment entry every long-lived child gets, so the watcher finds it even if meshdrill died before it could
 * register it. Starts the watcher (it must be running before the child is spawned).
 */
export function lifelineEnv(): Record<string, string> {
  watcher ??= startWatcher();
  return { [LIFELINE_MARKER]: token };
}

/** Registers a process group (its leader's PID) to end if meshdrill dies before it has stopped it. */
export function holdGroup(pgid: number): void {
  send(`+g ${pgid}`);
}

/** The group has ended (or was stopped): nothing to do for it any more. */
export function releaseGroup(pgid: number): void {
  if (watcher) send(`-g ${pgid}`);
}

/** Registers a directory to remove if meshdrill dies before it removed it itself. */
export function holdDirectory(path: string): void {
  send(`+d ${path}`);
}

export function releaseDirectory(path: string): void {
  if (watcher) send(`-d ${path}`);
}

/**
 * At a normal exit: ends the pipe and waits (bounded) for the watcher to exit, so it never outlives meshdrill.
 * Ending the pipe flushes the releases written before it (a write to a pipe is asynchronous in Node, and an exit
 * right after it could lose the last `-g` lines: the watcher would then take stopped groups for abandoned ones).
 */
export async function closeLifeline(timeoutMs = LIFELINE_GRACE_MS + 1000): Promise<void> {
  const child = watcher;
  if (!child || child.hasExited()) return;
  const exited = child.exited.then(() => undefined);
  child.stdin?.end(`${GOODBYE}\n`);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([exited, late]);
  clearTimeout(timer);
}

/** The watcher's PID (tests), undefined before anything was registered. */
export function lifelinePid(): number | undefined {
  return watcher?.pid;
}
