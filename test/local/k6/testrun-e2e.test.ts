// A k6-operator TestRun on the booted local target, end to end: the ConfigMap and TestRun the harness's
// planK6ClusterRun builds (parallelism 2, 20/s for 8 s) against a fortio workload behind the ingress gateway; the
// stages in order, two runners on their own execution segments each sending half of the load, the points the
// harness parses, the cascade when the TestRun is deleted, and no process of the run left alive. Negative
// controls: a script key missing from the ConfigMap ends in "error"; a missing ConfigMap holds the initializer
// (as a real kubelet holds it on FailedMount) and the TestRun never gets past "initialization".

import { expect } from 'chai';
import { RESOURCES } from '../../../clusters/local/controllers/index.js';
import { isAlive } from '../../../clusters/local/kubelet/index.js';
import type { StoredObject, WatchEvent } from '../../../clusters/local/store/index.js';
import { createKubeClient } from '../../../harness/kube/index.js';
import { createK6InClusterDriver, planK6ClusterRun } from '../../../harness/load/k6/in-cluster-driver.js';
import type { LoadSample } from '../../../harness/model/load.js';
import { K6OutputParser, parseK6Line } from '../../../harness/load/k6/output.js';
import { makeProfile } from '../../load/support.js';
import { applyAndRollOut, type Booted, bootTarget, expectOk, lateKubectl, until } from '../support/index.js';
import { k6WorkloadYaml } from '../support/k6-workload.js';

const HOST = 'front.k6.local';
const LOAD_NS = 'k6-load';
const WORKLOAD = k6WorkloadYaml(HOST, LOAD_NS);
const BASE_URL = 'http://istio-ingressgateway.istio-system.svc.cluster.local';

interface RunnerSeen {
  command: string[];
  log: string;
  pids: number[];
}

