// `meshdrill cleanup --run-id` after a kill -9, as a user of a real cluster meets it: a cluster that outlives the
// harness (`meshdrill cluster up --target local` in its own process), used through `--target existing` with its
// context allowed, holding objects and a namespace of its own. The drill scales istiod to 0, patches a Deployment
// and re-applies a ConfigMap that existed before; the run is SIGKILLed mid-fault (no handler runs), then cleanup
// must put every object back as it was (compared by spec and data), leave what the run did not create intact and
// leave nothing of the run. The negative control is the state before cleanup: the same comparison fails there.

import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isAlive, readProcessTable } from '../../../clusters/local/kubelet/index.js';
import { run } from '../../../harness/exec/index.js';
import { until } from './fixture.js';

const MESHDRILL = 'bin/meshdrill.js';
const SCENARIO = 'test/fixtures/scenarios/existing/killed-mid-fault.yaml';
/** The same drill with a setup `command` whose undo takes back what the run-id label does not cover. */
const SETUP_COMMAND_SCENARIO = 'test/fixtures/scenarios/existing/killed-with-setup-command.yaml';

const TEAM_OBJECTS = `apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {owner: team-a}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: billing, namespace: team-a, labels: {app: billing}}
spec:
  replicas: 0
  selector: {matchLabels: {app: billing}}
  template:
    metadata: {labels: {app: billing}}
    spec: {containers: [{name: app, image: fortio/fortio:1.74.0}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: feature-flags, namespace: team-a}
data: {checkout: "on", search: "on"}
---
apiVersion: v1
kind: Secret
metadata: {name: keep-me, namespace: team-a}
stringData: {token: not-the-runs}
`;

interface ClusterState {
  kubeconfig: string;
  prometheusUrl: string;
  ingressUrl: string;
}

function descendants(root: number): number[] {
  const table = readProcessTable().filter((p) => p.state !== 'Z');
  const found = new Set<number>([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of table) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  found.delete(root);
  return [...found];
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160);
  } catch {
    return '?';
  }
}

/** What a user compares after a cleanup: the parts of an object that say what it does, and its own metadata. */
function essence(object: Record<string, unknown>): unknown {
  const meta = object.metadata as Record<string, unknown>;
  return { labels: meta.labels, annotations: meta.annotations, spec: object.spec, data: object.data };
}

