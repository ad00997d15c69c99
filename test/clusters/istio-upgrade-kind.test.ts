// The istio-upgrade drill on the kind target, against fake kind, kubectl and istioctl (test/fixtures/fake-bin):
// the drill's own setup action, fault step, runbook step and undos run through the same doors as in a run
// (the engine's command port, the runbook runner), and the transcript shows which istioctl release installed
// and removed each revision, with which flags, in which order.

import { expect } from 'chai';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createKindTarget } from '../../clusters/kind/index.js';
import { buildKindRequirements } from '../../clusters/kind/kind-target.js';
import { readKindSettings } from '../../clusters/kind/kind-settings.js';
import type { TargetEnvironment } from '../../clusters/target.js';
import { connectPorts } from '../../harness/cli/wiring.js';
import { runAction } from '../../harness/faults/inject.js';
import { runSetupActions } from '../../harness/faults/workload-setup.js';
import type { ResolvedScenario } from '../../harness/model/index.js';
import { loadScenarios } from '../../harness/scenario/index.js';
import { FAKE_BIN, FakeCluster, type Sandbox, type ToolCall, createSandbox } from './support.js';

/** The utilities the drill's scripts use besides kubectl and istioctl (the real ones, nothing cluster-facing). */
const UTILITIES = ['bash', 'awk', 'sort', 'tail', 'wc', 'seq', 'sleep', 'cat'];

/** `istioctl@<release> <args>` for each istioctl call: which release's binary ran it. */
const istioctlLines = (calls: ToolCall[]): string[] =>
  calls
    .filter((c) => c.tool === 'istioctl')
    .map((c) => `istioctl@${c.env.FAKE_ISTIOCTL_VERSION ?? 'PATH'} ${c.args.join(' ')}`);

/** For each revision installed in the transcript, the release of the istioctl that installed it. */
function installers(calls: ToolCall[]): Record<string, string> {
  const by: Record<string, string> = {};
  for (const c of calls.filter((c) => c.tool === 'istioctl' && c.args[0] === 'install')) {
    const revision = c.args.find((a) => a.startsWith('revision='))?.slice('revision='.length) ?? 'default';
    by[revision] = c.env.FAKE_ISTIOCTL_VERSION ?? 'PATH';
  }
  return by;
}

