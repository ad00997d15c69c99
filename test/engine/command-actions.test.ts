// Command actions on the in-process fake world: a setup command runs before the workload, the fault's command at
// injection, and at cleanup each undo runs once — the fault's first, then the setup's (the control plane the
// setup installed goes last) — and a setup command is not run again at cleanup. Control: a setup command without
// an undo leaves nothing to run at cleanup.

import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pendingUndoRoot, recordPendingUndo } from '../../harness/exec/index.js';
import type { ResolvedScenario } from '../../harness/model/index.js';
import { planScenarios } from '../../harness/engine/plan.js';
import { loadScenarios } from '../../harness/scenario/index.js';
import { FakeWorld, fakeScenario, runOnWorld } from '../support/fake-world.js';

/**
 * The fake world, with every script its command door was given, in order; with a state directory, undos are
 * recorded there and each script also notes how many records exist while it runs.
 */
class RecordingWorld extends FakeWorld {
  readonly scripts: string[] = [];
  constructor(
    private readonly state?: string,
    private readonly failing?: RegExp,
  ) {
    super();
  }
  records(): number {
    const dir = this.state ? join(pendingUndoRoot(this.state), 'r') : '';
    return dir && existsSync(dir) ? readdirSync(dir).length : 0;
  }
  override connect(): ReturnType<FakeWorld['connect']> {
    const inner = super.connect();
    const state = this.state;
    return {
      ...inner,
      runCommand: (script, signal, timeoutMs) => {
        this.scripts.push(state ? `${script} [${this.records()}]` : script);
        if (this.failing?.test(script)) {
          return Promise.resolve({ ...fails, command: script });
        }
        return inner.runCommand(script, signal, timeoutMs);
      },
      ...(state
        ? {
            recordPendingUndo: (step) =>
              recordPendingUndo(state, {
                ...step,
                runId: 'r',
                env: { context: 'c', kubeconfig: '/k', path: [], cwd: '/' },
              }),
          }
        : {}),
    };
  }
}

const fails = {
  command: '',
  exitCode: 1,
  signal: null,
  stdout: '',
  stderr: 'Error: revision a still in use',
  durationMs: 0,
  timedOut: false,
};

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

  it('each undo is recorded before its command runs and its record goes once it has run', async () => {
    const state = mkdtempSync(join(tmpdir(), 'meshdrill-engine-undos-'));
    try {
      const world = new RecordingWorld(state);
      await runOnWorld(world, [withCommands('uninstall a')]);
      const mine = world.scripts.filter((s) => /install [ab] \[/.test(s));
      // [n]: the records on disk while that script ran (the setup's, then the fault's too; gone as each undo ends).
      expect(mine).to.deep.equal(['install a [1]', 'install b [2]', 'uninstall b [2]', 'uninstall a [1]']);
      expect(world.records()).to.equal(0);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('a setup undo that fails at the run’s cleanup keeps its record, and the cleanup error says how to retry', async () => {
    const state = mkdtempSync(join(tmpdir(), 'meshdrill-engine-undos-'));
    try {
      const world = new RecordingWorld(state, /^uninstall a$/);
      const { journal } = await runOnWorld(world, [withCommands('uninstall a')]);
      expect(world.records()).to.equal(1);
      const cleanup = journal.events.find(
        (e) => e.type === 'phase-end' && e.phase === 'cleanup' && e.outcome === 'cleanup-failed',
      );
      expect(JSON.stringify(cleanup))
        .to.include('revision a still in use')
        .and.include('meshdrill cleanup --run-id');
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('control: a setup command without undo leaves nothing to run at cleanup', async () => {
    const world = new RecordingWorld();
    await runOnWorld(world, [withCommands(undefined)]);
    const mine = world.scripts.filter((s) => /install [ab]$/.test(s));
    expect(mine).to.deep.equal(['install a', 'install b', 'uninstall b']);
  });
});

describe('plan: command actions (meshdrill run --dry-run)', () => {
  it('shows each script by the line that acts, its undo in the blast radius, and never re-runs a setup command', async () => {
    const { scenarios, problems } = await loadScenarios(['scenarios/istio-upgrade.yaml'], { target: 'kind' });
    expect(problems).to.deep.equal([]);
    const [section] = await planScenarios(scenarios, undefined);
    const actions = (section?.steps ?? []).flatMap((s) =>
      s.step === 'action' && s.action.startsWith('command') ? [`${s.action} — ${s.purpose}`] : [],
    );
    expect(actions).to.deep.equal([
      'command `istioctl-1.29.9 install --set revision=drill-1-29 --set profile=minimal -y` (a 11-line script) — workload setup',
      'command `istioctl-1.30.3 install --set revision=drill-1-30 --set profile=minimal -y` (a 5-line script) — the fault (kubernetes); removed at cleanup',
    ]);
    const radius = (section?.blastRadius ?? [])
      .filter((b) => b.object === 'shell command')
      .map((b) => b.change);
    expect(radius).to.have.length(2);
    for (const change of radius)
      expect(change).to.match(/; undone at cleanup by `left=\$\(kubectl get .*\(a 2-line script\)$/);
  });

  it("lists the drill's recovery conditions and, apart, those a variant is judged against instead", async () => {
    const { scenarios } = await loadScenarios(['scenarios/istio-upgrade.yaml'], { target: 'kind' });
    const [section] = await planScenarios(scenarios, undefined);
    const texts = (section?.steps ?? []).flatMap((s) =>
      s.step === 'note'
        ? [s.text]
        : s.step === 'command' && s.purpose.startsWith('recovery')
          ? [s.purpose]
          : [],
    );
    const from = texts.findIndex((t) => t.startsWith('recovery condition'));
    expect(texts.slice(from)).to.deep.equal([
      'recovery condition proxies-on-new-revision (polled, read-only by intent)',
      'recovery condition old-revision-gone (polled, read-only by intent)',
      'variant rollback is judged against its own recovery: proxies-on-old-revision, new-revision-gone, no-burn-rate-page (budget 4m00s, verify 1m00s)',
      'recovery condition proxies-on-old-revision of variant rollback (polled, read-only by intent)',
      'recovery condition new-revision-gone of variant rollback (polled, read-only by intent)',
    ]);
  });
});