describe('cleanup after kill -9 on a cluster that outlives meshdrill (--target existing)', function () {
  this.timeout(300_000);
  let cluster: ChildProcess | undefined;
  let clusterPids: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'meshdrill-outlived-'));
  const env = { ...process.env, MESHDRILL_STATE_DIR: join(dir, 'state') };

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const result = await run('kubectl', args, {
      env: { KUBECONFIG: state().kubeconfig, KUBECACHEDIR: join(dir, 'kube-cache') },
      ...(input !== undefined ? { input } : {}),
      timeoutMs: 30_000,
    });
    if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const getJson = async (args: string[]) =>
    JSON.parse(await kubectl([...args, '-o', 'json'])) as Record<string, unknown>;
  /** What a user looks at when a drill waits: TestRuns and their stage, k6 and drill pods, recent events. */
  const clusterView = async (): Promise<string> =>
    (
      await Promise.all([
        kubectl(['get', 'testruns', '-A', '-o', 'custom-columns=NAME:.metadata.name,STAGE:.status.stage']),
        kubectl(['get', 'jobs,pods,services', '-A', '-l', 'app=k6', '-o', 'wide']),
        kubectl(['get', 'pods', '-n', 'drill-outlived', '-o', 'wide']),
        kubectl(['get', 'events', '-A', '--sort-by=.lastTimestamp']).then((t) =>
          t.trim().split('\n').slice(-30).join('\n'),
        ),
      ])
    ).join('\n');
  /**
   * The drills' faults patch the team's objects and scale istiod to 0: each test sets them up itself, so it may
   * run alone or after a test whose cleanup did not run.
   */
  const teamClusterAsBefore = async (): Promise<void> => {
    await kubectl(['apply', '-f', '-'], TEAM_OBJECTS);
    await kubectl(['-n', 'istio-system', 'scale', 'deployment', 'istiod', '--replicas=1']);
    await kubectl(['-n', 'istio-system', 'rollout', 'status', 'deployment', 'istiod', '--timeout=25s']);
  };
  const state = (): ClusterState =>
    JSON.parse(readFileSync(join(dir, 'state', 'cluster-local.json'), 'utf8')) as ClusterState;

  before(async () => {
    // Its own process group, as a terminal runs it; stopped with Ctrl-C (SIGINT to the group) in `after`.
    cluster = spawn(process.execPath, [MESHDRILL, 'cluster', 'up', '--target', 'local'], {
      stdio: ['ignore', 'ignore', 'ignore'],
      detached: true,
      env,
    });
    await until(
      'the local cluster to be up',
      () => existsSync(join(dir, 'state', 'cluster-local.json')),
      120_000,
    );
    clusterPids = descendants(cluster.pid as number);
  });

  after(async () => {
    const pid = cluster?.pid;
    if (pid !== undefined && cluster?.exitCode === null) {
      const exited = new Promise((r) => cluster?.once('exit', r));
      process.kill(-pid, 'SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (cluster.exitCode === null) process.kill(-pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
    await until('every process of the cluster to end', () => clusterPids.every((p) => !isAlive(p)), 15_000);
  });

  /** `meshdrill run` of the fixture drill through `--target existing`, in a process of its own (SIGKILLed later). */
  function spawnDrill(context: string, name: string, extra: string[] = [], scenario = SCENARIO) {
    const out = join(dir, name);
    const runKubeconfig = join(dir, `${name}-kubeconfig`);
    writeFileSync(runKubeconfig, readFileSync(state().kubeconfig));
    const drill = spawn(
      process.execPath,
      [
        MESHDRILL,
        'run',
        scenario,
        '--target',
        'existing',
        '--out',
        out,
        '--json',
        '--target-opt',
        `context=${context}`,
        '--target-opt',
        `kubeconfig=${runKubeconfig}`,
        '--target-opt',
        `allow-faults=${context}`,
        '--target-opt',
        `prometheus-url=${state().prometheusUrl}`,
        '--target-opt',
        `ingress-url=${state().ingressUrl}`,
        ...extra,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env },
    );
    let stderr = '';
    drill.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise((r) => drill.once('exit', r));
    return { drill, out, runKubeconfig, exited, stderr: () => stderr };
  }

  it('restores istiod, the patched Deployment and the re-applied ConfigMap; keeps what was there; leaves nothing', async () => {
    const kubeconfig = parse(readFileSync(state().kubeconfig, 'utf8')) as { 'current-context': string };
    const context = kubeconfig['current-context'];
    await kubectl(['apply', '-f', '-'], TEAM_OBJECTS);
    const watched = [
      ['-n', 'istio-system', 'get', 'deployment', 'istiod'],
      ['-n', 'team-a', 'get', 'deployment', 'billing'],
      ['-n', 'team-a', 'get', 'configmap', 'feature-flags'],
      ['-n', 'team-a', 'get', 'secret', 'keep-me'],
      ['get', 'namespace', 'team-a'],
    ];
    const before = await Promise.all(watched.map(async (args) => essence(await getJson(args))));

    const { drill, out, runKubeconfig, exited, stderr } = spawnDrill(context, 'out');
    let runId: string;
    try {
      runId = await faultInjected(out, stderr, 'the fault to be injected', clusterView);
      // The fault did bite: each of the three objects is changed while the run is alive.
      const [istiod, billing, flags] = await Promise.all(
        watched.slice(0, 3).map(async (args) => getJson(args)),
      );
      expect((istiod as { spec: { replicas: number } }).spec.replicas).to.equal(0);
      expect((billing as { spec: { minReadySeconds?: number } }).spec.minReadySeconds).to.equal(30);
      expect((flags as { data: Record<string, string> }).data.checkout).to.equal('off');
      const started = descendants(drill.pid as number);
      drill.kill('SIGKILL');
      await exited;
      await until(
        'every process the run started to end',
        () => started.every((p) => !isAlive(p)),
        15_000,
      ).catch(() => {
        const table = readProcessTable();
        const left = started.filter(isAlive).map((p) => {
          const row = table.find((r) => r.pid === p);
          return `${p} (${commandOf(p)}; state ${row?.state}, parent ${row?.ppid}, group ${row?.pgid})`;
        });
        throw new Error(`still running 15 s after the SIGKILL: ${left.join(', ')}`);
      });
    } finally {
      if (drill.exitCode === null && drill.signalCode === null) drill.kill('SIGKILL');
    }

    // Negative control: without cleanup, the comparison below fails.
    const killed = await Promise.all(watched.map(async (args) => essence(await getJson(args))));
    expect(killed).to.not.deep.equal(before);

    const cleanup = await run(
      process.execPath,
      [MESHDRILL, 'cleanup', '--run-id', runId, '--context', context],
      {
        env: { ...env, KUBECONFIG: runKubeconfig },
        timeoutMs: 180_000,
      },
    );
    expect(cleanup.exitCode, `${cleanup.stdout}\n${cleanup.stderr}`).to.equal(0);

    const after = await Promise.all(watched.map(async (args) => essence(await getJson(args))));
    // As text, so that a difference shows as a readable diff.
    expect(JSON.stringify(after, null, 1)).to.equal(JSON.stringify(before, null, 1));
    const runLabel = `meshdrill.io/run-id=${runId}`;
    const leftovers = await kubectl([
      'get',
      'all,configmaps,secrets,serviceaccounts,virtualservices,gateways',
      '-A',
      '-l',
      runLabel,
      '-o',
      'name',
    ]);
    expect(leftovers.trim()).to.equal('');
    await until(
      'the drill namespace to be gone',
      async () => !(await kubectl(['get', 'namespaces', '-o', 'name'])).includes('namespace/drill-outlived'),
      60_000,
    );
    const istiod = await getJson(['-n', 'istio-system', 'get', 'deployment', 'istiod']);
    expect((istiod.spec as { replicas: number }).replicas).to.equal(1);
  });

  it('kill -9 with in-cluster k6 load: cleanup leaves no TestRun, runner Job or k6 pod', async () => {
    await teamClusterAsBefore();
    const kubeconfig = parse(readFileSync(state().kubeconfig, 'utf8')) as { 'current-context': string };
    const context = kubeconfig['current-context'];
    const { drill, out, runKubeconfig, exited, stderr } = spawnDrill(context, 'out-k6', [
      '--load-driver',
      'k6',
      '--target-opt',
      'k6-mode=in-cluster',
      '--target-opt',
      'k6-runners=2',
    ]);
    let runId: string;
    try {
      runId = await faultInjected(out, stderr, 'the fault to be injected under in-cluster load', clusterView);
      const runners = await kubectl(['get', 'pods', '-A', '-l', 'app=k6,runner=true', '-o', 'name']);
      expect(runners.trim().split('\n'), 'two runner pods send the load').to.have.length(2);
      drill.kill('SIGKILL');
      await exited;
    } finally {
      if (drill.exitCode === null && drill.signalCode === null) drill.kill('SIGKILL');
    }
    // Negative control: the run's TestRun outlives the killed harness until cleanup.
    const runLabel = `meshdrill.io/run-id=${runId}`;
    expect(await kubectl(['get', 'testruns', '-A', '-l', runLabel, '-o', 'name'])).to.include('testrun');

    const cleanup = await run(
      process.execPath,
      [MESHDRILL, 'cleanup', '--run-id', runId, '--context', context],
      { env: { ...env, KUBECONFIG: runKubeconfig }, timeoutMs: 180_000 },
    );
    expect(cleanup.exitCode, `${cleanup.stdout}\n${cleanup.stderr}`).to.equal(0);
    expect(
      (await kubectl(['get', 'testruns,jobs,configmaps', '-A', '-l', runLabel, '-o', 'name'])).trim(),
    ).to.equal('');
    await until(
      'every k6 pod to be gone',
      async () => (await kubectl(['get', 'pods', '-A', '-l', 'app=k6', '-o', 'name'])).trim() === '',
      60_000,
    );
  });

  it("kill -9 after a setup command: cleanup runs its recorded undo before deleting the run's objects", async () => {
    await teamClusterAsBefore();
    const kubeconfig = parse(readFileSync(state().kubeconfig, 'utf8')) as { 'current-context': string };
    const context = kubeconfig['current-context'];
    const probe = ['-n', 'undo-probe-outlived', 'get', 'configmap', 'installed-by-setup', '-o', 'name'];
    const { drill, out, runKubeconfig, exited, stderr } = spawnDrill(
      context,
      'out-undo',
      [],
      SETUP_COMMAND_SCENARIO,
    );
    let runId: string;
    try {
      runId = await faultInjected(
        out,
        stderr,
        'the fault to be injected after the setup command',
        clusterView,
      );
      const started = descendants(drill.pid as number);
      drill.kill('SIGKILL');
      await exited;
      await until('every process the run started to end', () => started.every((p) => !isAlive(p)), 15_000);
    } finally {
      if (drill.exitCode === null && drill.signalCode === null) drill.kill('SIGKILL');
    }
    // Negative control: what the setup command made outlives the killed run, and carries no run-id label.
    expect((await kubectl(probe)).trim()).to.equal('configmap/installed-by-setup');
    const ns = await getJson(['get', 'namespace', 'undo-probe-outlived']);
    expect((ns.metadata as { labels?: Record<string, string> }).labels ?? {}).to.not.have.property(
      'meshdrill.io/run-id',
    );
    const records = join(dir, 'state', 'pending-undos', runId);
    expect(readdirSync(records), 'the undo is recorded in the state directory').to.have.length(1);
    const record = JSON.parse(readFileSync(join(records, readdirSync(records)[0] ?? ''), 'utf8')) as {
      undo: string;
      env: { context: string };
    };
    expect(record.undo).to.include('kubectl delete namespace undo-probe-outlived');
    expect(record.env.context).to.equal(context);

    const cleanup = await run(
      process.execPath,
      [MESHDRILL, 'cleanup', '--run-id', runId, '--context', context],
      { env: { ...env, KUBECONFIG: runKubeconfig }, timeoutMs: 180_000 },
    );
    expect(cleanup.exitCode, `${cleanup.stdout}\n${cleanup.stderr}`).to.equal(0);
    // The undo ran before the drill namespace was deleted: its line comes first.
    const lines = cleanup.stdout.split('\n');
    const undoLine = lines.findIndex((l) => l.startsWith(`undoing run ${runId}: outlived-undo setup step 1`));
    const deletedNs = lines.findIndex((l) => l.includes('drill-outlived-undo') && l.startsWith('deleted'));
    expect(undoLine, cleanup.stdout).to.be.greaterThan(-1);
    expect(deletedNs, cleanup.stdout).to.be.greaterThan(undoLine);
    expect(lines[undoLine + 1]).to.equal('  ran; record removed');
    expect(existsSync(records), 'the record is gone').to.equal(false);
    await until(
      'the namespace the setup command created to be gone',
      async () =>
        !(await kubectl(['get', 'namespaces', '-o', 'name'])).includes('namespace/undo-probe-outlived'),
      60_000,
    );
    const again = await run(
      process.execPath,
      [MESHDRILL, 'cleanup', '--run-id', runId, '--context', context],
      { env: { ...env, KUBECONFIG: runKubeconfig }, timeoutMs: 180_000 },
    );
    expect(again.exitCode, `${again.stdout}\n${again.stderr}`).to.equal(0);
    expect(again.stdout).to.not.include('undoing run');
  });
});