describe('k6-operator TestRun on the local target', function () {
  this.timeout(240_000);
  let booted: Booted | undefined;
  const kubectl = lateKubectl(() => booted);

  before(async () => {
    booted = await bootTarget({ dirPrefix: 'meshdrill-k6-e2e-' });
    await applyAndRollOut(kubectl, WORKLOAD, 'demo', ['web']);
  });

  after(async () => {
    await booted?.stop();
  });

  const cluster = () => {
    const c = booted?.target.cluster;
    if (!c) throw new Error('not booted');
    return c;
  };

  /** Records a TestRun's stages and its k6 pods (command, final log, PIDs) while it runs. */
  function follow(name: string) {
    const { store, kubelet } = cluster();
    const stages: string[] = [];
    const runners = new Map<string, RunnerSeen>();
    const pids = new Set<number>();
    const onTestRun = (e: WatchEvent): void => {
      if (e.object.metadata.name !== name) return;
      const stage = (e.object.status as { stage?: string } | undefined)?.stage;
      if (stage && stages.at(-1) !== stage) stages.push(stage);
    };
    const onPod = (e: WatchEvent): void => {
      const pod = e.object as StoredObject & {
        spec: { containers: { command?: string[] }[] };
        status?: { phase?: string };
      };
      if (pod.metadata.labels?.k6_cr !== name) return;
      for (const pid of kubelet.worker(LOAD_NS, pod.metadata.name)?.pids() ?? []) pids.add(pid);
      if (pod.metadata.labels.runner !== 'true') return;
      const seen = runners.get(pod.metadata.name) ?? {
        command: pod.spec.containers[0]?.command ?? [],
        log: '',
        pids: [],
      };
      runners.set(pod.metadata.name, seen);
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
        seen.log = kubelet.readLog(LOAD_NS, pod.metadata.name, { container: 'k6' });
      }
    };
    const watches = [
      store.watch(RESOURCES.testruns, { namespace: LOAD_NS }, onTestRun),
      store.watch(RESOURCES.pods, { namespace: LOAD_NS }, onPod),
    ];
    // Catch processes between pod events too.
    const sampler = setInterval(() => {
      for (const pod of store.list(RESOURCES.pods, { namespace: LOAD_NS, labelSelector: `k6_cr=${name}` })
        .items) {
        for (const pid of kubelet.worker(LOAD_NS, pod.metadata.name)?.pids() ?? []) pids.add(pid);
      }
    }, 100);
    return {
      stages,
      runners,
      pids,
      stop() {
        clearInterval(sampler);
        for (const w of watches) w.stop();
      },
    };
  }

  const stageOf = (name: string): string | undefined =>
    (cluster().store.get(RESOURCES.testruns, LOAD_NS, name)?.status as { stage?: string } | undefined)?.stage;

  it('runs parallelism 2 through the stages, each runner on its segment, and cascades on delete', async () => {
    const profile = makeProfile({
      rate: 20,
      maxDurationMs: 8000,
      maxInFlight: 10,
      requestTimeoutMs: 2000,
      host: HOST,
      requests: [{ method: 'GET', path: '/echo', headers: {}, weight: 1 }],
    });
    const plan = planK6ClusterRun(
      { namespace: LOAD_NS, mode: 'testrun', runId: 'k6-e2e', parallelism: 2, image: 'grafana/k6:0.54.0' },
      profile,
      BASE_URL,
    );
    const testRun = plan.objects.at(-1) as { metadata: { name: string } };
    const name = testRun.metadata.name;
    const baseline = new Set(booted?.target.pids());
    const seen = follow(name);
    try {
      for (const object of plan.objects)
        await cluster().store.create(
          object.kind === 'ConfigMap' ? RESOURCES.configmaps : RESOURCES.testruns,
          object,
        );
      await until(
        'the TestRun to finish',
        () => ['finished', 'error'].includes(stageOf(name) ?? ''),
        120_000,
        {
          intervalMs: 250,
        },
      );
      expect(seen.stages).to.deep.equal([
        'initialization',
        'initialized',
        'created',
        'started',
        'stopped',
        'finished',
      ]);

      // Two runners, each with its own execution segment of the same sequence.
      const runners = [...seen.runners.entries()].sort(([a], [b]) => a.localeCompare(b));
      expect(runners).to.have.length(2);
      const segments = runners.map(([, r]) => r.command.find((a) => a.startsWith('--execution-segment=')));
      expect(segments.sort()).to.deep.equal(['--execution-segment=0:1/2', '--execution-segment=1/2:1']);
      for (const [, r] of runners) {
        expect(r.command).to.include.members([
          '--paused',
          '--address=0.0.0.0:6565',
          '--execution-segment-sequence=0,1/2,1',
        ]);
      }

      // Each runner sent half of 20/s × 8 s (maxVUs 10 splits evenly), all 2xx through the gateway.
      const parser = new K6OutputParser({ lateMs: 3000 });
      const samples: LoadSample[] = [];
      for (const [podName, r] of runners) {
        const points = r.log.split('\n').filter((l) => l.startsWith('{'));
        const requests = points.map((l) => parseK6Line(l)).filter((p) => p?.metric === 'http_req_duration');
        expect(requests.length, `${podName} requests`).to.be.within(76, 80);
        expect(requests.every((p) => p?.tags.instance_id !== undefined)).to.equal(true);
        expect(
          requests.filter((p) => p?.tags.status !== '200'),
          `${podName} non-200`,
        ).to.deep.equal([]);
        samples.push(...parser.push(`${points.join('\n')}\n`));
      }
      const rest = parser.finish();
      samples.push(...rest.samples);
      const summary = rest.summary;
      const completed = samples.reduce((sum, s) => sum + s.completed, 0);
      expect(completed).to.be.within(152, 160);
      expect(summary.completed).to.equal(completed);
      expect(summary.succeeded).to.equal(completed);
      expect(summary.dropped).to.equal(0);

      // Deleting the TestRun alone removes its Jobs, Services and pods (owner references), and their processes.
      const { store } = cluster();
      const owned = (): string[] =>
        [
          ...store.list(RESOURCES.jobs, { namespace: LOAD_NS, labelSelector: `k6_cr=${name}` }).items,
          ...store.list(RESOURCES.services, { namespace: LOAD_NS, labelSelector: `k6_cr=${name}` }).items,
          ...store.list(RESOURCES.pods, { namespace: LOAD_NS, labelSelector: `k6_cr=${name}` }).items,
        ].map((o) => `${o.kind}/${o.metadata.name}`);
      expect(
        owned()
          .filter((o) => o.startsWith('Job/'))
          .sort(),
      ).to.deep.equal(
        [`Job/${name}-1`, `Job/${name}-2`, `Job/${name}-initializer`, `Job/${name}-starter`].sort(),
      );
      expect(
        owned()
          .filter((o) => o.startsWith('Service/'))
          .sort(),
      ).to.deep.equal([`Service/${name}-service-1`, `Service/${name}-service-2`]);
      expectOk(await kubectl(['-n', LOAD_NS, 'delete', 'testrun', name, '--wait=false']));
      await until('the TestRun to take everything it owns with it', () => owned().length === 0, 30_000);
      expect(seen.pids.size).to.be.greaterThan(3);
      await until('no process of the run', () => [...seen.pids].every((pid) => !isAlive(pid)), 15_000);
      await until(
        'the target back to its own processes',
        () => {
          const now = booted?.target.pids() ?? [];
          return now.every((p) => baseline.has(p)) ? true : undefined;
        },
        15_000,
      );
    } finally {
      seen.stop();
      await cluster()
        .store.delete(RESOURCES.testruns, LOAD_NS, name)
        .catch(() => undefined);
    }
  });

  // Pending until the local API server serves apiextensions.k8s.io CustomResourceDefinitions: the driver first
  // reads CRD testruns.k6.io and refuses without it (harness/load/k6/in-cluster-driver.ts requireK6Operator).
  it("runs through the harness's in-cluster k6 driver (mode testrun) and leaves nothing behind", async () => {
    const env = booted?.env;
    if (!env) throw new Error('not booted');
    const baseline = new Set(booted?.target.pids());
    const driver = createK6InClusterDriver({
      kube: createKubeClient(env.kubeconfigPath),
      namespace: LOAD_NS,
      mode: 'testrun',
      runId: 'k6-driver',
      parallelism: 2,
      image: 'grafana/k6:0.54.0',
      pollMs: 250,
      podStartTimeoutMs: 60_000,
      cleanupTimeoutMs: 30_000,
    });
    const samples: LoadSample[] = [];
    const profile = makeProfile({
      rate: 20,
      maxDurationMs: 6000,
      maxInFlight: 10,
      requestTimeoutMs: 2000,
      host: HOST,
      requests: [{ method: 'GET', path: '/echo', headers: {}, weight: 1 }],
    });
    // The driver first checks that the operator's CRD exists, as on a real cluster (the local API server
    // lists the CRDs it serves).
    const run = await driver.start(profile, BASE_URL, (s) => samples.push(s));
    const summary = await run.done;
    expect(summary.completed).to.be.within(114, 120);
    expect(summary.succeeded).to.equal(summary.completed);
    expect(samples.reduce((sum, s) => sum + s.completed, 0)).to.equal(summary.completed);
    const { store } = cluster();
    expect(store.list(RESOURCES.testruns, { namespace: LOAD_NS }).items).to.deep.equal([]);
    expect(store.list(RESOURCES.pods, { namespace: LOAD_NS, labelSelector: 'app=k6' }).items).to.deep.equal(
      [],
    );
    await until(
      'the target back to its own processes',
      () => {
        const now = booted?.target.pids() ?? [];
        return now.every((p) => baseline.has(p)) ? true : undefined;
      },
      15_000,
    );
  });

  it('ends in "error" when the script file is missing from the ConfigMap (the initializer fails)', async () => {
    const { store } = cluster();
    await store.create(RESOURCES.configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'no-script', namespace: LOAD_NS },
      data: { 'other.js': '' },
    });
    await store.create(RESOURCES.testruns, {
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name: 'missing-key', namespace: LOAD_NS },
      spec: {
        parallelism: 1,
        script: { configMap: { name: 'no-script', file: 'script.js' } },
        runner: { image: 'grafana/k6', metadata: { annotations: { 'sidecar.istio.io/inject': 'false' } } },
      },
    });
    await until('stage error', () => stageOf('missing-key') === 'error', 30_000);
    const log = expectOk(await kubectl(['-n', LOAD_NS, 'logs', '-l', 'job-name=missing-key-initializer']));
    expect(log).to.match(/couldn't be found on local disk/);
    expect(store.get(RESOURCES.jobs, LOAD_NS, 'missing-key-1')).to.equal(undefined);
    expectOk(await kubectl(['-n', LOAD_NS, 'delete', 'testrun', 'missing-key']));
  });

  it('holds in "initialization" while the script ConfigMap does not exist, as the real operator does', async () => {
    const { store } = cluster();
    await store.create(RESOURCES.testruns, {
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name: 'no-configmap', namespace: LOAD_NS },
      spec: { parallelism: 1, script: { configMap: { name: 'absent', file: 'script.js' } } },
    });
    const waiting = await until(
      'the initializer pod to wait on its ConfigMap',
      () => {
        const pod = store.list(RESOURCES.pods, {
          namespace: LOAD_NS,
          labelSelector: 'job-name=no-configmap-initializer',
        }).items[0] as
          | (StoredObject & {
              status?: { containerStatuses?: { state: { waiting?: { reason: string } } }[] };
            })
          | undefined;
        return pod?.status?.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError'
          ? pod
          : undefined;
      },
      20_000,
    );
    expect(waiting).to.not.equal(undefined);
    await new Promise((r) => setTimeout(r, 2000));
    expect(stageOf('no-configmap')).to.equal('initialization');
    expectOk(await kubectl(['-n', LOAD_NS, 'delete', 'testrun', 'no-configmap']));
    await until(
      'its initializer gone',
      () => !store.get(RESOURCES.jobs, LOAD_NS, 'no-configmap-initializer'),
      15_000,
    );
  });
});