describe('istio-upgrade drill on kind (fake tools on PATH)', function () {
  this.timeout(60_000);
  let sandbox: Sandbox;
  let cluster: FakeCluster;
  let saved: NodeJS.ProcessEnv;

  beforeEach(async () => {
    sandbox = await createSandbox();
    cluster = new FakeCluster();
    cluster.seedNode('drill-control-plane');
    cluster.seedInstalledStack();
    // The command door and the runbook runner build their environment from this process's: it gets the
    // sandbox's, so `kubectl` and `istioctl` are the fakes and nothing reaches a real cluster.
    const utilities = join(sandbox.dir, 'utilities');
    await mkdir(utilities, { recursive: true });
    for (const tool of UTILITIES) await symlink(`/usr/bin/${tool}`, join(utilities, tool));
    saved = { ...process.env };
    Object.assign(process.env, sandbox.env, { PATH: `${FAKE_BIN}:${utilities}` });
  });
  afterEach(async () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await sandbox.cleanup();
  });

  async function provision(settings: Record<string, string>): Promise<TargetEnvironment> {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      istioVersion: '1.29.4',
      settings: { 'cluster-name': 'drill', 'chaos-mesh': 'false', 'preload-images': 'false', ...settings },
    });
    await target.teardown();
    return env;
  }

  async function drill(): Promise<ResolvedScenario> {
    const { scenarios, problems } = await loadScenarios(['scenarios/istio-upgrade.yaml'], { target: 'kind' });
    expect(problems).to.deep.equal([]);
    const scenario = scenarios[0];
    if (!scenario) throw new Error('istio-upgrade did not load');
    return scenario;
  }

  /** Setup, fault, the runbook's last step, then the cleanup's undos (the fault's first), as a run orders them. */
  async function runDrillSteps(env: TargetEnvironment, scenario: ResolvedScenario): Promise<string[]> {
    const ports = connectPorts(env, join(sandbox.workDir, 'run'), 'run-1');
    const ctx = {
      kube: cluster.kube(),
      runId: 'run-1',
      scenario: scenario.name,
      defaultNamespace: scenario.namespace,
      runCommand: ports.runCommand,
    };
    const undos: (() => Promise<void>)[] = [];
    await runSetupActions(scenario.workload.setup ?? [], ctx, {
      timeoutMs: 10_000,
      onUndo: (revert) => undos.unshift(revert),
    });
    const fault = scenario.fault;
    if (fault.kind !== 'kubernetes') throw new Error('expected a kubernetes fault');
    for (const step of fault.steps) undos.unshift((await runAction(step, ctx)).revert);
    const steps = scenario.variants.find((v) => v.name === 'main')?.runbook?.steps ?? [];
    const remove = steps.filter((s) => /uninstall --revision/.test(s.body));
    const results = await ports.runbooks.run(remove, {
      signal: new AbortController().signal,
      stepTimeoutMs: 10_000,
      onStepStart: () => undefined,
      onStepEnd: () => undefined,
    });
    const failed = results.filter((r) => r.exitCode !== 0);
    expect(failed, failed.map((r) => r.output).join('\n')).to.deep.equal([]);
    for (const undo of undos) await undo();
    return istioctlLines(await sandbox.calls());
  }

  it("installs each revision with its own release's istioctl, removes the old one, and undoes the rest at cleanup", async () => {
    const env = await provision({ 'istioctl-versions': '1.29.9,1.30.3' });
    const lines = await sandbox.lines();
    // Both releases were fetched through the one door (the fake curl), after the target's own 1.29.4.
    expect(lines.filter((l) => l.startsWith('curl ')).map((l) => l.split('/download/')[1])).to.deep.equal([
      '1.29.4/istio-1.29.4-linux-amd64.tar.gz',
      '1.29.9/istio-1.29.9-linux-amd64.tar.gz',
      '1.30.3/istio-1.30.3-linux-amd64.tar.gz',
    ]);
    expect(env.binDirs.at(-1)).to.equal(join(sandbox.workDir, 'istioctl-versions'));
    const before = (await sandbox.calls()).length;

    const transcript = (await runDrillSteps(env, await drill())).slice(
      istioctlLines((await sandbox.calls()).slice(0, before)).length,
    );
    expect(transcript).to.deep.equal([
      'istioctl@1.29.9 install --set revision=drill-1-29 --set profile=minimal -y',
      'istioctl@1.30.3 install --set revision=drill-1-30 --set profile=minimal -y',
      // The runbook: nobody left on the old revision, so it is removed (`istioctl` is the target's, 1.29.4).
      'istioctl@1.29.4 proxy-status --revision drill-1-29',
      'istioctl@1.29.4 uninstall --revision drill-1-29 -y',
      // Cleanup: the fault's undo removes the new revision; the setup's finds nothing of the old one left.
      'istioctl@1.30.3 uninstall --revision drill-1-30 -y',
    ]);
    // The guards and the namespace label went through kubectl, in the drill's namespace.
    const kubectl = (await sandbox.lines()).filter(
      (l) => l.startsWith('kubectl ') && !l.includes('port-forward'),
    );
    expect(kubectl).to.include(
      'kubectl label namespace drill-istio-upgrade istio.io/rev=drill-1-29 --overwrite',
    );
    expect(kubectl.filter((l) => l.includes('get deployment istiod-drill-'))).to.have.length(2);
  });

  it('negative control: the transcript check tells a one-istioctl install (A’s binary, `--set tag=` of B) apart', async () => {
    const env = await provision({ 'istioctl-versions': '1.29.9,1.30.3' });
    const ports = connectPorts(env, join(sandbox.workDir, 'run'), 'run-1');
    // What the drill ran before: the target's istioctl for both revisions, the version given as an image tag.
    for (const script of [
      'istioctl install --set revision=drill-1-29 --set profile=minimal --set tag=1.29.9 -y',
      'istioctl install --set revision=drill-1-30 --set profile=minimal --set tag=1.30.3 -y',
    ]) {
      expect((await ports.runCommand(script)).exitCode).to.equal(0);
    }
    const calls = await sandbox.calls();
    expect(installers(calls)).to.deep.equal({
      default: '1.29.4',
      'drill-1-29': '1.29.4',
      'drill-1-30': '1.29.4',
    });
    expect(installers(calls)['drill-1-30']).to.not.equal('1.30.3');
  });

  it('without istioctl-versions the setup fails (exit 127) before installing or labelling anything', async () => {
    const env = await provision({});
    expect(env.binDirs.at(-1)).to.equal(join(sandbox.workDir, 'istioctl-versions'));
    const scenario = await drill();
    const ports = connectPorts(env, join(sandbox.workDir, 'run'), 'run-1');
    const setup = scenario.workload.setup?.[0];
    if (setup?.action !== 'command') throw new Error('expected a command setup action');
    const result = await ports.runCommand(setup.run);
    expect(result.exitCode).to.equal(127);
    expect(result.stdout + result.stderr).to.include(
      'istioctl-1.29.9 and istioctl-1.30.3 must be on PATH: on kind or existing pass --target-opt istioctl-versions=1.29.9,1.30.3',
    );
    expect(Object.keys(installers(await sandbox.calls()))).to.deep.equal(['default']);
    expect((await sandbox.lines()).filter((l) => l.startsWith('kubectl label'))).to.deep.equal([]);
  });

  it('requires curl and tar for the istioctl releases not cached yet, naming them (even with the Helm installer)', async () => {
    const purposes = async (settings: Record<string, string>) =>
      (
        await buildKindRequirements(
          readKindSettings(settings, '1.29.4'),
          join(sandbox.home, '.cache/meshdrill'),
        )
      )
        .filter((r) => r.anyOf.includes('curl'))
        .map((r) => r.purpose);
    expect(await purposes({ 'istio-installer': 'helm', 'istioctl-versions': '1.29.9,1.30.3' })).to.deep.equal(
      ['download istioctl 1.29.9, 1.30.3'],
    );
    // The negative control: Helm alone downloads no istioctl.
    expect(await purposes({ 'istio-installer': 'helm' })).to.deep.equal([]);
  });
});
