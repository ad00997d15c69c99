// `meshdrill run --keep-target` on the local target: the target cannot outlive the process, so the command stays
// in the foreground with the cluster up (real kubectl reaches it) until SIGINT, then stops every process it
// started. Each descendant PID is collected from /proc while the target is up and checked with kill(pid, 0).

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { run } from '../../harness/exec/index.js';
import { isAlive } from '../../clusters/local/kubelet/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SCENARIO = 'test/fixtures/scenarios/quick/scale-to-zero.yaml';

/** Every live process whose parent chain reaches `root`. */
function descendantsOf(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the command in parentheses, which may itself contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  for (const pid of parents.keys()) {
    let p: number | undefined = pid;
    for (let hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
      p = parents.get(p);
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** A process's command line, for messages (empty once it is gone). */
function commandOf(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const state = /^State:\s*(.*)$/m.exec(status)?.[1] ?? '?';
    const ppid = /^PPid:\s*(.*)$/m.exec(status)?.[1] ?? '?';
    const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? '?';
    return `${name} (state ${state}, parent ${ppid}) ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`;
  } catch {
    return '';
  }
}

/**
 * The PIDs still alive after `graceMs`. A child that is ending as its parent exits (a library's helper process
 * that notices its closed stdin within milliseconds) is not a survivor; a process meshdrill failed to stop
 * outlives any grace.
 */
async function survivorsAfter(pids: readonly number[], graceMs: number): Promise<number[]> {
  const deadline = Date.now() + graceMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(isAlive);
  }
  return alive;
}

describe('meshdrill run --keep-target on the local target', function () {
  this.timeout(240_000);

  it('stays in the foreground with the cluster reachable, and SIGINT stops every process it started', async () => {
    const out = mkdtempSync(join(tmpdir(), 'meshdrill-keep-'));
    const child = spawn(
      process.execPath,
      ['bin/meshdrill.js', 'run', SCENARIO, '--keep-target', '--out', out],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 200_000;
      let kubeconfig: string | undefined;
      while (!kubeconfig && Date.now() < deadline && child.exitCode === null) {
        kubeconfig = /stays up for inspection: export KUBECONFIG=(\S+)/.exec(stdout)?.[1];
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(kubeconfig, `the run did not keep its target:\n${stdout}\n${stderr.slice(-3000)}`).to.be.a(
        'string',
      );
      expect(stdout).to.match(/PASSED/);

      const pids = descendantsOf(child.pid as number);
      expect(pids.length, 'the kept target runs processes (Prometheus, istiod, pods)').to.be.greaterThan(3);
      const nodes = await run('kubectl', ['get', 'pods', '-n', 'istio-system', '--no-headers'], {
        env: { KUBECONFIG: kubeconfig as string },
        timeoutMs: 20_000,
      });
      expect(nodes.exitCode, nodes.stderr).to.equal(0);
      expect(nodes.stdout).to.match(/istiod-\S+\s+1\/1\s+Running/);

      child.kill('SIGINT');
      expect(await exited).to.equal(0);
      const survivors = await survivorsAfter(pids, 2000);
      expect(survivors.map((pid) => `pid ${pid} survived: ${commandOf(pid)}`)).to.deep.equal([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('cluster up: SIGINT while Istio installs ends at once (exit 130) and stops every process it started', async () => {
    const state = mkdtempSync(join(tmpdir(), 'meshdrill-cluster-state-'));
    // Its own process group, signalled as a terminal's Ctrl-C signals the foreground group.
    const child = spawn(process.execPath, ['bin/meshdrill.js', 'cluster', 'up', '--target', 'local'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, MESHDRILL_STATE_DIR: state },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!stderr.includes('installing Istio') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(stderr, 'provisioning never reached the Istio install').to.include('installing Istio');
      const pids = descendantsOf(child.pid as number);
      const sent = Date.now();
      process.kill(-(child.pid as number), 'SIGINT');
      expect(await exited, stderr.slice(-2000)).to.equal(130);
      expect(
        Date.now() - sent,
        'the interrupt was honoured at once, not after the install timed out',
      ).to.be.below(15_000);
      expect(stderr).to.match(
        /meshdrill: (the Istio install|provisioning of the local target) was interrupted/,
      );
      const survivors = await survivorsAfter(pids, 2000);
      expect(survivors.map((pid) => `pid ${pid} survived: ${commandOf(pid)}`)).to.deep.equal([]);
    } finally {
      if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL');
      rmSync(state, { recursive: true, force: true });
    }
  });
});
