// `meshdrill run --dry-run`: the plan lists, in order, exactly the commands a real provision runs (held against a
// provision through the fake tools, which answer as the real ones do), shows what it would change on a cluster it
// did not create, and changes nothing — no command but read-only questions, no object applied.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { planExisting } from '../../clusters/existing/plan.js';
import { createKindTarget } from '../../clusters/kind/index.js';
import { planKind } from '../../clusters/kind/plan.js';
import { formatPlan } from '../../harness/cli/plan-format.js';
import { planScenarios } from '../../harness/engine/plan.js';
import type { PlanSection } from '../../harness/model/plan.js';
import { loadScenarios } from '../../harness/scenario/index.js';
import { FakeCluster, type Sandbox, createSandbox, expectGolden } from './support.js';

const ROOT = resolve(import.meta.dirname, '../..');
const READ_ONLY =
  /^(docker info|podman info|kind version|kind get (clusters|kubeconfig)|docker (inspect|port))/;

const commandsOf = (section: PlanSection | undefined): string[] =>
  (section?.steps ?? []).flatMap((s) => (s.step === 'command' ? [s.command] : []));

describe('dry run (fake tools on PATH)', function () {
  this.timeout(30_000);
  let sandbox: Sandbox;
  let cluster: FakeCluster;

  beforeEach(async () => {
    sandbox = await createSandbox();
    cluster = new FakeCluster();
    cluster.seedNode('drill-control-plane');
    cluster.seedInstalledStack();
  });
  afterEach(async () => {
    await sandbox.cleanup();
  });

  async function rules(): Promise<string> {
    const path = join(sandbox.dir, 'mesh-rules.yaml');
    await writeFile(path, 'groups:\n  - name: mesh\n    rules: []\n');
    return path;
  }

  it('kind: the plan is the commands a provision runs, in order, and planning runs only read-only ones', async () => {
    const settings = { 'cluster-name': 'drill', 'prometheus-port': '19090' };
    const ruleFiles = [await rules()];
    const plan = await planKind(settings, {
      ruleFiles,
      istioVersion: '1.29.4',
      hostOverrides: sandbox.host(cluster.kube()),
    });
    await plan.dispose();
    const planned = commandsOf(plan.sections[0]);
    expect(
      (await sandbox.lines()).filter((l) => !READ_ONLY.test(l)),
      'planning changed something',
    ).to.deep.equal([]);
    expect(cluster.applied).to.deep.equal([]);

    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    await target.provision({ workDir: sandbox.workDir, ruleFiles, istioVersion: '1.29.4', settings });
    await target.teardown();
    const normalise = (line: string): string =>
      line
        .replaceAll('$SANDBOX/work', '$WORK')
        .replaceAll(sandbox.dir, '$SANDBOX')
        .replace(/\.partial-[^/ ]+/g, '.partial-…')
        // Alertmanager's forward takes a free port at run time; the plan says so with 0.
        .replace(/svc\/meshdrill-alertmanager \d+:9093$/, 'svc/meshdrill-alertmanager 0:9093')
        .replace(/^\$SANDBOX\/home\/\.cache\/meshdrill\/istio\/[^ ]+\/bin\/istioctl /, 'istioctl ');
    const ran = (await sandbox.lines()).filter((l) => !READ_ONLY.test(l)).map(normalise);
    expect(planned.filter((l) => !READ_ONLY.test(l)).map(normalise)).to.deep.equal(ran);

    await expectGolden('dry-run-kind.txt', formatPlan(plan.sections).replaceAll(sandbox.dir, '$SANDBOX'));
  });

  it('kind: --target-opt revision= is planned and run as istioctl install --set revision= and the default tag', async () => {
    cluster = new FakeCluster();
    cluster.seedNode('drill-control-plane');
    cluster.seedInstalledStack({ revision: 'canary' });
    const settings = { 'cluster-name': 'drill', 'prometheus-port': '19090', revision: 'canary' };
    const ruleFiles = [await rules()];
    const plan = await planKind(settings, { ruleFiles, hostOverrides: sandbox.host(cluster.kube()) });
    await plan.dispose();
    const istioctl = (lines: string[]) =>
      lines
        .filter((l) => /(^|\/)istioctl (install|tag) /.test(l))
        .map((l) =>
          l
            .replace(/^.*?istioctl /, 'istioctl ')
            .replaceAll('$SANDBOX/work', '$WORK')
            .replaceAll(`${sandbox.dir}/work`, '$WORK'),
        );
    const planned = istioctl(commandsOf(plan.sections[0]));
    expect(planned).to.deep.equal([
      'istioctl install --kubeconfig $WORK/kubeconfig -f $WORK/istio/istio-operator.yaml --set revision=canary -y',
      'istioctl tag set default --revision canary --overwrite --kubeconfig $WORK/kubeconfig',
    ]);
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const env = await target.provision({ workDir: sandbox.workDir, ruleFiles, settings });
    await target.teardown();
    expect(istioctl(await sandbox.lines())).to.deep.equal(planned);
    expect(env.versions['istio-revision']).to.equal('canary');
    // A default install plans neither (the negative control).
    const plain = await planKind(
      { 'cluster-name': 'drill', 'prometheus-port': '19090' },
      { ruleFiles, hostOverrides: sandbox.host(cluster.kube()) },
    );
    await plain.dispose();
    expect(istioctl(commandsOf(plain.sections[0])).join('\n')).not.to.match(/revision/);
  });

  it('kind: istioctl-versions= is planned as the downloads a provision runs and the istioctl-<version> it links', async () => {
    const settings = { 'cluster-name': 'drill', 'istioctl-versions': '1.29.9,1.30.3,1.29.4' };
    const ruleFiles = [await rules()];
    const plan = await planKind(settings, {
      ruleFiles,
      istioVersion: '1.29.4',
      hostOverrides: sandbox.host(cluster.kube()),
    });
    await plan.dispose();
    const downloads = (lines: string[]) =>
      lines.filter((l) => l.startsWith('curl ')).map((l) => l.split('/download/')[1]);
    const planned = downloads(commandsOf(plan.sections[0]));
    // The installed release once (1.29.4 is both --istio and listed), then each other one.
    expect(planned).to.deep.equal([
      '1.29.4/istio-1.29.4-linux-amd64.tar.gz',
      '1.29.9/istio-1.29.9-linux-amd64.tar.gz',
      '1.30.3/istio-1.30.3-linux-amd64.tar.gz',
    ]);
    const note = (plan.sections[0]?.steps ?? []).find(
      (s) => s.step === 'note' && s.text.includes('istioctl-versions'),
    );
    expect(note?.step === 'note' ? note.text.match(/istioctl-[\d.]+(?= ->)/g) : []).to.deep.equal([
      'istioctl-1.29.4',
      'istioctl-1.29.9',
      'istioctl-1.30.3',
    ]);
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    await target.provision({ workDir: sandbox.workDir, ruleFiles, istioVersion: '1.29.4', settings });
    await target.teardown();
    expect(downloads(await sandbox.lines())).to.deep.equal(planned);
    // Cached now: a second plan downloads nothing (the negative control of the download steps).
    const again = await planKind(settings, {
      ruleFiles,
      istioVersion: '1.29.4',
      hostOverrides: sandbox.host(cluster.kube()),
    });
    await again.dispose();
    expect(downloads(commandsOf(again.sections[0]))).to.deep.equal([]);
  });

  it("kind: the plan shows Alertmanager's manifests, its receiver on the kind network, and Prometheus naming it", async () => {
    const plan = await planKind(
      { 'cluster-name': 'drill' },
      { ruleFiles: [], istioVersion: '1.29.4', hostOverrides: sandbox.host(cluster.kube()) },
    );
    await plan.dispose();
    const steps = plan.sections[0]?.steps ?? [];
    const applied = steps.flatMap((s) => (s.step === 'apply' ? [s.object] : []));
    const named = (kind: string, name: string) =>
      applied.find((o) => o.kind === kind && o.metadata.name === name) as
        | { data?: Record<string, string> }
        | undefined;
    expect(named('Deployment', 'meshdrill-alertmanager')).to.not.equal(undefined);
    expect(named('Service', 'meshdrill-alertmanager')).to.not.equal(undefined);
    expect(named('ConfigMap', 'meshdrill-alertmanager-config')?.data?.['alertmanager.yml']).to.include(
      'url: http://$NETWORK_GATEWAY:$RECEIVER_PORT/hook/meshdrill',
    );
    expect(named('ConfigMap', 'meshdrill-prometheus-config')?.data?.['prometheus.yml']).to.include(
      '- meshdrill-alertmanager.meshdrill-system.svc:9093',
    );
    expect(commandsOf(plan.sections[0])).to.include('docker network inspect kind');
  });

  it("kind: in-cluster k6 is planned as the operator install and each k6 drill's TestRun", async () => {
    const plan = await planKind(
      { 'cluster-name': 'drill', 'k6-mode': 'in-cluster', 'k6-runners': '2' },
      { ruleFiles: [await rules()], hostOverrides: sandbox.host(cluster.kube()) },
    );
    await plan.dispose();
    expect(plan.inClusterLoad).to.deep.equal({
      baseUrl: 'http://istio-ingressgateway.istio-system.svc.cluster.local',
      runners: 2,
    });
    const { scenarios } = await loadScenarios(['scenarios/canary-progressive.yaml'], { target: 'kind' });
    const drills = await planScenarios(scenarios, plan.kube, {
      driverOverride: 'k6',
      inCluster: plan.inClusterLoad,
    });
    const transcript = formatPlan([...plan.sections, ...drills]);
    expect(transcript).to.match(
      /helm upgrade --install k6-operator grafana\/k6-operator .*--version 4\.6\.0/,
    );
    expect(transcript).to.match(
      /apply TestRun drill-canary-progressive\/k6-canary-progressive-run-id {2}# the load/,
    );
    expect(transcript).to.include('parallelism: 2');
    expect(cluster.applied).to.deep.equal([]);
  });

  it('kind: a cluster that exists is planned as reused, never deleted, with its blast radius', async () => {
    await mkdir(sandbox.stateDir, { recursive: true });
    await writeFile(join(sandbox.stateDir, 'kind-clusters'), 'meshdrill\n');
    const plan = await planKind(
      { 'preload-images': 'false' },
      { ruleFiles: [], hostOverrides: sandbox.host(cluster.kube()) },
    );
    await plan.dispose();
    const text = formatPlan(plan.sections);
    expect(text).to.include('the run would stop here: cluster "meshdrill" cannot be reused');
    expect(
      commandsOf(plan.sections[0]).some((c) => c.includes('kind create') || c.includes('kind delete')),
    ).to.equal(false);
    expect(plan.sections[0]?.blastRadius[0]).to.deep.include({
      object: 'kind cluster "meshdrill"',
      exists: true,
    });
    expect(plan.kube, 'the drills are planned against the cluster as it is').to.not.equal(undefined);
  });

  it('existing: install= on an allowed context is planned with its blast radius, and nothing is applied', async () => {
    await mkdir(join(sandbox.home, '.kube'), { recursive: true });
    await writeFile(
      join(sandbox.home, '.kube', 'config'),
      'apiVersion: v1\nkind: Config\nclusters: [{name: s, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: s, user: {token: x}}]\ncontexts: [{name: staging, context: {cluster: s, user: s}}]\n',
    );
    const allowed = await planExisting(
      { context: 'staging', 'allow-faults': 'staging', install: 'prometheus,chaos-mesh' },
      { ruleFiles: [await rules()], hostOverrides: sandbox.host(cluster.kube()) },
    );
    await allowed.dispose();
    const text = formatPlan(allowed.sections);
    expect(text).to.include('apply Deployment meshdrill-system/meshdrill-prometheus');
    expect(text).to.include('$ helm upgrade --install chaos-mesh chaos-mesh/chaos-mesh');
    expect(allowed.sections[0]?.blastRadius.map((b) => b.object)).to.deep.equal(['prometheus', 'chaos-mesh']);
    expect(cluster.applied).to.deep.equal([]);
    expect(await sandbox.lines()).to.deep.equal([]);

    const refused = await planExisting(
      { context: 'staging', install: 'chaos-mesh' },
      { ruleFiles: [], hostOverrides: sandbox.host(cluster.kube()) },
    );
    await refused.dispose();
    expect(formatPlan(refused.sections)).to.include('the run would stop here: install=chaos-mesh is refused');
  });

  it('existing: the plan says how notification signals would be judged, and reads no Alertmanager', async () => {
    await mkdir(join(sandbox.home, '.kube'), { recursive: true });
    await writeFile(
      join(sandbox.home, '.kube', 'config'),
      'apiVersion: v1\nkind: Config\nclusters: [{name: s, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: s, user: {token: x}}]\ncontexts: [{name: staging, context: {cluster: s, user: s}}]\n',
    );
    cluster.seedService('istio-system', 'prometheus', [{ name: 'http', port: 9090 }]);
    const plan = async (settings: Record<string, string>) => {
      const p = await planExisting(
        { context: 'staging', ...settings },
        { ruleFiles: [], needs: { chaosMesh: false }, hostOverrides: sandbox.host(cluster.kube()) },
      );
      await p.dispose();
      return formatPlan(p.sections);
    };
    // Port 1 answers nothing: a plan that tried to read it would fail.
    expect(await plan({ alertmanager: 'http://127.0.0.1:1' })).to.include(
      'notification signals judged from the routing of your Alertmanager at http://127.0.0.1:1 (read: GET /api/v2/status, /api/v2/alerts; nothing sent, delivery not observed)',
    );
    expect(await plan({})).to.include(
      'notification signals left out: no alertmanager= names an Alertmanager to read',
    );
  });
});

