// The long-lived process door: a group started through it streams its output, a stop reaches what the child
// forked, a child that ignores SIGTERM is SIGKILLed after the grace period, and gone() proves it by PID.
// Negative control: the same TERM-ignoring child, sent only SIGTERM, is still alive after the grace period.

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, type ProcessGroup, startProcessGroup } from '../../harness/exec/index.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** A shell that forks a grandchild, prints both PIDs, and waits. `trapTerm` makes both ignore SIGTERM. */
function startParentOfGrandchild(trapTerm: boolean, onLine: (line: string) => void): ProcessGroup {
  const trap = trapTerm ? 'trap "" TERM; ' : '';
  let pending = '';
  return startProcessGroup('/bin/bash', ['-c', `${trap}sleep 60 & echo "pids $$ $!"; wait`], {
    env,
    onOutput: (chunk, stream) => {
      if (stream !== 'stdout') return;
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    },
  });
}

async function startedPids(trapTerm: boolean): Promise<{ group: ProcessGroup; pids: number[] }> {
  let resolveLine: (line: string) => void = () => undefined;
  const line = new Promise<string>((resolve) => {
    resolveLine = resolve;
  });
  const group = startParentOfGrandchild(trapTerm, (l) => {
    if (l.startsWith('pids ')) resolveLine(l);
  });
  const pids = (await line).split(' ').slice(1).map(Number);
  return { group, pids };
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

describe('exec: long-lived process groups', function () {
  this.timeout(20_000);
  const started: ProcessGroup[] = [];
  const track = <T extends { group: ProcessGroup }>(value: T): T => {
    started.push(value.group);
    return value;
  };

  afterEach(async () => {
    // Everything a test started is stopped, whatever the test did.
    for (const group of started.splice(0)) {
      group.signal('SIGKILL');
      await group.closed;
    }
  });

  it('streams output, and a stop with grace ends the child and the grandchild it forked', async () => {
    const { group, pids } = track(await startedPids(false));
    expect(pids).to.have.length(2);
    const [child, grandchild] = pids as [number, number];
    expect(child).to.equal(group.pid);
    expect(isAlive(child), 'child runs').to.equal(true);
    expect(isAlive(grandchild), 'grandchild runs').to.equal(true);
    expect(group.gone()).to.equal(false);

    const exit = await group.stop({ graceMs: 5000 });
    expect(exit.signal).to.equal('SIGTERM');
    expect(await waitFor(() => group.gone(), 2000), 'group gone').to.equal(true);
    expect(isAlive(child), `child ${child}`).to.equal(false);
    expect(isAlive(grandchild), `grandchild ${grandchild}`).to.equal(false);
    // A second stop is a no-op that reports the same end.
    expect(await group.stop()).to.deep.equal(exit);
  });

  it('SIGKILLs a group that ignores SIGTERM once the grace period is over', async () => {
    const { group, pids } = track(await startedPids(true));
    const began = Date.now();
    const exit = await group.stop({ graceMs: 300 });
    const took = Date.now() - began;
    expect(took, 'waited for the grace period').to.be.at.least(250);
    expect(took, 'did not wait much longer').to.be.below(5000);
    expect(exit.signal).to.equal('SIGKILL');
    expect(await waitFor(() => group.gone(), 2000), 'group gone').to.equal(true);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).to.equal(false);
  });

  it('negative control: without the SIGKILL, a group that ignores SIGTERM survives the grace period', async () => {
    const { group, pids } = track(await startedPids(true));
    group.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 600));
    expect(group.hasExited()).to.equal(false);
    expect(group.gone()).to.equal(false);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).to.equal(true);
  });

  it('reports a binary that cannot start without throwing, and gone() holds', async () => {
    const group = startProcessGroup('/nonexistent/meshdrill-no-such-binary', [], { env });
    expect(group.pid).to.equal(undefined);
    await group.exited;
    expect(group.error()?.message).to.match(/ENOENT/);
    expect(group.gone()).to.equal(true);
    await group.stop();
  });

  it('writes to a log file descriptor, runs in cwd with exactly the env given (plus the lifeline marker)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdrill-process-group-'));
    try {
      const { openSync, closeSync } = await import('node:fs');
      const fd = openSync(join(dir, 'out.log'), 'a');
      const group = startProcessGroup('/bin/sh', ['-c', 'pwd; echo "x=$X"; env | grep -c . >&2'], {
        env: { ...env, X: 'y' },
        cwd: dir,
        output: fd,
      });
      closeSync(fd);
      const exit = await group.closed;
      expect(exit).to.deep.equal({ exitCode: 0, signal: null });
      const lines = readFileSync(join(dir, 'out.log'), 'utf8').trim().split('\n');
      expect(lines.slice(0, 2)).to.deep.equal([dir, 'x=y']);
      // PATH, X, the lifeline marker, and what the shell sets itself (PWD, SHLVL, _).
      expect(Number(lines[2])).to.be.below(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Starts a meshdrill-like parent that starts a group through the door and prints its child's and grandchild's PIDs. */
const PARENT = `
import { startProcessGroup } from './harness/exec/index.ts';
const background = process.argv.includes('--background');
const group = startProcessGroup('/bin/bash', ['-c', 'sleep 60 & echo "$$ $!"; wait'], {
  env: { PATH: process.env.PATH },
  onOutput: (chunk) => process.stdout.write(chunk),
  ...(background ? { keepsAlive: false, stopOnExit: true } : {}),
});
if (background) setTimeout(() => undefined, 1500);
`;

async function pidsFromParent(args: string[]): Promise<{ parent: ReturnType<typeof spawn>; pids: number[] }> {
  const parent = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', PARENT, '--', ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(parent.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { parent, pids: line.toString().trim().split(' ').map(Number) };
}

describe('exec: long-lived process groups outlive no meshdrill', function () {
  this.timeout(20_000);

  it('the lifeline ends the group (child and grandchild) when meshdrill is SIGKILLed', async () => {
    const { parent, pids } = await pidsFromParent([]);
    try {
      expect(pids).to.have.length(2);
      for (const pid of pids) expect(isAlive(pid), `pid ${pid} runs`).to.equal(true);
      parent.kill('SIGKILL');
      await once(parent, 'exit');
      expect(
        await waitFor(() => pids.every((p) => !isAlive(p)), 6000),
        `${pids} outlived meshdrill`,
      ).to.equal(true);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a background group keeps no one waiting and is stopped when meshdrill exits normally', async () => {
    const { parent, pids } = await pidsFromParent(['--background']);
    try {
      const [code] = (await once(parent, 'exit')) as [number | null];
      expect(code, 'meshdrill exited on its own').to.equal(0);
      expect(
        await waitFor(() => pids.every((p) => !isAlive(p)), 3000),
        `${pids} outlived meshdrill`,
      ).to.equal(true);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
