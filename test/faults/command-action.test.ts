// The `command` action: a shell script run through the target's command door (what istioctl install is to a real
// cluster), failing on a non-zero exit, with an `undo` script that cleanup runs. Fake shell, no cluster: every
// Kubernetes call throws, so a test also proves a command action never waits on rollouts it did not make.

import { expect } from 'chai';
import type { ExecResult } from '../../harness/exec/index.js';
import { type FaultContext, injectFault, runAction, runSetupActions } from '../../harness/faults/index.js';
import type { KubeClient } from '../../harness/kube/index.js';

function fakeShell(failing: RegExp | undefined = undefined) {
  const ran: string[] = [];
  const runCommand = async (script: string): Promise<ExecResult> => {
    ran.push(script);
    const fails = failing?.test(script) ?? false;
    return {
      command: script,
      exitCode: fails ? 1 : 0,
      signal: null,
      stdout: '',
      stderr: fails ? 'Error: could not find target revision' : '',
      durationMs: 1,
      timedOut: false,
    };
  };
  return { ran, runCommand };
}

const noCluster = new Proxy({} as KubeClient, {
  get: () => () => Promise.reject(new Error('no cluster in this test')),
});

function contextWith(shell: ReturnType<typeof fakeShell> | undefined): FaultContext {
  return {
    kube: noCluster,
    runId: 'r1',
    scenario: 'istio-upgrade',
    defaultNamespace: 'drill-istio-upgrade',
    ...(shell ? { runCommand: shell.runCommand } : {}),
  };
}

describe('fault and setup action: command', () => {
  it('runs the script, and its undo only when reverted', async () => {
    const shell = fakeShell();
    const done = await runAction(
      {
        action: 'command',
        run: 'istioctl install --set revision=b -y',
        undo: 'istioctl uninstall --revision b -y',
      },
      contextWith(shell),
    );
    expect(shell.ran).to.deep.equal(['istioctl install --set revision=b -y']);
    expect(done.description).to.equal('ran `istioctl install --set revision=b -y`');
    await done.revert();
    expect(shell.ran).to.deep.equal([
      'istioctl install --set revision=b -y',
      'istioctl uninstall --revision b -y',
    ]);
  });

  it('fails on a non-zero exit with what the script said; a zero exit is no failure', async () => {
    const shell = fakeShell(/uninstall/);
    let error: unknown;
    try {
      await runAction({ action: 'command', run: 'istioctl uninstall --revision a -y' }, contextWith(shell));
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(
      /command action: `istioctl uninstall --revision a -y` exited with code 1:\nError: could not find target revision/,
    );
    // Negative control: the same shell lets a passing script through.
    await runAction({ action: 'command', run: 'true' }, contextWith(shell));
  });

  it('fails clearly where there is no shell to run it with', async () => {
    let error: unknown;
    try {
      await runAction({ action: 'command', run: 'true' }, contextWith(undefined));
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.contain('command action: no shell to run it with here');
  });

  it('in a kubernetes fault, a failing step undoes the commands that ran before it', async () => {
    const shell = fakeShell(/relabel/);
    let error: unknown;
    try {
      await injectFault(
        {
          kind: 'kubernetes',
          steps: [
            { action: 'command', run: 'install b', undo: 'uninstall b' },
            { action: 'command', run: 'relabel' },
          ],
        },
        contextWith(shell),
      );
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.contain('`relabel` exited with code 1');
    expect(shell.ran).to.deep.equal(['install b', 'relabel', 'uninstall b']);
  });

  it('as a setup action: hands its undo to the caller, waits on no rollout, and a command without undo gives none', async () => {
    const shell = fakeShell();
    const undos: string[] = [];
    const reverts: (() => Promise<void>)[] = [];
    const done = await runSetupActions(
      [
        { action: 'command', run: 'install a', undo: 'uninstall a' },
        { action: 'command', run: 'echo ready' },
      ],
      contextWith(shell),
      {
        timeoutMs: 1000,
        onUndo: (revert, description) => {
          undos.push(description);
          reverts.push(revert);
        },
      },
    );
    expect(done).to.deep.equal(['ran `install a`', 'ran `echo ready`']);
    expect(undos).to.deep.equal(['ran `install a`']);
    for (const revert of reverts) await revert();
    expect(shell.ran).to.deep.equal(['install a', 'echo ready', 'uninstall a']);
  });
});

describe('fault and setup action: command — what the journal says it ran', () => {
  it('names the line that acts, not the guard before it, and how long the script is', async () => {
    const shell = fakeShell();
    const script = [
      'if kubectl -n istio-system get deployment istiod-b >/dev/null 2>&1; then',
      '  echo "revision b exists already" >&2',
      '  exit 1',
      'fi',
      'istioctl install --set revision=b -y',
    ].join('\n');
    const done = await runAction({ action: 'command', run: script }, contextWith(shell));
    expect(done.description).to.equal('ran `istioctl install --set revision=b -y` (a 5-line script)');
    // Control: a script that is all guard falls back to its first line.
    const guardOnly = await runAction(
      { action: 'command', run: 'if true; then\n  exit 0\nfi' },
      contextWith(shell),
    );
    expect(guardOnly.description).to.equal('ran `if true; then` (a 3-line script)');
  });
});
