// A `meshdrill run` killed with SIGKILL mid-drill — no handler runs — leaves nothing behind: every process it had
// started (containers, proxies, Prometheus, istiod) ends within seconds, ended by the lifeline
// (harness/exec/lifeline.ts), and the run's work directory in the temp folder is removed.

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, readProcessTable } from '../../../clusters/local/kubelet/index.js';
import { until } from './fixture.js';

const MESHDRILL = 'bin/meshdrill.js';

/** Every descendant of `root` now, by walking parent PIDs. */
function descendants(root: number): number[] {
  const table = readProcessTable().filter((p) => p.state !== 'Z');
  const found = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  found.delete(root);
  return [...found];
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160);
  } catch {
    return '?';
  }
}

function runWorkDirs(runId: string): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith(`meshdrill-${runId}-`));
}

describe('a SIGKILLed run leaves nothing behind', function () {
  this.timeout(120_000);

  it('kill -9 mid-fault: every process it started ends, and its work directory goes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'meshdrill-sigkill-'));
    const child = spawn(
      process.execPath,
      [MESHDRILL, 'run', 'scenarios/istiod-crash.yaml', '--out', out, '--json'],
      {
        stdio: ['ignore', 'ignore', 'ignore'],
      },
    );
    const pid = child.pid as number;
    try {
      const journal = join(out, 'journal.jsonl');
      const runId = await until(
        'the fault to be injected',
        () => {
          if (!existsSync(journal)) return undefined;
          const text = readFileSync(journal, 'utf8');
          if (!text.includes('"type":"fault-injected"')) return undefined;
          return /"runId":"([^"]+)"/.exec(text)?.[1];
        },
        90_000,
      );
      const started = descendants(pid);
      // The API server's kubelet runs istiod, the gateway, the shop's pods with sidecars, and Prometheus.
      expect(started.length, 'processes the run started').to.be.greaterThan(5);
      expect(runWorkDirs(runId), 'the run work directory while it runs').to.have.length(1);
      child.kill('SIGKILL');
      await until(
        'every process the run started to end',
        () => started.every((p) => !isAlive(p)),
        15_000,
      ).catch(() => {
        const left = started.filter(isAlive).map((p) => `${p} (${commandOf(p)})`);
        throw new Error(`still running 15 s after the SIGKILL: ${left.join(', ')}`);
      });
      await until('its work directory to be removed', () => runWorkDirs(runId).length === 0, 10_000);
    } finally {
      if (isAlive(pid)) child.kill('SIGKILL');
      rmSync(out, { recursive: true, force: true });
    }
  });
});
