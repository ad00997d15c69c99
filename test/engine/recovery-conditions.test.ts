// Engine tests of recovery.conditions and duringFault: { slos: hold } on the in-process fake world: a recovery
// condition that never holds fails a main variant and lets a negative control pass although the SLOs came back;
// a condition that becomes true with the fix lets the drill pass; an SLO asserted during the fault fails a
// variant whose fault breaks it and passes one whose fault does not.

import { expect } from 'chai';
import type { EngineContext } from '../../harness/engine/index.js';
import { runSuite } from '../../harness/engine/index.js';
import { createJournal } from '../../harness/journal/index.js';
import {
  EXIT_CODES,
  type EventOf,
  type JournalEvent,
  type RecoveryCondition,
  type ResolvedScenario,
} from '../../harness/model/index.js';
import { FakeWorld, fakeRunbook, fakeScenario } from '../support/fake-world.js';

type Ports = Omit<EngineContext, 'runId' | 'journal' | 'interrupt'>;

async function runOn(world: FakeWorld, scenarios: ResolvedScenario[], adapt: (p: Ports) => Ports = (p) => p) {
  const journal = createJournal();
  const result = await runSuite({
    runId: 'test-run',
    journal,
    target: world.target(),
    scenarios,
    repeat: 1,
    workDir: '/tmp',
    ruleFiles: [],
    settings: {},
    interrupt: new AbortController().signal,
    connect: () => adapt(world.connect()),
    cleanupTimeoutMs: 1000,
  });
  return { result, events: journal.events };
}

const byId = (events: readonly JournalEvent[], id: string, variant = 'main') =>
  events.find(
    (e): e is EventOf<'assertion'> => e.type === 'assertion' && e.variant === variant && e.id === id,
  );
const recoveryOf = (events: readonly JournalEvent[], variant: string) =>
  events.find((e): e is EventOf<'recovery'> => e.type === 'recovery' && e.variant === variant);
const endOf = (events: readonly JournalEvent[], variant: string) =>
  events.find((e): e is EventOf<'scenario-end'> => e.type === 'scenario-end' && e.variant === variant);

/** A command condition whose probe keeps failing, as `kubectl get` on a VirtualService that never converges. */
const neverConverges: RecoveryCondition = {
  name: 'config-converges',
  kind: 'command',
  run: 'kubectl get virtualservice frontend',
  expectExitCode: 0,
  pollMs: 200,
};
const failingCommands = (p: Ports): Ports => ({
  ...p,
  runCommand: async (script) => ({
    command: script,
    exitCode: 1,
    signal: null,
    stdout: '',
    stderr: 'Error from server (NotFound): virtualservices "frontend" not found',
    durationMs: 1,
    timedOut: false,
  }),
});

/** True once the fix has deleted the PodChaos. */
const chaosGone: RecoveryCondition = {
  name: 'chaos-gone',
  kind: 'kubernetes',
  resource: {
    apiVersion: 'chaos-mesh.org/v1alpha1',
    kind: 'PodChaos',
    namespace: 'md-fake',
    name: 'kill-web',
  },
  field: 'metadata.name',
  op: 'exists',
  match: 'none',
  pollMs: 200,
};

