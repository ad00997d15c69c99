// The lifeline's backstop for a child nobody registered: a process started with this meshdrill's marker in its
// environment (lifelineEnv) ends when meshdrill dies by SIGKILL, even if it was never handed to holdGroup — the
// case of a SIGKILL that lands while a spawn is under way. Negative control: the same child without the marker
// is left running (then stopped here, by PID).

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const PARENT = `
import { spawn } from 'node:child_process';
import { holdGroup, lifelineEnv } from './harness/exec/index.ts';
// Something registered (the parent's own group), as at work; or, with --alone, nothing: the unregistered child is
// all the run has (a runbook step's spawn cut short). lifelineEnv starts the watcher either way.
if (!process.argv.includes('--alone')) holdGroup(process.pid);
lifelineEnv();
const env = { PATH: process.env.PATH, ...(process.argv.includes('--marked') ? lifelineEnv() : {}) };
const child = spawn('sleep', ['60'], { env, detached: true, stdio: 'ignore' });
child.unref();
console.log(child.pid);
setInterval(() => undefined, 1000);
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the parent, reads its unregistered child's PID, then SIGKILLs the parent. */
async function orphanOfKilledParent(marked: boolean, alone = false): Promise<number> {
  const parent = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', '--input-type=module', '-e', PARENT, '--'],
      ...(marked ? ['--marked'] : []),
      ...(alone ? ['--alone'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(parent.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  const pid = Number(line.toString().trim());
  expect(pid, 'the child PID').to.be.greaterThan(0);
  parent.kill('SIGKILL');
  await once(parent, 'exit');
  return pid;
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return condition();
}

describe('lifeline: children nobody registered', function () {
  this.timeout(20_000);

  it('a child carrying the marker ends when meshdrill is SIGKILLed, registered or not', async () => {
    const pid = await orphanOfKilledParent(true);
    try {
      expect(await waitFor(() => !alive(pid), 6000), `pid ${pid} still running`).to.equal(true);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a child carrying the marker ends when it was all meshdrill had running, registered nothing', async () => {
    const pid = await orphanOfKilledParent(true, true);
    try {
      expect(await waitFor(() => !alive(pid), 6000), `pid ${pid} still running`).to.equal(true);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('negative control: the same child without the marker is left running', async () => {
    const pid = await orphanOfKilledParent(false);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      expect(alive(pid)).to.equal(true);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

const CLOSER = `
import { spawn } from 'node:child_process';
import { closeLifeline, holdGroup, lifelineEnv, lifelinePid, releaseGroup } from './harness/exec/index.ts';
const env = { PATH: process.env.PATH, ...lifelineEnv() };
const stopped = spawn('sleep', ['60'], { env, detached: true, stdio: 'ignore' });
const leaked = spawn('sleep', ['60'], { env, detached: true, stdio: 'ignore' });
holdGroup(stopped.pid);
holdGroup(leaked.pid);
process.kill(-stopped.pid, 'SIGKILL');
releaseGroup(stopped.pid);
const watcher = lifelinePid();
await closeLifeline();
console.log(JSON.stringify({ watcher, leaked: leaked.pid }));
process.exit(0);
`;

describe('lifeline: a normal exit', function () {
  this.timeout(20_000);

  it('closeLifeline returns once the watcher has exited, having ended a group still registered', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CLOSER], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await once(parent, 'exit');
    const { watcher, leaked } = JSON.parse(out) as { watcher: number; leaked: number };
    try {
      expect(watcher, 'the watcher PID').to.be.greaterThan(0);
      expect(alive(watcher), 'the watcher outlived meshdrill').to.equal(false);
      expect(alive(leaked), 'a group left registered at exit is ended by the watcher').to.equal(false);
    } finally {
      if (alive(leaked)) process.kill(leaked, 'SIGKILL');
    }
  });
});

const RUNNER = `
import { run } from './harness/exec/index.ts';
// A runbook step as meshdrill runs it: a shell whose own child does the waiting.
void run('bash', ['-c', 'sleep 60 & echo $! > "$0"; wait', process.argv.at(-1)]);
setInterval(() => undefined, 1000);
`;

describe('lifeline: commands run through the one door', function () {
  this.timeout(20_000);

  it('a command still running (and what it forked) ends when meshdrill is SIGKILLed', async () => {
    const { mkdtempSync, readFileSync, rmSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'meshdrill-lifeline-run-'));
    const pidFile = join(dir, 'sleep.pid');
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', RUNNER, '--', pidFile],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    let pid = 0;
    try {
      expect(
        await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 10_000),
      ).to.equal(true);
      pid = Number(readFileSync(pidFile, 'utf8').trim());
      expect(alive(pid), 'the forked sleep runs while meshdrill does').to.equal(true);
      parent.kill('SIGKILL');
      await once(parent, 'exit');
      expect(await waitFor(() => !alive(pid), 6000), `pid ${pid} outlived meshdrill`).to.equal(true);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
