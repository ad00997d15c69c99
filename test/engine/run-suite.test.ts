// Engine tests on the in-process fake world (issue 2 "Tests that must exist"): teardown after a failure, after a
// phase timeout and after a real SIGINT; a failing cleanup has its own exit code; a negative control whose
// runbook does nothing is judged as not recovering.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ProvisionOptions, Target, TargetEnvironment } from '../../clusters/target.js';
import { runSuite } from '../../harness/engine/index.js';
import type { SuiteOptions } from '../../harness/engine/run-suite.js';
import { createJournal } from '../../harness/journal/index.js';
import {
  EXIT_CODES,
  type EventOf,
  JOURNAL_VERSION,
  type JournalEvent,
  type ResolvedScenario,
  RUN_ID_LABEL,
} from '../../harness/model/index.js';
import { FakeWorld, fakeRunbook, fakeScenario } from '../support/fake-world.js';

/** A suite of the scenarios on one target: one iteration, no rule files, no interrupt. */
function suiteOptions(
  target: Target,
  scenarios: ResolvedScenario[],
  more: Pick<SuiteOptions, 'connect'> & Partial<SuiteOptions>,
): SuiteOptions {
  return {
    runId: 'test-run',
    journal: createJournal(),
    target,
    scenarios,
    repeat: 1,
    workDir: '/tmp',
    ruleFiles: [],
    settings: {},
    interrupt: new AbortController().signal,
    cleanupTimeoutMs: 1000,
    ...more,
  };
}

async function runOn(world: FakeWorld, scenarios: ResolvedScenario[]) {
  const target = world.target();
  const options = suiteOptions(target, scenarios, { connect: () => world.connect() });
  const result = await runSuite(options);
  return { result, events: options.journal.events, target };
}

const assertions = (events: readonly JournalEvent[], variant?: string) =>
  events.filter(
    (e): e is EventOf<'assertion'> => e.type === 'assertion' && (!variant || e.variant === variant),
  );
const byId = (events: readonly JournalEvent[], id: string, variant = 'main') =>
  assertions(events, variant).find((a) => a.id === id);