describe("a drill's blast radius read from a reachable cluster", () => {
  it('says which objects outside the drill exist now, reading only', async () => {
    const { scenarios, problems } = await loadScenarios(['scenarios/cert-expiry.yaml'], { target: 'kind' });
    expect(problems).to.deep.equal([]);
    const cluster = new FakeCluster();
    cluster.seedInstalledStack();
    const [section] = await planScenarios(scenarios, cluster.kube());
    const state = Object.fromEntries(
      (section?.blastRadius ?? []).map((b) => [`${b.object}: ${b.change}`, b.exists]),
    );
    expect(state).to.deep.include({
      'Secret istio-system/cacerts: generated (cacerts) at each deploy, deleted at cleanup': false,
      'Deployment istio-system/istiod: restarted at cleanup': true,
    });
    expect(cluster.applied).to.deep.equal([]);
  });
});

describe("a drill's in-cluster load in the plan", () => {
  const IN_CLUSTER = { baseUrl: 'http://istio-ingressgateway.istio-system.svc.cluster.local', runners: 3 };
  const applied = (section: PlanSection | undefined) =>
    (section?.steps ?? []).flatMap((s) => (s.step === 'apply' ? [s.object] : []));

  it('shows the k6 TestRun and its script when k6 runs in the cluster, and none otherwise', async () => {
    const { scenarios, problems } = await loadScenarios(['scenarios/canary-progressive.yaml'], {
      target: 'kind',
    });
    expect(problems).to.deep.equal([]);
    const [section] = await planScenarios(scenarios, undefined, {
      driverOverride: 'k6',
      inCluster: IN_CLUSTER,
    });
    const testRun = applied(section).find((o) => o.kind === 'TestRun');
    expect(testRun?.metadata.namespace).to.equal('drill-canary-progressive');
    const spec = testRun?.spec as { parallelism: number; runner: { env: { name: string; value: string }[] } };
    expect(spec.parallelism).to.equal(3);
    expect(spec.runner.env.map((e) => e.value)).to.include(IN_CLUSTER.baseUrl);
    expect(
      applied(section).some((o) => o.kind === 'ConfigMap' && o.metadata.name?.endsWith('-script')),
    ).to.equal(true);
    // k6 on this machine, or the built-in generator: nothing applied for the load.
    for (const load of [
      { driverOverride: 'k6' as const },
      { driverOverride: 'builtin' as const, inCluster: IN_CLUSTER },
    ]) {
      const [plain] = await planScenarios(scenarios, undefined, load);
      expect(applied(plain).some((o) => o.kind === 'TestRun')).to.equal(false);
    }
  });
});