/**
 * The run id, once the drill's journal records its fault injected; on a timeout or a run that ended first, what
 * explains it: the journal's records but its load samples, the drill's stderr tail and the cluster's view.
 */
function faultInjected(
  out: string,
  stderr: () => string,
  what: string,
  clusterView: () => Promise<string>,
): Promise<string> {
  return until(
    what,
    () => {
      const journal = join(out, 'journal.jsonl');
      if (!existsSync(journal)) return undefined;
      const text = readFileSync(journal, 'utf8');
      if (!text.includes('"type":"fault-injected"')) {
        if (text.includes('"type":"run-end"')) throw new Error(`the run ended before ${what}`);
        return undefined;
      }
      return /"runId":"([^"]+)"/.exec(text)?.[1];
    },
    180_000,
  ).catch(async (error: unknown) => {
    const journal = join(out, 'journal.jsonl');
    const records = existsSync(journal)
      ? readFileSync(journal, 'utf8')
          .trim()
          .split('\n')
          .filter((line) => !line.includes('"type":"load-sample"'))
          .map((line) => line.slice(0, 1500))
      : [];
    const view = await clusterView().catch((e: unknown) => `(cluster unreadable: ${String(e)})`);
    throw new Error(
      [String(error), 'journal:', ...records, 'stderr:', stderr().slice(-3000), 'cluster:', view].join('\n'),
    );
  });
}
