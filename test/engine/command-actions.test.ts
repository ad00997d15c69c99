// Command actions on the in-process fake world: a setup command runs before the workload, the fault's command at
// injection, and at cleanup each undo runs once — the fault's first, then the setup's (the control plane the
// setup installed goes last) — and a setup command is not run again at cleanup. Control: a setup command without
// an undo leaves nothing to run at cleanup.

import { expect } from 'chai';
import type { ResolvedScenario } from '../../harness/model/index.js';
import { FakeWorld, fakeScenario, runOnWorld } from '../support/fake-world.js';

/** The fake world, with every script its command door was given, in order. */
class RecordingWorld extends FakeWorld {
  readonly scripts: string[] = [];
  override connect(): ReturnType<FakeWorld['connect']> {
    const inner = super.connect();
    return {
      ...inner,
      runCommand: (script, signal, timeoutMs) => {
        this.scripts.push(script);
        return inner.runCommand(script, signal, timeoutMs);
      },
    };
  }
}

function withCommands(setupUndo: string | undefined): ResolvedScenario {
  const base = fakeScenario();
  return {
    ...base,
    workload: {
      ...base.workload,
      setup: [{ action: 'command', run: 'install a', ...(setupUndo ? { undo: setupUndo } : {}) }],
    },
    fault: { kind: 'kubernetes', steps: [{ action: 'command', run: 'install b', undo: 'uninstall b' }] },
  };
}

describe('engine: command actions in setup and fault', function () {
  this.timeout(60_000);

  it('runs setup, then the fault; at cleanup the fault’s undo, then the setup’s, each once', async () => {
    const world = new RecordingWorld();
    await runOnWorld(world, [withCommands('uninstall a')]);
    const mine = world.scripts.filter((s) => /install [ab]$/.test(s));
    expect(mine).to.deep.equal(['install a', 'install b', 'uninstall b', 'uninstall a']);
  });

  it('control: a setup command without undo leaves nothing to run at cleanup', async () => {
    const world = new RecordingWorld();
    await runOnWorld(world, [withCommands(undefined)]);
    const mine = world.scripts.filter((s) => /install [ab]$/.test(s));
    expect(mine).to.deep.equal(['install a', 'install b', 'uninstall b']);
  });
});
