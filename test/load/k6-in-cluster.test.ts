// Tests of the in-cluster k6 driver against an in-memory KubeClient whose k6 pods replay the recorded NDJSON
// fixture over time: the applied manifests, the streamed samples and the summary, cleanup of everything created
// (on completion, stop and abort), the missing k6-operator, a failing k6, an image that cannot be pulled; and the
// pod-log cursor.

import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createLoadDriver } from '../../harness/load/index.js';
import {
  createK6InClusterDriver,
  type K6InClusterDriverOptions,
} from '../../harness/load/k6/in-cluster-driver.js';
import { LogCursor } from '../../harness/load/k6/log-cursor.js';
import { MeshdrillError } from '../../harness/model/errors.js';
import { RUN_ID_LABEL } from '../../harness/model/kube-object.js';
import type { LoadSample } from '../../harness/model/load.js';
import { FakeK6Cluster, type FakeK6PodScript } from './fake-kube.js';
import { makeProfile } from './support.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/k6/points-basic.ndjson');
const BASE_URL = 'http://istio-ingressgateway.istio-system';
const RUN_ID = 'run-20240514-1';

describe('load/k6 in-cluster driver', function () {
  this.timeout(20_000);
  let points = '';
  let cluster: FakeK6Cluster | undefined;
  before(async () => {
    points = await readFile(FIXTURE, 'utf8');
  });
  afterEach(() => cluster?.dispose());

  const setUp = (script: Partial<FakeK6PodScript> = {}): FakeK6Cluster => {
    cluster = new FakeK6Cluster({
      // What a k6 pod's log holds: a warning on stderr, the points, then the handleSummary marker.
      log: `time="2024-05-14T10:00:00Z" level=warning msg="a k6 warning"\n${points}\nmeshdrill: k6 summary written to /tmp/summary.json\n`,
      startDelayMs: 60,
      replayMs: 400,
      exitCode: 99,
      ...script,
    });
    return cluster;
  };
  const optionsFor = (
    c: FakeK6Cluster,
    more: Partial<K6InClusterDriverOptions> = {},
  ): K6InClusterDriverOptions => ({
    kube: c.client(),
    namespace: 'md-load',
    mode: 'job',
    runId: RUN_ID,
    scenario: 'cert-expiry',
    pollMs: 20,
    podStartTimeoutMs: 5000,
    cleanupTimeoutMs: 5000,
    ...more,
  });

  it('runs the script as a Job, streams samples from the pod log while it runs, and deletes what it created', async () => {
    // The fixture's first second can close 71 % into its log: a 1 s replay leaves it ~300 ms before the end.
    const c = setUp({ replayMs: 1000 });
    const samples: { at: number; sample: LoadSample }[] = [];
    const driver = createK6InClusterDriver(optionsFor(c));
    // A short request timeout lets seconds close early in the replay (k6 reports a request when it ends).
    const profile = makeProfile({ requestTimeoutMs: 100 });
    const run = await driver.start(profile, BASE_URL, (sample) => samples.push({ at: Date.now(), sample }));
    const summary = await run.done;
    const ended = Date.now();

    expect(c.applied.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).to.deep.equal([
      'ConfigMap md-load/k6-run-20240514-1-script',
      'Job md-load/k6-run-20240514-1',
    ]);
    const [configMap, job] = c.applied;
    expect((configMap?.data as Record<string, string> | undefined)?.['script.js']).to.match(
      /executor.*constant-arrival-rate/s,
    );
    for (const object of c.applied) expect(object.metadata.labels?.[RUN_ID_LABEL]).to.equal(RUN_ID);
    const container = (
      job?.spec as
        | undefined
        | {
            template: { spec: { containers: { args: string[]; env: { name: string; value: string }[] }[] } };
          }
    )?.template.spec.containers[0];
    expect(container?.args).to.include('json=/dev/stdout');
    expect(container?.env).to.deep.include({ name: 'MESHDRILL_BASE_URL', value: BASE_URL });

    // The same samples as the parser gives for the fixture, and the first ones arrived before the pod finished.
    expect(samples.map((s) => s.sample.scheduled)).to.deep.equal([10, 10, 13]);
    expect(samples[0]?.sample.byStatus).to.deep.equal({ '200': 10 });
    expect(samples[0]?.at, 'streamed while running').to.be.below(ended - 150);
    expect(summary).to.include({ scheduled: 33, completed: 30, succeeded: 26, dropped: 3 });
    expect(c.podLogReads, 'the log was polled repeatedly').to.be.greaterThan(3);

    expect(c.live(), 'everything created is gone, the pod included').to.deep.equal([]);
    expect(c.calls.filter((call) => call.startsWith('delete'))).to.include.members([
      'delete Job/md-load/k6-run-20240514-1',
      'delete ConfigMap/md-load/k6-run-20240514-1-script',
    ]);
    expect(c.calls.some((call) => /^delete Pod\/md-load\/k6-run-20240514-1-/.test(call))).to.equal(true);
  });

  it('stop() deletes the Job and its pod, waits until the pod is gone, and returns the partial summary', async () => {
    const c = setUp({ replayMs: 2000 });
    const run = await createK6InClusterDriver(optionsFor(c)).start(makeProfile(), BASE_URL, () => {});
    // Wait (bounded) until the pod has run for a while: part of the log has been read.
    const deadline = Date.now() + 5000;
    while (c.podLogReads < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    const summary = await run.stop();
    expect(Date.now() - started, 'stop does not wait for the schedule').to.be.below(2000);
    expect(summary.scheduled).to.be.within(1, 32);
    expect(c.live()).to.deep.equal([]);
    expect(c.calls.filter((call) => call.startsWith('delete Job'))).to.have.length(1);
  });

  it('ends on the AbortSignal and deletes everything', async () => {
    const c = setUp({ replayMs: 2000 });
    const abort = new AbortController();
    const run = await createK6InClusterDriver(optionsFor(c)).start(
      makeProfile(),
      BASE_URL,
      () => {},
      abort.signal,
    );
    const deadline = Date.now() + 5000;
    while (c.podLogReads < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    const summary = await run.done;
    expect(summary.scheduled).to.be.within(1, 32);
    expect(c.live()).to.deep.equal([]);
  });

  it('runs a k6-operator TestRun with runner pods, merging their points, and deletes the operator jobs too', async () => {
    const c = setUp();
    c.operatorInstalled = true;
    const run = await createK6InClusterDriver(optionsFor(c, { mode: 'testrun', parallelism: 2 })).start(
      makeProfile(),
      BASE_URL,
      () => {},
    );
    const summary = await run.done;
    const testRun = c.applied.find((o) => o.kind === 'TestRun');
    expect(testRun?.spec).to.deep.include({ parallelism: 2, arguments: '--out json=/dev/stdout' });
    expect(testRun?.metadata.labels?.[RUN_ID_LABEL]).to.equal(RUN_ID);
    expect(summary).to.include({ scheduled: 66, succeeded: 52, dropped: 6 });
    expect(c.live()).to.deep.equal([]);
    expect(c.calls).to.include('delete Job/md-load/k6-run-20240514-1-initializer');
  });

  it('says how to install the k6-operator when TestRun is not served, leaving nothing behind', async () => {
    for (const forbidden of [false, true]) {
      const c = setUp();
      c.crdReadForbidden = forbidden;
      const driver = createK6InClusterDriver(optionsFor(c, { mode: 'testrun' }));
      const error = await driver
        .start(makeProfile(), BASE_URL, () => {})
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error, `CRD read forbidden: ${forbidden}`).to.be.instanceOf(MeshdrillError);
      const e = error as MeshdrillError;
      expect(e.kind).to.equal('environment');
      expect(e.message).to.match(forbidden ? /does not serve k6\.io\/v1alpha1 TestRun/ : /testruns\.k6\.io/);
      expect(e.hint).to.match(/k6-operator.*bundle\.yaml.*mode 'job'/s);
      expect(c.live(), 'the ConfigMap applied before the TestRun is deleted again').to.deep.equal([]);
    }
  });

  it('reports a failing k6 with its output, and still cleans up', async () => {
    const c = setUp({ exitCode: 107, log: `time="x" level=error msg="SyntaxError: Unexpected token"\n` });
    const run = await createK6InClusterDriver(optionsFor(c)).start(makeProfile(), BASE_URL, () => {});
    const error = await run.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(MeshdrillError);
    expect((error as Error).message).to.match(
      /k6 failed in-cluster.*exit 107.*SyntaxError: Unexpected token/s,
    );
    expect(c.live()).to.deep.equal([]);
  });

  it('gives up at once on an image that cannot be pulled, saying how to load it into kind', async () => {
    const c = setUp({ waitingReason: 'ErrImagePull' });
    const run = await createK6InClusterDriver(optionsFor(c)).start(makeProfile(), BASE_URL, () => {});
    const error = await run.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).to.match(/cannot start: ErrImagePull/);
    expect((error as MeshdrillError).hint).to.match(/kind load docker-image grafana\/k6:/);
    expect(c.live()).to.deep.equal([]);
  });

  it('is what createLoadDriver("k6") gives when in-cluster options are set', () => {
    const c = setUp();
    expect(createLoadDriver('k6', { k6InCluster: optionsFor(c) }).name).to.equal('k6');
  });
});

describe('load/k6 pod-log cursor', () => {
  it('returns only new complete lines as the log grows', () => {
    const cursor = new LogCursor();
    expect(cursor.read('a\nb\nc')).to.deep.equal({ lines: ['a', 'b'], gap: false });
    expect(cursor.read('a\nb\nc')).to.deep.equal({ lines: [], gap: false });
    expect(cursor.read('a\nb\ncc\nd\n')).to.deep.equal({ lines: ['cc', 'd'], gap: false });
    expect(cursor.read('a\nb\ncc\nd\ne', true)).to.deep.equal({ lines: ['e'], gap: false });
  });

  it('finds its place after a rotation that kept the last line, and counts a gap when it did not', () => {
    const cursor = new LogCursor();
    cursor.read('1\n2\n3\n');
    expect(cursor.read('3\n4\n')).to.deep.equal({ lines: ['4'], gap: false });
    expect(cursor.read('7\n8\n')).to.deep.equal({ lines: ['7', '8'], gap: true });
    expect(cursor.gaps).to.equal(1);
    // A line that merely ends like the anchor is not the anchor.
    expect(cursor.read('x8\n9\n')).to.deep.equal({ lines: ['x8', '9'], gap: true });
  });
});