describe('meshdrill run --dry-run', function () {
  this.timeout(60_000);

  it('exits 2 with the setting named when alertmanager= is not an http(s) URL, as for the other URLs', () => {
    const result = spawnSync(
      process.execPath,
      [
        'bin/meshdrill.js',
        'run',
        'scenarios/cert-expiry.yaml',
        '--dry-run',
        '--target',
        'existing',
        '--target-opt',
        'context=staging',
        '--target-opt',
        'alertmanager=alertmanager.monitoring:9093',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(result.status, result.stderr).to.equal(2);
    expect(result.stderr).to.include(
      '--target-opt alertmanager: expected an http(s) URL, got "alertmanager.monitoring:9093"',
    );
  });

  it('prints the drills’ plan with their blast radius, writes no run directory, and exits 0', () => {
    const out = mkdtempSync(join(tmpdir(), 'meshdrill-dry-'));
    try {
      const runDir = join(out, 'run');
      const result = spawnSync(
        process.execPath,
        ['bin/meshdrill.js', 'run', 'scenarios/cert-expiry.yaml', '--dry-run', '--out', runDir],
        {
          cwd: ROOT,
          encoding: 'utf8',
        },
      );
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.include('== drill cert-expiry');
      expect(result.stdout).to.match(
        /blast radius[^\n]*\n\s+- Secret istio-system\/cacerts \[existence unknown\]: generated/,
      );
      expect(result.stdout).to.include('  $ ');
      expect(result.stdout.trimEnd().split('\n').at(-1)).to.equal(
        'dry run: nothing was created, applied or changed.',
      );
      expect(existsSync(runDir), 'no run directory').to.equal(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