describe('engine: a suite on the fake world', function () {
  this.timeout(60_000);

  it('passes a drill whose runbook removes the fault, and removes everything it created', async () => {
    const world = new FakeWorld();
    const { result, events, target } = await runOn(world, [fakeScenario()]);
    expect(result.exitCode).to.equal(EXIT_CODES.passed);
    expect(byId(events, 'detect:errors-visible')?.passed).to.equal(true);
    expect(byId(events, 'efficacy:chaos-object-exists')?.passed).to.equal(true);
    const recover = byId(events, 'recover');
    expect(recover?.passed, recover?.message).to.equal(true);
    expect(recover?.measured).to.be.a('number').and.at.most(4000);
    expect(target.tornDown).to.equal(1);
    expect(world.objects.size, [...world.objects.keys()].join(',')).to.equal(0);
    const cleanup = events.find((e) => e.type === 'cleanup');
    expect(cleanup).to.include({ ok: true });
  });

  it('writes the whole journal: run-start first, provisioning at the suite scope, each event naming its execution', async () => {
    const world = new FakeWorld();
    const target = world.target();
    const options = suiteOptions(target, [fakeScenario()], {
      connect: () => world.connect(),
      repeat: 2,
      invocation: { meshdrillVersion: '9.9.9', argv: ['run', 'x.yaml'] },
      notes: ['why this parallelism'],
    });
    const result = await runSuite(options);
    const events = options.journal.events;
    expect(result.exitCode).to.equal(EXIT_CODES.passed);
    expect(events[0]).to.deep.include({
      type: 'run-start',
      version: JOURNAL_VERSION,
      runId: 'test-run',
      meshdrillVersion: '9.9.9',
      argv: ['run', 'x.yaml'],
      target: target.name,
      repeat: 2,
      parallel: 1,
    });
    expect(events[1]).to.include({ type: 'log', level: 'info', message: 'why this parallelism' });
    const provision = events.filter((e) => e.type === 'phase-start' && e.phase === 'provision');
    expect(provision).to.have.length(1);
    expect(provision[0]).to.include({ scope: 'suite' }).and.not.have.property('scenario');
    // Every event of an execution names it; the two repeats' events are told apart by their own fields alone.
    const scoped = events.filter((e) => 'variant' in e && e.type !== 'log');
    expect(scoped.every((e) => 'iteration' in e && typeof e.iteration === 'number')).to.equal(true);
    const ids = new Set(
      scoped.map((e) => ('iteration' in e ? `${e.scenario}/${e.variant}#${e.iteration}` : '')),
    );
    expect([...ids]).to.deep.equal(['fake-outage/main#1', 'fake-outage/main#2']);
    expect(events.at(-1)?.type).to.equal('run-end');
  });

  it('judges a negative control whose runbook does nothing as not recovering', async () => {
    const world = new FakeWorld();
    const scenario = fakeScenario({
      variants: [{ name: 'empty-runbook', runbook: null, expect: 'no-recovery' }],
    });
    const { result, events } = await runOn(world, [scenario]);
    const control = byId(events, 'recover:negative-control', 'empty-runbook');
    expect(control?.passed, control?.message).to.equal(true);
    expect(control?.message).to.match(/no recovery/);
    const recovery = events.find((e): e is EventOf<'recovery'> => e.type === 'recovery');
    expect(recovery?.recovered).to.equal(false);
    expect(result.exitCode).to.equal(EXIT_CODES.passed);
  });

  it('fails loudly when a negative control recovers (an assertion that cannot fail)', async () => {
    const world = new FakeWorld();
    const scenario = fakeScenario({
      variants: [
        {
          name: 'fix-as-control',
          runbook: fakeRunbook('/runbooks/fix.md'),
          expect: 'no-recovery',
        },
      ],
    });
    const { result, events } = await runOn(world, [scenario]);
    const control = byId(events, 'recover:negative-control', 'fix-as-control');
    expect(control?.passed).to.equal(false);
    expect(control?.message).to.match(/NEGATIVE CONTROL RECOVERED/);
    expect(result.exitCode).to.equal(EXIT_CODES.assertionFailed);
  });

  it('reports a signal on trial that never fires without failing the drill; judged, the same miss fails it', async () => {
    const trial = (informational: boolean) =>
      fakeScenario({
        signals: [
          { name: 'errors-visible', kind: 'promql', query: 'fake_errors > 0', withinMs: 3000, pollMs: 200 },
          {
            name: 'memory-alert',
            kind: 'alert',
            alert: 'ProxyMemoryHigh',
            withinMs: 1500,
            pollMs: 200,
            ...(informational ? { informational: true } : {}),
          },
        ],
      });
    const onTrial = await runOn(new FakeWorld(), [trial(true)]);
    const missed = byId(onTrial.events, 'detect:memory-alert');
    expect(missed?.passed).to.equal(false);
    expect(missed?.informational).to.equal(true);
    expect(onTrial.result.exitCode).to.equal(EXIT_CODES.passed);
    const start = onTrial.events.find((e) => e.type === 'scenario-start');
    expect(start?.type === 'scenario-start' && start.signals[1]).to.include({ informational: true });

    const judged = await runOn(new FakeWorld(), [trial(false)]);
    expect(byId(judged.events, 'detect:memory-alert')?.informational).to.equal(undefined);
    expect(judged.result.exitCode).to.equal(EXIT_CODES.assertionFailed);
  });

  it('leaves notification signals out on a target without Alertmanager, saying so, instead of failing them', async () => {
    const scenario = fakeScenario({
      signals: [
        { name: 'errors-visible', kind: 'promql', query: 'fake_errors > 0', withinMs: 3000, pollMs: 200 },
        {
          name: 'page-delivered',
          kind: 'notification',
          alert: 'ErrorBudgetBurnFast',
          withinMs: 1500,
          pollMs: 200,
        },
      ],
    });
    const { result, events } = await runOn(new FakeWorld(), [scenario]);
    expect(result.exitCode).to.equal(EXIT_CODES.passed);
    expect(byId(events, 'detect:page-delivered')).to.equal(undefined);
    expect(byId(events, 'detect:errors-visible')?.passed).to.equal(true);
    const warning = events.find(
      (e) => e.type === 'log' && e.level === 'warn' && e.message.includes('page-delivered'),
    );
    expect(warning?.type === 'log' && warning.message).to.equal(
      'page-delivered not judged: this fake target runs no Alertmanager (notification signals need an Alertmanager) (docs/targets.md)',
    );
  });

  it("leaves a variant's own notification recovery condition out as well, saying so", async () => {
    const base = fakeScenario();
    const ticket = {
      name: 'ticket-filed',
      kind: 'notification' as const,
      alert: 'ErrorBudgetBurnFast',
      pollMs: 200,
    };
    const own = {
      recovery: { ...base.recovery, conditions: [ticket] },
      timeouts: { remediate: base.timeouts.remediate, recover: base.timeouts.recover },
    };
    const scenario = fakeScenario({
      variants: [
        { name: 'other-fix', runbook: fakeRunbook('/runbooks/fix.md'), expect: 'recovery', ownRecovery: own },
      ],
    });
    const { result, events } = await runOn(new FakeWorld(), [scenario]);
    const warning = events.find((e) => e.type === 'log' && e.level === 'warn');
    expect(warning?.type === 'log' && warning.message).to.match(
      /^ticket-filed not judged: this fake target runs no/,
    );
    const start = events.find(
      (e): e is EventOf<'scenario-start'> => e.type === 'scenario-start' && e.variant === 'other-fix',
    );
    expect(start?.recovery).to.not.have.property('conditions');
    const recover = byId(events, 'recover', 'other-fix');
    expect(recover?.passed, recover?.message).to.equal(true);
    expect(result.exitCode).to.equal(EXIT_CODES.passed);
  });

  it("keeps notification signals on the user's Alertmanager, saying they are judged from its routing only", async () => {
    const scenario = fakeScenario({
      signals: [
        { name: 'errors-visible', kind: 'promql', query: 'fake_errors > 0', withinMs: 3000, pollMs: 200 },
        {
          name: 'page-routed',
          kind: 'notification',
          alert: 'ErrorBudgetBurnFast',
          withinMs: 600,
          pollMs: 200,
        },
      ],
    });
    const run = async (alertmanager: TargetEnvironment['alertmanager']) => {
      const world = new FakeWorld();
      const target = world.target();
      const provision = target.provision;
      target.provision = async (o) => ({
        ...(await provision(o)),
        ...(alertmanager ? { alertmanager } : {}),
      });
      const options = suiteOptions(target, [scenario], { connect: () => world.connect() });
      await runSuite(options);
      return options.journal.events;
    };
    const events = await run({ url: 'http://127.0.0.1:1', routingDelayMs: 300_000 });
    expect(byId(events, 'detect:page-routed')).to.not.equal(undefined);
    const note = events.find((e) => e.type === 'log' && e.message.includes('page-routed'));
    expect(note?.type === 'log' && note.level).to.equal('info');
    expect(note?.type === 'log' && note.message).to.equal(
      "page-routed judged from Alertmanager's routing at http://127.0.0.1:1: an alert it holds active for a receiver counts as routed once its routing delay (300s) passed; delivery to the pager is not observed",
    );
    // With meshdrill's own receiver, deliveries are observed: no such note.
    const observed = await run({
      url: 'http://127.0.0.1:1',
      receiverUrl: 'http://127.0.0.1:2',
      routingDelayMs: 10_000,
    });
    expect(observed.some((e) => e.type === 'log' && e.message.includes('judged from Alertmanager'))).to.equal(
      false,
    );
  });

  describe('with clusters of their own (Target.sibling, --parallel)', () => {
    /** A target whose siblings are fresh fake worlds, each found again by its kubeconfig path. */
    function withSiblings(shared: FakeWorld, failTeardownOf?: number, failProvisionOf?: number) {
      const worlds = new Map<string, FakeWorld>([['/dev/null', shared]]);
      const siblings: ReturnType<FakeWorld['target']>[] = [];
      const target = Object.assign(shared.target(), {
        sibling: () => {
          const world = new FakeWorld();
          const index = siblings.length;
          const kubeconfigPath = `/dev/null#${index}`;
          worlds.set(kubeconfigPath, world);
          const base = world.target();
          const provision = base.provision;
          const sibling = Object.assign(base, {
            provision: async (options: ProvisionOptions) => {
              if (index === failProvisionOf) throw new Error('Prometheus did not answer within 60s');
              return { ...(await provision(options)), kubeconfigPath };
            },
            teardown: async () => {
              sibling.tornDown++;
              if (index === failTeardownOf) throw new Error('a container would not stop');
            },
          });
          siblings.push(sibling);
          return sibling;
        },
      });
      return { target, worlds, siblings };
    }

    async function runWithSiblings(
      scenarios: ResolvedScenario[],
      parallel: number,
      failTeardownOf?: number,
      failProvisionOf?: number,
    ) {
      const shared = new FakeWorld();
      const { target, worlds, siblings } = withSiblings(shared, failTeardownOf, failProvisionOf);
      const used: string[] = [];
      const workDir = await mkdtemp(join(tmpdir(), 'meshdrill-suite-'));
      try {
        const options = suiteOptions(target, scenarios, {
          parallel,
          workDir,
          connect: (env, turnDir) => {
            used.push(`${env.kubeconfigPath} ${turnDir.slice(workDir.length)}`);
            return (worlds.get(env.kubeconfigPath) as FakeWorld).connect();
          },
        });
        const result = await runSuite(options);
        return { result, events: options.journal.events, shared, worlds, siblings, used, target };
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    }

    const twoVariants = (name: string, namespace: string) =>
      fakeScenario({
        name,
        namespace,
        variants: [
          { name: 'main', runbook: fakeRunbook('/runbooks/fix.md'), expect: 'recovery' },
          { name: 'empty-runbook', runbook: null, expect: 'no-recovery' },
        ],
      });

    it('runs each variant of a cluster-isolated drill on a fresh cluster, side by side, and tears each down', async () => {
      const run = await runWithSiblings(
        [twoVariants('outage-a', 'md-a'), twoVariants('outage-b', 'md-b')],
        4,
      );
      expect(run.result.exitCode).to.equal(EXIT_CODES.passed);
      expect(run.siblings).to.have.length(4);
      for (const sibling of run.siblings) expect(sibling).to.include({ provisioned: 1, tornDown: 1 });
      // Every variant ran on its own cluster, none on the shared one, and each left its cluster empty.
      const clusters = run.used.filter((u) => u.includes('#')).map((u) => u.split(' ')[0]);
      expect(new Set(clusters).size).to.equal(4);
      expect(run.shared.calls.filter((c) => c.includes('md-'))).to.deep.equal([]);
      const own = [...run.worlds].filter(([path]) => path.includes('#'));
      for (const [path, world] of own)
        expect(
          world.calls.some((c) => c.includes('/md-')),
          path,
        ).to.equal(true);
      for (const [path, world] of run.worlds) expect(world.objects.size, path).to.equal(0);
      // Side by side: every variant started before the first one ended.
      const firstEnd = run.events.findIndex((e) => e.type === 'scenario-end');
      const startsBefore = run.events.slice(0, firstEnd).filter((e) => e.type === 'scenario-start');
      expect(startsBefore).to.have.length(4);
      // Runbook steps of drills running at once get directories of their own.
      expect(run.used.filter((u) => u.includes('#')).map((u) => u.split(' ')[1])).to.have.members([
        '/turns/outage-a-main-1',
        '/turns/outage-a-empty-runbook-1',
        '/turns/outage-b-main-1',
        '/turns/outage-b-empty-runbook-1',
      ]);
      const verdicts = assertions(run.events).filter((a) => a.id.startsWith('recover'));
      expect(verdicts.map((a) => a.passed)).to.deep.equal([true, true, true, true]);
    });

    it('keeps to one cluster with --parallel 1: variants one after the other, no cluster of their own', async () => {
      const run = await runWithSiblings([twoVariants('outage-a', 'md-a')], 1);
      expect(run.result.exitCode).to.equal(EXIT_CODES.passed);
      expect(run.siblings).to.have.length(0);
      const order = run.events
        .filter((e) => e.type === 'scenario-start' || e.type === 'scenario-end')
        .map((e) => `${e.type} ${'variant' in e ? e.variant : ''}`);
      expect(order).to.deep.equal([
        'scenario-start main',
        'scenario-end main',
        'scenario-start empty-runbook',
        'scenario-end empty-runbook',
      ]);
    });

    it("makes a failed teardown of a drill's own cluster a cleanup failure of the run, naming it", async () => {
      const run = await runWithSiblings([twoVariants('outage-a', 'md-a')], 2, 0);
      expect(run.siblings.map((s) => s.tornDown)).to.deep.equal([1, 1]);
      expect(run.result.exitCode).to.equal(EXIT_CODES.cleanupFailed);
      const logged = run.events.filter((e) => e.type === 'log' && e.level === 'error');
      expect(logged.map((e) => (e.type === 'log' ? e.message : ''))).to.satisfy((messages: string[]) =>
        messages.some((m) => /outage-a\/\S+: tearing down its own cluster failed: .*would not stop/.test(m)),
      );
    });

    it("journals why a drill's own cluster did not come up, and ends the run as an environment error", async () => {
      const run = await runWithSiblings([twoVariants('outage-a', 'md-a')], 2, undefined, 1);
      expect(run.result.exitCode).to.equal(EXIT_CODES.environment);
      const logged = run.events.flatMap((e) => (e.type === 'log' && e.level === 'error' ? [e.message] : []));
      expect(logged).to.satisfy((messages: string[]) =>
        messages.some((m) =>
          /^outage-a\/\S+: its own \S+ cluster did not come up after \d+ ms: Prometheus did not answer/.test(
            m,
          ),
        ),
      );
      // The cluster that did not come up is torn down all the same (what it started, it stops).
      expect(run.siblings[1]?.tornDown).to.equal(1);
    });
  });

  it('opens the steady state only once the load has run for the longest range window of the signals', async () => {
    const phaseStart = (events: readonly JournalEvent[], phase: string) =>
      events.find((e) => e.type === 'phase-start' && e.phase === phase)?.t as number;
    const warm = await runOn(new FakeWorld(), [
      fakeScenario({
        signals: [
          {
            name: 'errors-visible',
            kind: 'promql',
            query: 'sum(rate(fake_errors[3s])) > 0',
            withinMs: 3000,
            pollMs: 200,
          },
        ],
      }),
    ]);
    expect(warm.result.exitCode).to.equal(EXIT_CODES.passed);
    const warmup = phaseStart(warm.events, 'steady-state') - phaseStart(warm.events, 'load');
    expect(warmup).to.be.at.least(4000); // 3 s window + 1 s scrape
    const instant = await runOn(new FakeWorld(), [fakeScenario()]);
    const none = phaseStart(instant.events, 'steady-state') - phaseStart(instant.events, 'load');
    // No window to fill: only the first second's sample is waited for (it closes a second after the load began).
    expect(none).to.be.below(2500);
  });

  it('waits for a load that starts late (pods in the cluster first) before the warm-up and the steady state', async () => {
    const phaseStart = (events: readonly JournalEvent[], phase: string) =>
      events.find((e) => e.type === 'phase-start' && e.phase === phase)?.t as number;
    const world = new FakeWorld();
    world.loadStartDelayMs = 3000;
    const late = await runOn(world, [fakeScenario()]);
    // Judged on data: opening the steady state before the first sample measured nothing (NaN) and failed.
    expect(late.result.exitCode).to.equal(EXIT_CODES.passed);
    const waited = phaseStart(late.events, 'steady-state') - phaseStart(late.events, 'load');
    expect(waited).to.be.at.least(3000);
  });

  it('runs teardown after a failure: steady state broken, no fault injected, namespace deleted', async () => {
    const world = new FakeWorld();
    // A fault already present before the drill: steady state cannot hold and signals fire early.
    await world.kube().apply({
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'PodChaos',
      metadata: { name: 'leftover', namespace: 'other' },
    });
    const { result, events } = await runOn(world, [fakeScenario()]);
    expect(result.exitCode).to.equal(EXIT_CODES.assertionFailed);
    expect(byId(events, 'steady-state:quiet:errors-visible')?.message).to.match(/FALSE POSITIVE/);
    expect(events.some((e) => e.type === 'fault-injected')).to.equal(false);
    expect(world.calls).to.include('delete Namespace//md-fake');
    expect([...world.objects.keys()]).to.deep.equal(['PodChaos/other/leftover']);
  });

  it('refuses a workload namespace it did not create, and leaves it and what is in it alone', async () => {
    const world = new FakeWorld();
    await world.kube().apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'md-fake' } });
    await world
      .kube()
      .apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'theirs', namespace: 'md-fake' } });
    const { result, events } = await runOn(world, [fakeScenario()]);
    expect(result.exitCode).to.equal(EXIT_CODES.environment);
    const failure = JSON.stringify(events.filter((e) => e.type === 'phase-end' && e.phase === 'deploy'));
    expect(failure).to.include(
      'workload.namespace \\"md-fake\\" already exists and was not created by meshdrill',
    );
    expect(world.calls.filter((c) => c.startsWith('delete'))).to.deep.equal([]);
    expect([...world.objects.keys()]).to.have.members(['Namespace//md-fake', 'ConfigMap/md-fake/theirs']);
  });

  it('negative control: a namespace an earlier meshdrill run left is taken over and deleted at the end', async () => {
    const world = new FakeWorld();
    await world.kube().apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'md-fake', labels: { [RUN_ID_LABEL]: 'killed-run' } },
    });
    const { result } = await runOn(world, [fakeScenario()]);
    expect(result.exitCode).to.equal(EXIT_CODES.passed);
    expect(world.calls).to.include('delete Namespace//md-fake');
  });

  it('runs teardown after a phase timeout and removes the fault', async () => {
    const world = new FakeWorld();
    const scenario = fakeScenario();
    scenario.timeouts.remediate = 300;
    const ports = world.connect();
    ports.runbooks = { run: () => new Promise(() => undefined) }; // a runbook that hangs
    const journal = createJournal();
    const result = await runSuite({
      runId: 'timeout-run',
      journal,
      target: world.target(),
      scenarios: [scenario],
      repeat: 1,
      workDir: '/tmp',
      ruleFiles: [],
      settings: {},
      interrupt: new AbortController().signal,
      connect: () => ports,
      cleanupTimeoutMs: 1000,
    });
    const end = journal.events.find(
      (e): e is EventOf<'phase-end'> => e.type === 'phase-end' && e.phase === 'remediate',
    );
    expect(end?.outcome).to.equal('timed-out');
    expect(end?.error).to.match(/timeouts\.remediate/);
    expect(journal.events.find((e) => e.type === 'fault-removed')).to.include({ ok: true });
    expect(world.broken).to.equal(false);
    expect(result.exitCode).to.equal(EXIT_CODES.assertionFailed);
  });

  it('gives a failing cleanup its own exit code and names what is left', async () => {
    const world = new FakeWorld();
    world.failDeletesOf = 'PodChaos';
    const { result, events } = await runOn(world, [
      fakeScenario({ variants: [{ name: 'main', runbook: null, expect: 'measure' }] }),
    ]);
    expect(result.exitCode).to.equal(EXIT_CODES.cleanupFailed);
    const removal = events.find((e): e is EventOf<'fault-removed'> => e.type === 'fault-removed');
    expect(removal?.ok).to.equal(false);
    const cleanup = events.find((e): e is EventOf<'cleanup'> => e.type === 'cleanup');
    expect(cleanup?.ok).to.equal(false);
    expect(cleanup?.leftover.join(' ')).to.match(/PodChaos md-fake\/kill-web/);
  });

  it('cleans up after a real SIGINT sent to a child process, and exits 130', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'md-sigint-'));
    try {
      const journalPath = join(dir, 'journal.jsonl');
      const markerPath = join(dir, 'marker.json');
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/engine/fixtures/interrupt-child.ts', journalPath, markerPath],
        { stdio: 'ignore' },
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Send the signal once the drill is in steady state (load running, workload deployed).
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        if (existsSync(journalPath) && readFileSync(journalPath, 'utf8').includes('"phase":"steady-state"'))
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGINT');
      const code = await Promise.race([
        exited,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000)),
      ]);
      if (code === 'hung') child.kill('SIGKILL');
      expect(code).to.equal(130);
      const marker = JSON.parse(readFileSync(markerPath, 'utf8'));
      expect(marker).to.deep.equal({ tornDown: 1, objectsLeft: [], outcome: 'interrupted' });
      const events = readFileSync(journalPath, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(
        events.some((e) => e.type === 'phase-end' && e.phase === 'cleanup' && e.outcome === 'passed'),
      ).to.equal(true);
      expect(events.at(-1)).to.include({ type: 'run-end', outcome: 'interrupted', exitCode: 130 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
