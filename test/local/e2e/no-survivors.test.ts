// Proof that no process the local target started survives: teardown, a SIGTERM of the CLI-like process
// running it, and that process dying of an uncaught error (a failing test). Each PID checked with kill(pid, 0).

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESOURCES } from '../../../clusters/local/controllers/index.js';
import { isAlive } from '../../../clusters/local/kubelet/index.js';
import { bootTarget, until } from './fixture.js';

const CHILD = fileURLToPath(new URL('./run-cluster-child.ts', import.meta.url));

async function runChild(
  mode: 'sigterm' | 'crash',
): Promise<{ pids: number[]; exitCode: number | null; signal: string | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdrill-child-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, dir, ...(mode === 'crash' ? ['crash'] : [])],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (exitCode, signal) => resolve({ exitCode, signal })),
  );
  try {
    // Prometheus, fortio, and the forker's sh plus its two sleeps.
    const pids = await until(
      'the child target to run its pods',
      () => {
        const file = join(dir, 'pids.json');
        if (!existsSync(file)) return undefined;
        const { pids } = JSON.parse(readFileSync(file, 'utf8')) as { pids: number[] };
        return pids.length >= 5 ? pids : undefined;
      },
      30_000,
    );
    if (mode === 'sigterm') child.kill('SIGTERM');
    const result = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`child did not exit; stderr:\n${stderr}`)), 20_000),
      ),
    ]);
    return { pids, ...result };
  } finally {
    if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('local target leaves no process behind', function () {
  this.timeout(90_000);

  it('teardown stops every process it started, grandchildren included, and reports them', async () => {
    const b = await bootTarget();
    try {
      const store = b.target.cluster?.store;
      await store?.create(RESOURCES.pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'forker', namespace: 'default' },
        spec: {
          containers: [
            { name: 'c', image: 'busybox', command: ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'] },
          ],
        },
      });
      const pids = await until('forker and its sleeps', () => {
        const p = b.target.pids();
        return p.length >= 4 ? p : undefined;
      });
      await b.target.teardown();
      const report = b.target.lastTeardown;
      expect(report?.survivors).to.deep.equal([]);
      expect(report?.pids).to.include.members(pids);
      for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).to.equal(false);
    } finally {
      await b.stop();
    }
  });

  it('a SIGTERM of the process running the target tears it down and exits 0', async () => {
    const { pids, exitCode } = await runChild('sigterm');
    expect(exitCode).to.equal(0);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).to.equal(false);
  });

  it('an uncaught error in the process running the target still kills every process it started', async () => {
    const { pids, exitCode } = await runChild('crash');
    expect(exitCode).to.not.equal(0);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).to.equal(false);
  });
});