describe('engine: recovery conditions', function () {
  this.timeout(90_000);

  it('fails the main variant and passes a negative control when a condition never holds, though the SLOs do', async () => {
    const world = new FakeWorld();
    const base = fakeScenario();
    const scenario = fakeScenario({
      recovery: { ...base.recovery, conditions: [neverConverges] },
      variants: [
        ...base.variants,
        // The control runs the real fix: only the condition can keep it from recovering.
        {
          name: 'fix-without-convergence',
          runbook: fakeRunbook('/runbooks/fix.md'),
          expect: 'no-recovery',
        },
      ],
    });
    const { result, events } = await runOn(world, [scenario], failingCommands);

    const recover = byId(events, 'recover');
    expect(recover?.passed).to.equal(false);
    expect(recover?.name).to.equal('the runbook restores the SLOs and the recovery conditions within budget');
    expect(recover?.message).to.match(
      /^condition config-converges never true \(last: exit 1: Error from server/,
    );
    expect(recoveryOf(events, 'main')?.reason).to.equal(recover?.message);
    expect(endOf(events, 'main')?.outcome).to.equal('failed');
    // The SLOs did come back: the after-recovery window holds; the condition alone blocked.
    const after = events.findLast(
      (e): e is EventOf<'slo-window'> =>
        e.type === 'slo-window' && e.variant === 'main' && e.window === 'after-recovery',
    );
    expect(after?.results.every((r) => r.passed)).to.equal(true);

    const control = byId(events, 'recover:negative-control', 'fix-without-convergence');
    expect(control?.passed, control?.message).to.equal(true);
    expect(control?.message).to.match(/^as expected, no recovery: condition config-converges never true/);
    expect(endOf(events, 'fix-without-convergence')?.outcome).to.equal('passed');
    expect(result.exitCode).to.equal(EXIT_CODES.assertionFailed);

    // Every poll is journaled with when it was taken, from the runbook's start on.
    const observations = events.filter(
      (e): e is EventOf<'condition'> =>
        e.type === 'condition' && e.role === 'recovery' && e.variant === 'main',
    );
    expect(observations.length).to.be.greaterThan(5);
    const runbookStart = events.find(
      (e): e is EventOf<'phase-start'> =>
        e.type === 'phase-start' && e.variant === 'main' && e.phase === 'remediate',
    );
    for (const o of observations) {
      expect(o).to.include({ name: 'config-converges', kind: 'command', fired: false });
      expect(o.observedAt)
        .to.be.a('number')
        .and.at.least((runbookStart?.t ?? 0) - 5);
    }
    const start = events.find(
      (e): e is EventOf<'scenario-start'> => e.type === 'scenario-start' && e.variant === 'main',
    );
    expect(start?.recovery.conditions).to.deep.equal([{ name: 'config-converges', kind: 'command' }]);
  });

  it('passes when the condition becomes true with the fix (the PodChaos is gone)', async () => {
    const world = new FakeWorld();
    const base = fakeScenario();
    const { result, events } = await runOn(world, [
      fakeScenario({ recovery: { ...base.recovery, conditions: [chaosGone] } }),
    ]);
    const recover = byId(events, 'recover');
    expect(recover?.passed, recover?.message).to.equal(true);
    expect(recover?.message).to.match(/; condition chaos-gone true at its start and end$/);
    const observations = events.filter(
      (e): e is EventOf<'condition'> => e.type === 'condition' && e.role === 'recovery',
    );
    expect(observations.some((o) => o.fired)).to.equal(true);
    expect(recoveryOf(events, 'main')).to.not.have.property('reason');
    expect(result.exitCode).to.equal(EXIT_CODES.passed);
  });
});

describe('engine: a runbook variant with recovery conditions of its own', function () {
  this.timeout(90_000);

  // The drill asks for a condition the fix never meets; the variant asks for one the fix meets (chaosGone).
  const drill = (variant: ResolvedScenario['variants'][number]) => {
    const base = fakeScenario();
    return fakeScenario({
      recovery: { ...base.recovery, conditions: [neverConverges] },
      variants: [variant],
    });
  };
  const fixVariant = {
    name: 'other-fix',
    runbook: fakeRunbook('/runbooks/fix.md'),
    expect: 'recovery' as const,
  };

  it('is judged against its own conditions: it recovers though the drill’s would never hold', async () => {
    const base = fakeScenario();
    const own = {
      recovery: { ...base.recovery, conditions: [chaosGone] },
      timeouts: { remediate: base.timeouts.remediate, recover: base.timeouts.recover },
    };
    const { result, events } = await runOn(
      world(),
      [drill({ ...fixVariant, ownRecovery: own })],
      failingCommands,
    );
    const recover = byId(events, 'recover', 'other-fix');
    expect(recover?.passed, recover?.message).to.equal(true);
    expect(recover?.message).to.match(/; condition chaos-gone true at its start and end$/);
    const start = events.find(
      (e): e is EventOf<'scenario-start'> => e.type === 'scenario-start' && e.variant === 'other-fix',
    );
    expect(start?.recovery.conditions).to.deep.equal([{ name: 'chaos-gone', kind: 'kubernetes' }]);
    // The drill's condition was never polled in this variant.
    const polled = events.filter(
      (e): e is EventOf<'condition'> => e.type === 'condition' && e.role === 'recovery',
    );
    expect(new Set(polled.map((o) => o.name))).to.deep.equal(new Set(['chaos-gone']));
    expect(result.exitCode).to.equal(EXIT_CODES.passed);
  });

  it('negative control: the same variant judged against the drill’s conditions does not recover', async () => {
    const { result, events } = await runOn(world(), [drill(fixVariant)], failingCommands);
    const recover = byId(events, 'recover', 'other-fix');
    expect(recover?.passed).to.equal(false);
    expect(recover?.message).to.match(/^condition config-converges never true/);
    expect(result.exitCode).to.equal(EXIT_CODES.assertionFailed);
  });
});

const world = () => new FakeWorld();

/**
 * A detection signal that fires while `faulted()` — but only after a 2.5 s probe, so the during-fault window
 * (injection → runbook) holds a few whole seconds of load, as it does on a real cluster.
 */
const slowSignal: ResolvedScenario['signals'][number] = {
  name: 'slow-probe',
  kind: 'command',
  run: 'slow-probe',
  expectExitCode: 0,
  withinMs: 5000,
  pollMs: 200,
};
const slowProbe =
  (faulted: () => boolean) =>
  (p: Ports): Ports => ({
    ...p,
    runCommand: async (script, signal) => {
      const result = await p.runCommand(script, signal);
      if (script !== 'slow-probe') return result;
      if (!faulted()) return { ...result, exitCode: 1 };
      await new Promise((r) => setTimeout(r, 2500));
      return result;
    },
  });

describe('engine: duringFault: { slos: hold }', function () {
  this.timeout(90_000);

  it('fails a variant whose fault breaks the SLO, negative control included', async () => {
    const world = new FakeWorld();
    const scenario = fakeScenario({
      duringFault: { slos: 'hold' },
      signals: [slowSignal],
      variants: [...fakeScenario().variants, { name: 'empty-runbook', runbook: null, expect: 'no-recovery' }],
    });
    const { result, events } = await runOn(
      world,
      [scenario],
      slowProbe(() => world.broken),
    );
    for (const variant of ['main', 'empty-runbook']) {
      const during = byId(events, 'during-fault:slo:success_rate >= 99%', variant);
      expect(during?.passed, `${variant}: ${during?.message}`).to.equal(false);
      expect(during?.name).to.equal('SLO holds during the fault: success_rate >= 99%');
      expect(during?.message).to.match(
        /^success_rate >= 99% over the during-fault window \(.+ from injection to the runbook\): measured 0%$/,
      );
      expect(during?.informational).to.equal(undefined);
      expect(endOf(events, variant)?.outcome).to.equal('failed');
    }
    // The other assertions are unaffected: the main variant recovered, the control did not.
    expect(byId(events, 'recover')?.passed).to.equal(true);
    expect(byId(events, 'recover:negative-control', 'empty-runbook')?.passed).to.equal(true);
    expect(result.exitCode).to.equal(EXIT_CODES.assertionFailed);
  });

  it('passes a variant whose fault leaves the SLO intact, and asserts nothing without hold', async () => {
    // An Istio object the fake world ignores: the service keeps answering.
    const harmless = (duringFault: ResolvedScenario['duringFault']) =>
      fakeScenario({
        duringFault,
        fault: {
          kind: 'istio',
          manifest: {
            apiVersion: 'networking.istio.io/v1',
            kind: 'VirtualService',
            metadata: { name: 'harmless' },
            spec: {},
          },
        },
        efficacy: [
          {
            name: 'vs-applied',
            kind: 'kubernetes',
            resource: {
              apiVersion: 'networking.istio.io/v1',
              kind: 'VirtualService',
              namespace: 'md-fake',
              name: 'harmless',
            },
            field: 'metadata.name',
            op: 'exists',
            match: 'any',
            withinMs: 3000,
            pollMs: 200,
          },
        ],
        signals: [slowSignal],
      });
    const applied = (world: FakeWorld) => () => world.objects.has('VirtualService/md-fake/harmless');
    const world = new FakeWorld();
    const { result, events } = await runOn(world, [harmless({ slos: 'hold' })], slowProbe(applied(world)));
    const during = byId(events, 'during-fault:slo:success_rate >= 99%');
    expect(during?.passed, during?.message).to.equal(true);
    expect(during?.message).to.match(/measured 100%$/);
    expect(endOf(events, 'main')?.outcome).to.equal('passed');
    expect(result.exitCode).to.equal(EXIT_CODES.passed);

    const other = new FakeWorld();
    const plain = await runOn(other, [harmless({ slos: 'ignore' })], slowProbe(applied(other)));
    expect(plain.result.exitCode).to.equal(EXIT_CODES.passed);
    expect(plain.events.some((e) => e.type === 'assertion' && e.id.startsWith('during-fault:'))).to.equal(
      false,
    );
  });
});
