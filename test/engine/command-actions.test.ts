// Command actions on the in-process fake world: a setup command runs before the workload, the fault's command at
// injection, and at cleanup each undo runs once — the fault's first, then the setup's (the control plane the
// setup installed goes last) — and a setup command is not run again at cleanup. Control: a setup command without
// an undo leaves nothing to run at cleanup.

import { expect } from 'chai';
import type { ResolvedScenario } from '../../harness/model/index.js';
import { planScenarios } from '../../harness/engine/plan.js';
import { loadScenarios } from '../../harness/scenario/index.js';
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
