// How the local target runs the real host binaries beside its emulation (Prometheus, Alertmanager), through
// harness/exec's long-lived door: each in a process group of its own (its PID on the lifeline, stopped with its
// children), its output in a log file, on a free port of 127.0.0.1 — chosen again when another process took it
// between choosing and binding, as clusters booting side by side can — and ready once its `/-/ready` answers.
// Stopped by PID: SIGTERM, then SIGKILL after 5 s.

import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, startProcessGroup } from '../../harness/exec/index.js';
import { environmentError } from '../../harness/model/index.js';
import { freePort } from './free-port.js';

export interface HostDaemonOptions {
  /** As the user knows it, in messages: `prometheus`, `alertmanager`. */
  name: string;
  binary: string;
  /** Its directory: the log file goes here, and it runs here. */
  dir: string;
  /** Writes what the daemon reads at start (its configuration may name its own address). */
  prepare?(address: string): void;
  /** Its command line, listening on `address` (host:port). */
  args(address: string): string[];
  readyTimeoutMs: number;
  /** How to get the binary, for a failed start. */
  installHint: string;
}

export interface HostDaemon {
  /** host:port it listens on. */
  address: string;
  /** http://address */
  url: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** How often to start again on another port when the chosen one was taken meanwhile. */
const PORT_ATTEMPTS = 3;
const READY_POLL_MS = 50;
const STOP_GRACE_MS = 5000;

export async function startHostDaemon(options: HostDaemonOptions): Promise<HostDaemon> {
  for (let attempt = 1; ; attempt++) {
    const started = await startOnce(options);
    const outcome = await waitUntilReady(options, started);
    if (outcome === 'ready') return started;
    await started.stop();
    const portTaken = /address already in use/.test(outcome.tail);
    if (portTaken && attempt < PORT_ATTEMPTS) continue;
    throw environmentError(
      outcome.exited
        ? `${options.name} exited during start-up (${options.binary}):\n${outcome.tail}`
        : `${options.name} did not become ready at ${started.url} within ${options.readyTimeoutMs} ms`,
      { hint: `see ${started.logFile}` },
    );
  }
}

interface Started extends HostDaemon {
  exited(): boolean;
}

async function startOnce(options: HostDaemonOptions): Promise<Started> {
  mkdirSync(options.dir, { recursive: true });
  const address = `127.0.0.1:${await freePort()}`;
  options.prepare?.(address);
  const logFile = join(options.dir, `${options.name}.log`);
  const logFd = openSync(logFile, 'a');
  const group = startProcessGroup(options.binary, options.args(address), {
    env: process.env,
    cwd: options.dir,
    output: logFd,
  });
  closeSync(logFd);
  const pid = group.pid;
  if (pid === undefined)
    throw environmentError(`could not start ${options.binary}`, { hint: options.installHint });
  return {
    address,
    url: `http://${address}`,
    pid,
    logFile,
    // The leader is what answers: a leader gone while a straggler of its group lingers has exited.
    exited: () => group.hasExited() || !isAlive(pid),
    async stop() {
      if (group.hasExited()) return;
      await group.stop({ graceMs: STOP_GRACE_MS });
    },
  };
}

/** Polls `/-/ready` until it answers, the daemon exits, or the deadline passes (with its log's tail). */
async function waitUntilReady(
  options: HostDaemonOptions,
  daemon: Started,
): Promise<'ready' | { exited: boolean; tail: string }> {
  const deadline = Date.now() + options.readyTimeoutMs;
  const tail = (): string => readFileSync(daemon.logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
  for (;;) {
    if (daemon.exited()) return { exited: true, tail: tail() };
    const ready = await fetch(`${daemon.url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) return 'ready';
    if (Date.now() > deadline) return { exited: false, tail: tail() };
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}
