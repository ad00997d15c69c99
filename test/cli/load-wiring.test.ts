// Which load driver a drill gets: with `k6-mode=in-cluster` (the target's inClusterLoad), k6 runs as a
// k6-operator TestRun in the drill's namespace, labelled with the run, split across the target's runner count
// and aimed at the gateway's in-cluster address — never at the host's 127.0.0.1 port, which pods cannot reach.
// Without it, k6 stays on this machine and nothing is applied to the cluster.

import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { TargetEnvironment } from '../../clusters/target.js';
import { chooseLoadDriver } from '../../harness/cli/wiring.js';
import { K6_ENV } from '../../harness/load/k6/script.js';
import { RUN_ID_LABEL } from '../../harness/model/kube-object.js';
import { FakeK6Cluster } from '../load/fake-kube.js';
import { makeProfile } from '../load/support.js';

const POINTS = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/k6/points-basic.ndjson');
const HOST_URL = 'http://127.0.0.1:18080';
const IN_CLUSTER_URL = 'http://istio-ingressgateway.istio-system.svc.cluster.local';
const RUN_ID = '20261206-130000-abcdef';

function environment(inClusterLoad?: TargetEnvironment['inClusterLoad']): TargetEnvironment {
  return {
    kubeconfigPath: '/nonexistent/kubeconfig',
    prometheusUrl: '',
    ingressUrl: HOST_URL,
    versions: {},
    timings: {},
    binDirs: [],
    prometheus: { scrapeIntervalMs: 5000, evaluationIntervalMs: 5000 },
    faultsAllowed: true,
    ...(inClusterLoad ? { inClusterLoad } : {}),
  };
}

interface EnvVar {
  name: string;
  value: string;
}

describe('cli wiring: the load driver of a drill', function () {
  this.timeout(20_000);
  let cluster: FakeK6Cluster;
  beforeEach(async () => {
    cluster = new FakeK6Cluster({
      log: `${await readFile(POINTS, 'utf8')}\n`,
      startDelayMs: 20,
      replayMs: 100,
      exitCode: 0,
    });
    cluster.operatorInstalled = true;
  });
  afterEach(() => cluster.dispose());

  it("runs k6 in-cluster as a TestRun of the target's runners, in the drill namespace, at the gateway's in-cluster address", async () => {
    const env = environment({ baseUrl: IN_CLUSTER_URL, runners: 3 });
    const driver = chooseLoadDriver(env, cluster.client(), RUN_ID, 'k6', {
      scenario: 'cert-expiry',
      namespace: 'drill-cert-expiry',
    });
    const run = await driver.start(makeProfile(), HOST_URL, () => {});
    await run.done;
    const testRun = cluster.applied.find((o) => o.kind === 'TestRun');
    expect(testRun?.metadata.namespace).to.equal('drill-cert-expiry');
    expect(testRun?.metadata.labels?.[RUN_ID_LABEL]).to.equal(RUN_ID);
    const spec = testRun?.spec as {
      parallelism: number;
      runner: { env: EnvVar[]; metadata: { annotations: Record<string, string> } };
      initializer: { metadata: { annotations: Record<string, string> } };
      starter: { metadata: { annotations: Record<string, string> } };
    };
    expect(spec.parallelism).to.equal(3);
    expect(spec.runner.env.find((e) => e.name === K6_ENV.baseUrl)?.value).to.equal(IN_CLUSTER_URL);
    for (const pod of [spec.runner, spec.initializer, spec.starter])
      expect(pod.metadata.annotations['sidecar.istio.io/inject']).to.equal('false');
    expect(JSON.stringify(testRun), 'the host address reaches no pod').to.not.include(HOST_URL);
    expect(cluster.live(), 'the TestRun, its script and pods are gone after the run').to.deep.equal([]);
  });

  it('keeps k6 on this machine when the target runs no load in the cluster: nothing is applied', async () => {
    const driver = chooseLoadDriver(environment(), cluster.client(), RUN_ID, 'k6', {
      scenario: 'cert-expiry',
      namespace: 'drill-cert-expiry',
    });
    // No k6 binary here: the local driver says how to install it, and the cluster saw nothing.
    const error = await driver
      .start(makeProfile(), HOST_URL, () => {})
      .then(
        (run) => run.stop().then(() => undefined),
        (e: unknown) => e,
      );
    expect(String(error)).to.match(/k6/);
    expect(cluster.calls).to.deep.equal([]);
  });

  it('keeps the built-in generator on this machine even when k6 would run in-cluster', () => {
    const env = environment({ baseUrl: IN_CLUSTER_URL, runners: 2 });
    const driver = chooseLoadDriver(env, cluster.client(), RUN_ID, 'builtin', {
      scenario: 'shop',
      namespace: 'drill-shop',
    });
    expect(driver.name).to.equal('builtin');
    expect(cluster.calls).to.deep.equal([]);
  });
});
