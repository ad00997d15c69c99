// The count reporter: CI reads its last line, and its exit guard turns a test that leaves something running
// (which would otherwise hang `mocha` with `exit: false` until CI's time limit) into a named failure.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { run } from '../../harness/exec/index.js';

const ROOT = resolve(import.meta.dirname, '../..');

async function mochaOn(spec: string) {
  return run('node_modules/.bin/mocha', [`test/fixtures/mocha/${spec}`], {
    cwd: ROOT,
    env: { MESHDRILL_TEST_EXIT_GRACE_MS: '1500' },
    timeoutMs: 60_000,
  });
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);

describe('the count reporter', function () {
  this.timeout(90_000);

  it('ends with "N passed, N failed" and lets a tidy run exit 0 by itself', async () => {
    const result = await mochaOn('tidy.spec.ts');
    expect(result.timedOut).to.equal(false);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(lastLine(result.stdout)).to.equal('1 passed, 0 failed');
    expect(result.stderr).to.not.contain('exit guard');
  });

  it('keeps the failure count as the exit code when it ends the process itself', async () => {
    const result = await mochaOn('failing.spec.ts');
    expect(result.timedOut).to.equal(false);
    expect(result.exitCode).to.equal(1);
    expect(lastLine(result.stdout)).to.equal('0 passed, 1 failed');
    expect(result.stderr).to.not.contain('exit guard');
  });

  it('fails a run that leaves a server and a child process behind, names them, and stops the child', async () => {
    const result = await mochaOn('leaky.spec.ts');
    expect(result.timedOut, 'the guard ended the run, not the timeout').to.equal(false);
    expect(result.exitCode).to.equal(1);
    expect(lastLine(result.stdout)).to.equal('1 passed, 1 failed');
    expect(result.stderr).to.contain('exit guard');
    expect(result.stderr).to.contain('TCPServerWrap');
    const child = /child process (\d+): sleep 20/.exec(result.stderr);
    expect(child, result.stderr).to.not.equal(null);
    // stopped by PID: give the kernel a moment to reap it, then it must be gone
    const pid = Number(child?.[1]);
    for (let i = 0; i < 20 && isSleep(pid); i++) await pause(100);
    expect(isSleep(pid), `sleep ${pid} outlived the guard`).to.equal(false);
  });
});

function isSleep(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep');
  } catch {
    return false;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
