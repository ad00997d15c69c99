// `meshdrill doctor` against fake kind, docker, helm and kubectl on PATH (answering as the real tools do) and an
// in-memory cluster: each check ok, warn or fail as provisioning would meet it, and nothing created or changed.

import { expect } from 'chai';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { diagnoseExisting } from '../../clusters/existing/doctor.js';
import { diagnoseKind } from '../../clusters/kind/doctor.js';
import type { DoctorCheck } from '../../clusters/shared/doctor.js';
import { formatChecks } from '../../harness/cli/commands/doctor.js';
import { RUN_ID_LABEL } from '../../harness/model/index.js';
import { FakeCluster, GOLDEN_DIR, type Sandbox, createSandbox } from './support.js';
import { freePort } from '../support/ports.js';
import { startFakeAlertmanager } from '../support/fake-alertmanager.js';

const find = (checks: DoctorCheck[], check: string): DoctorCheck | undefined =>
  checks.find((c) => c.check === check);

describe('meshdrill doctor (fake tools on PATH)', function () {
  this.timeout(30_000);
  let sandbox: Sandbox;
  let cluster: FakeCluster;

  beforeEach(async () => {
    sandbox = await createSandbox();
    cluster = new FakeCluster();
    cluster.seedNode('meshdrill-control-plane');
    cluster.seedInstalledStack();
  });
  afterEach(async () => {
    await sandbox.cleanup();
  });

  const changes = async (): Promise<string[]> =>
    (await sandbox.lines()).filter((l) =>
      /^(kind (create|delete|load)|helm (upgrade|install)|istioctl install|docker pull)/.test(l),
    );

  it('kind, no cluster yet: tools and versions ok, the classic image store ok, the host port free', async () => {
    const port = await freePort();
    const checks = await diagnoseKind({ 'ingress-host-port': String(port) }, sandbox.host(cluster.kube()));
    expect(
      checks.filter((c) => c.status !== 'ok'),
      formatChecks(checks).join('\n'),
    ).to.deep.equal([]);
    expect(find(checks, 'docker')?.detail).to.match(/fake-bin\/docker — a running container engine/);
    expect(find(checks, 'kind version')?.detail).to.match(/^v0\.30\.0, the release/);
    expect(find(checks, 'kubectl version')?.detail).to.equal('Client Version: v1.34.1');
    expect(find(checks, 'docker image store')?.detail).to.include('classic image store');
    expect(find(checks, 'cluster "meshdrill"')?.detail).to.include('does not exist');
    expect(find(checks, `host port ${port}`)?.status).to.equal('ok');
    expect(await changes()).to.deep.equal([]);
  });

  it('kind: a containerd image store is a warning with what meshdrill does about it; a taken port fails', async () => {
    sandbox.env.FAKE_IMAGE_STORE = 'containerd';
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const checks = await diagnoseKind({ 'ingress-host-port': String(port) }, sandbox.host(cluster.kube()));
      expect(find(checks, 'docker image store')?.status).to.equal('warn');
      expect(find(checks, 'docker image store')?.detail).to.include('kind #3795');
      expect(find(checks, `host port ${port}`)).to.deep.include({ status: 'fail' });
      expect(find(checks, `host port ${port}`)?.fix).to.include('ingress-host-port=');
    } finally {
      server.close();
    }
  });

  it('kind: a cluster to reuse is checked for its image, port mapping and leftovers; a missing tool fails', async () => {
    await mkdir(sandbox.stateDir, { recursive: true });
    await writeFile(join(sandbox.stateDir, 'kind-clusters'), 'meshdrill\n');
    const golden = await readFile(join(GOLDEN_DIR, 'kind-config-default.yaml'), 'utf8');
    await writeFile(
      join(sandbox.stateDir, 'kind-config-meshdrill.yaml'),
      golden.replace('hostPort: 8080', 'hostPort: 9090'),
    );
    cluster.put({
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'PodChaos',
      metadata: { name: 'left', namespace: 'istio-system', labels: { [RUN_ID_LABEL]: 'old' } },
    });
    const checks = await diagnoseKind({ 'chaos-mesh': 'true' }, sandbox.host(cluster.kube()));
    const clusterChecks = checks.filter((c) => c.check === 'cluster "meshdrill"');
    expect(clusterChecks.map((c) => c.status)).to.deep.equal(['fail', 'fail']);
    expect(clusterChecks[0]?.detail).to.equal(
      'its ingress node port 30080 is 127.0.0.1:9090, not on host port 8080',
    );
    expect(clusterChecks[1]?.detail).to.equal(
      'an earlier run left objects behind: PodChaos istio-system/left',
    );
    expect(clusterChecks[1]?.fix).to.include('meshdrill cleanup --all --context kind-meshdrill');
    expect(await changes()).to.deep.equal([]);
    expect(cluster.objects.has('PodChaos/istio-system/left'), 'doctor changes nothing').to.equal(true);
  });

  it('kind: without a container engine, the engine fails with how to get one and nothing else is tried', async () => {
    sandbox.env.FAKE_FAIL = 'docker:info,podman:info';
    const checks = await diagnoseKind({}, sandbox.host(cluster.kube()));
    const engine = find(checks, 'docker or podman');
    expect(engine?.status).to.equal('fail');
    expect(engine?.detail).to.include('Cannot connect to the Docker daemon');
    expect(checks.some((c) => c.check.startsWith('cluster'))).to.equal(false);
  });

  it('existing: the API, what drills need on the cluster, and whether faults are allowed', async () => {
    const kubeconfig = join(sandbox.home, '.kube', 'config');
    await mkdir(join(sandbox.home, '.kube'), { recursive: true });
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: s, cluster: {server: "https://127.0.0.1:6443"}}]',
        'users: [{name: s, user: {token: x}}]',
        'contexts: [{name: staging, context: {cluster: s, user: s}}]',
        'current-context: staging',
      ].join('\n'),
    );
    cluster.seedService('istio-system', 'prometheus', [{ name: 'http', port: 9090 }]);
    const ok = await diagnoseExisting(
      { context: 'staging', 'allow-faults': 'staging' },
      sandbox.host(cluster.kube()),
    );
    expect(
      ok.filter((c) => c.status !== 'ok' && c.check !== 'Alertmanager'),
      formatChecks(ok).join('\n'),
    ).to.deep.equal([]);
    expect(find(ok, 'Alertmanager')).to.deep.include({ status: 'warn' });
    expect(find(ok, 'Alertmanager')?.detail).to.include('notification signals will be left out');
    expect(find(ok, 'API server')?.detail).to.equal('Kubernetes v1.34.0');

    const bare = new FakeCluster();
    const refused = await diagnoseExisting({ context: 'staging' }, sandbox.host(bare.kube()));
    expect(refused.filter((c) => c.check === 'on the cluster').every((c) => c.status === 'fail')).to.equal(
      true,
    );
    expect(refused.find((c) => c.detail.startsWith('Istio: no istiod'))?.fix).to.include('install=istio');
    expect(find(refused, 'faults')?.status).to.equal('warn');
    expect(find(refused, 'faults')?.fix).to.include('allow-faults=staging');

    const am = await startFakeAlertmanager(
      'route: {receiver: pager, group_interval: 1m}\nreceivers: [{name: pager, pagerduty_configs: [{routing_key: k}]}, {name: "null"}]\n',
    );
    try {
      const named = await diagnoseExisting(
        { context: 'staging', 'allow-faults': 'staging', alertmanager: am.url },
        sandbox.host(cluster.kube()),
      );
      expect(find(named, 'Alertmanager')).to.deep.include({
        status: 'ok',
        detail: `0.28.1 at ${am.url}: routing delay up to 60s; receivers without integration: null (delivery not observed)`,
      });
      expect(am.requests).to.deep.equal(['/api/v2/status']);
    } finally {
      await am.stop();
    }
    const silent = await diagnoseExisting(
      { context: 'staging', alertmanager: 'http://127.0.0.1:1' },
      sandbox.host(cluster.kube()),
    );
    expect(find(silent, 'Alertmanager')?.status).to.equal('fail');

    const unknown = await diagnoseExisting({ context: 'prod' }, sandbox.host(cluster.kube()));
    expect(find(unknown, 'context "prod"')?.detail).to.include('no context "prod"');
  });

  it('formats one line per check and the fix under each that is not ok', () => {
    expect(
      formatChecks([
        { status: 'ok', check: 'kind', detail: '/usr/bin/kind' },
        {
          status: 'fail',
          check: 'host port 8080',
          detail: 'in use',
          fix: '--target-opt ingress-host-port=…',
        },
      ]),
    ).to.deep.equal([
      'ok    kind            /usr/bin/kind',
      'fail  host port 8080  in use',
      '                      fix: --target-opt ingress-host-port=…',
    ]);
  });
});
