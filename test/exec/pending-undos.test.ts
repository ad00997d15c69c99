// Pending undos: a setup `command` step's undo recorded in the state directory before its command starts, so
// that `meshdrill cleanup --run-id` can run it after a SIGKILL. Fake shell and fake process door, no cluster.

import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pendingUndosOf, runPendingUndos } from '../../harness/cli/commands/cleanup-undos.js';
import {
  type ExecResult,
  pendingUndoRoot,
  readPendingUndos,
  recordPendingUndo,
  type run,
} from '../../harness/exec/index.js';
import { type FaultContext, injectFault, runSetupActions } from '../../harness/faults/index.js';
import type { KubeClient } from '../../harness/kube/index.js';

const noCluster = new Proxy({} as KubeClient, {
  get: () => () => Promise.reject(new Error('no cluster in this test')),
});

const result = (command: string, exitCode: number, stderr = ''): ExecResult => ({
  command,
  exitCode,
  signal: null,
  stdout: '',
  stderr,
  durationMs: 1,
  timedOut: false,
});

const env = (context = 'ctx-a') => ({ context, kubeconfig: '/k', path: ['/opt/istioctl-1.24'], cwd: '/' });

describe('pending undos of setup commands', () => {
  let state: string;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'meshdrill-pending-'));
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  const files = (runId: string): string[] => {
    const dir = join(pendingUndoRoot(state), runId);
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  /** The setup of one drill through runSetupActions, each undo recorded in `state` under run r1. */
  function setupWith(failing: RegExp | undefined) {
    const ran: string[] = [];
    const recordsSeen: number[] = [];
    const ctx: FaultContext = {
      kube: noCluster,
      runId: 'r1',
      scenario: 'istio-upgrade',
      defaultNamespace: 'drill-x',
      runCommand: async (script) => {
        ran.push(script);
        recordsSeen.push(files('r1').length);
        return result(script, failing?.test(script) ? 1 : 0, 'Error: boom');
      },
      recordUndo: (step) =>
        recordPendingUndo(state, { runId: 'r1', scenario: 'istio-upgrade', ...step, env: env() }),
    };
    const undos: (() => Promise<void>)[] = [];
    const go = (actions: Parameters<typeof runSetupActions>[0]) =>
      runSetupActions(actions, ctx, {
        timeoutMs: 5000,
        onUndo: (revert) => undos.push(revert),
      });
    return { ran, recordsSeen, undos, go, ctx };
  }

  it('writes the record before the command starts, and removes it once the undo has run', async () => {
    const s = setupWith(undefined);
    await s.go([
      { action: 'command', run: 'install a' },
      { action: 'command', run: 'install b', undo: 'uninstall b' },
    ]);
    // The step without an undo records nothing; the one with it is on disk while its command runs.
    expect(s.recordsSeen).to.deep.equal([0, 1]);
    const [entry] = await readPendingUndos(state, 'r1');
    expect(entry?.record).to.include({
      runId: 'r1',
      scenario: 'istio-upgrade',
      step: 1,
      undo: 'uninstall b',
    });
    expect(entry?.record.env).to.deep.equal(env());
    expect(entry?.file.endsWith('.tmp')).to.equal(false);
    await s.undos[0]?.();
    expect(s.ran).to.deep.equal(['install a', 'install b', 'uninstall b']);
    expect(files('r1')).to.deep.equal([]);
    expect(existsSync(join(pendingUndoRoot(state), 'r1')), 'the empty run directory goes too').to.equal(
      false,
    );
  });

  it('a failed command leaves no record (its undo is not run, as without one); a failed undo keeps it', async () => {
    const failing = setupWith(/^install/);
    let error: unknown;
    await failing.go([{ action: 'command', run: 'install b', undo: 'uninstall b' }]).catch((e) => {
      error = e;
    });
    expect(String(error)).to.match(/exited with code 1/);
    expect(failing.recordsSeen).to.deep.equal([1]);
    expect(files('r1')).to.deep.equal([]);
    expect(failing.undos).to.have.length(0);

    const undoFails = setupWith(/^uninstall/);
    await undoFails.go([{ action: 'command', run: 'install b', undo: 'uninstall b' }]);
    let undoError: unknown;
    await undoFails.undos[0]?.().catch((e) => {
      undoError = e;
    });
    expect(String(undoError)).to.match(/undoing a command action/);
    expect(files('r1')).to.have.length(1);
  });

  it('a fault step is recorded too; when a later step fails, the earlier undo runs and both records go', async () => {
    const s = setupWith(/^install c/);
    let error: unknown;
    await injectFault(
      {
        kind: 'kubernetes',
        steps: [
          { action: 'command', run: 'install b', undo: 'uninstall b' },
          { action: 'command', run: 'install c', undo: 'uninstall c' },
        ],
      },
      s.ctx,
    ).catch((e) => {
      error = e;
    });
    expect(String(error)).to.match(/exited with code 1/);
    expect(s.recordsSeen).to.deep.equal([1, 2, 1]);
    expect(s.ran).to.deep.equal(['install b', 'install c', 'uninstall b']);
    expect(files('r1')).to.deep.equal([]);

    const ok = setupWith(undefined);
    const fault = await injectFault(
      { kind: 'kubernetes', steps: [{ action: 'command', run: 'install b', undo: 'uninstall b' }] },
      ok.ctx,
    );
    const [entry] = await readPendingUndos(state, 'r1');
    expect(entry?.record).to.include({ part: 'fault', step: 0 });
    await fault.revert();
    expect(files('r1')).to.deep.equal([]);
  });

  /** A fake process door: records what ran with which PATH and KUBECONFIG; fails scripts matching `failing`. */
  function fakeDoor(failing?: RegExp) {
    const calls: { script: string; path: string; kubeconfig: string; timeoutMs: number | undefined }[] = [];
    const exec = (async (_file, args, options) => {
      const script = String(args[args.length - 1]);
      calls.push({
        script,
        path: String(options?.env?.PATH),
        kubeconfig: String(options?.env?.KUBECONFIG),
        timeoutMs: options?.timeoutMs,
      });
      return result(script, failing?.test(script) ? 1 : 0, 'line 1\nError: revision b still in use');
    }) as typeof run;
    return { calls, exec };
  }

  const seed = async (runId: string, context = 'ctx-a') => {
    for (const [step, undo] of ['uninstall a', 'uninstall b'].entries()) {
      await recordPendingUndo(state, {
        runId,
        scenario: 'istio-upgrade',
        part: 'setup',
        step,
        undo,
        description: `ran \`install ${step}\``,
        env: env(context),
      });
    }
  };

  it('cleanup runs them in reverse, with the PATH the run gave and its own kubeconfig, and removes each record', async () => {
    await seed('r1');
    await seed('r2');
    const door = fakeDoor();
    const entries = await pendingUndosOf(state, ['r1']);
    const outcomes = await runPendingUndos(entries, {
      context: 'ctx-a',
      kubeconfig: '/pinned',
      workDir: state,
      exec: door.exec,
    });
    expect(door.calls.map((c) => c.script)).to.deep.equal(['uninstall b', 'uninstall a']);
    expect(door.calls[0]?.path.startsWith('/opt/istioctl-1.24:')).to.equal(true);
    expect(door.calls[0]?.kubeconfig).to.equal('/pinned');
    expect(door.calls[0]?.timeoutMs).to.equal(300_000);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['ran', 'ran']);
    expect(files('r1')).to.deep.equal([]);
    // Negative control: the other run's records were neither run nor removed.
    expect(files('r2')).to.have.length(2);
    expect((await pendingUndosOf(state, undefined)).map((e) => e.record.runId)).to.deep.equal(['r2', 'r2']);
  });

  it('a failing undo is reported with its stderr tail and its record kept; the others still run', async () => {
    await seed('r1');
    const door = fakeDoor(/uninstall b/);
    const outcomes = await runPendingUndos(await pendingUndosOf(state, ['r1']), {
      context: 'ctx-a',
      kubeconfig: '/pinned',
      workDir: state,
      exec: door.exec,
    });
    expect(outcomes.map((o) => o.status)).to.deep.equal(['failed', 'ran']);
    expect(outcomes[0]?.detail).to.match(/exited with code 1:\nline 1\nError: revision b still in use/);
    const left = await readPendingUndos(state, 'r1');
    expect(left.map((e) => e.record.undo)).to.deep.equal(['uninstall b']);
  });

  it('a record of another context is not run: the error names both', async () => {
    await seed('r1', 'prod');
    const door = fakeDoor();
    const outcomes = await runPendingUndos(await pendingUndosOf(state, ['r1']), {
      context: 'ctx-a',
      kubeconfig: '/pinned',
      workDir: state,
      exec: door.exec,
    });
    expect(door.calls).to.deep.equal([]);
    expect(outcomes[0]?.status).to.equal('other-context');
    expect(outcomes[0]?.detail).to.include('"prod"').and.to.include('"ctx-a"');
    expect(files('r1')).to.have.length(2);
    // With --all, they are left alone without counting as failures; the same context runs.
    const all = await runPendingUndos(await pendingUndosOf(state, undefined), {
      context: 'prod',
      kubeconfig: '/pinned',
      workDir: state,
      exec: door.exec,
      onlyContext: true,
    });
    expect(all.map((o) => o.status)).to.deep.equal(['ran', 'ran']);
  });

  it('refuses a run id that is not one path segment', async () => {
    let error: unknown;
    await pendingUndosOf(state, ['../etc']).catch((e) => {
      error = e;
    });
    expect(String(error)).to.include('not a run id');
  });
});
