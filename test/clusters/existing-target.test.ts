// The existing target: a pinned private kubeconfig, the fault guard (refuses unless the context is allowed),
// the user's kubeconfig byte-identical afterwards, nothing installed unless asked, and exact "what is missing".

import { expect } from 'chai';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  buildPinnedKubeconfig,
  createExistingTarget,
  decideFaultsAllowed,
  parseAllowList,
} from '../../clusters/existing/index.js';
import { MeshdrillError } from '../../harness/model/errors.js';
import { startFakeAlertmanager } from '../support/fake-alertmanager.js';
import { FakeCluster, type Sandbox, createSandbox } from './support.js';

const USER_KUBECONFIG = `# the user's own file: comments and key order must survive untouched
apiVersion: v1
kind: Config
current-context: prod
clusters:
  - name: prod-cluster
    cluster: { server: https://prod.example:6443, certificate-authority: certs/prod-ca.crt }
  - name: staging-cluster
    cluster: { server: https://staging.example:6443, certificate-authority: certs/staging-ca.crt }
users:
  - name: prod-admin
    user: { token: prod-secret }
  - name: staging-admin
    user: { client-certificate: certs/me.crt, client-key: /abs/me.key }
contexts:
  - name: prod
    context: { cluster: prod-cluster, user: prod-admin }
  - name: staging
    context: { cluster: staging-cluster, user: staging-admin, namespace: drills }
`;

describe('existing target', function () {
  this.timeout(20_000);
  let sandbox: Sandbox;
  let cluster: FakeCluster;
  let kubeconfig: string;

  beforeEach(async () => {
    sandbox = await createSandbox();
    cluster = new FakeCluster();
    cluster.seedInstalledStack({ istioTag: '1.29.4' });
    cluster.seedService('istio-system', 'prometheus', [{ name: 'http', port: 9090 }]);
    cluster.seedService(
      'istio-system',
      'istio-ingressgateway',
      [{ name: 'http2', port: 80 }],
      {},
      {
        loadBalancer: { ingress: [{ ip: '203.0.113.7' }] },
      },
    );
    await mkdir(join(sandbox.home, '.kube'), { recursive: true });
    kubeconfig = join(sandbox.home, '.kube', 'config');
    await writeFile(kubeconfig, USER_KUBECONFIG);
  });
  afterEach(() => sandbox.cleanup());

  it('refuses faults without an allow entry, and leaves the user kubeconfig byte-identical', async () => {
    const before = await readFile(kubeconfig);
    const target = createExistingTarget({ host: sandbox.host(cluster.kube()) });
    const progress: string[] = [];
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: { context: 'staging' },
      onProgress: (m) => progress.push(m),
    });
    try {
      expect(env.faultsAllowed).to.equal(false);
      const refusal = progress.find((m) => m.startsWith('faults are refused'));
      expect(refusal).to.include('context "staging"');
      expect(refusal).to.include('--target-opt allow-faults=staging');
      expect(refusal).to.include(join(sandbox.home, '.config/meshdrill/allowed-contexts'));

      // The pinned copy: only the staging context, current, private, with paths made absolute.
      expect(env.kubeconfigPath).to.equal(join(sandbox.workDir, 'kubeconfig'));
      expect((await stat(env.kubeconfigPath)).mode & 0o777).to.equal(0o600);
      const pinned = parse(await readFile(env.kubeconfigPath, 'utf8')) as Record<string, unknown>;
      expect(pinned['current-context']).to.equal('staging');
      expect(JSON.stringify(pinned)).to.not.include('prod');
      expect(JSON.stringify(pinned)).to.include(
        `"certificate-authority":"${join(sandbox.home, '.kube/certs/staging-ca.crt')}"`,
      );
      expect(JSON.stringify(pinned)).to.include('"client-key":"/abs/me.key"');

      expect(env.ingressUrl).to.equal('http://203.0.113.7');
      expect(env.versions).to.include({
        target: 'existing',
        context: 'staging',
        istio: '1.29.4',
        kubernetes: 'v1.34.0',
      });
      // Someone else's Prometheus (Istio's addon) is reached through a port-forward; its intervals are assumed.
      expect((await fetch(`${env.prometheusUrl}/-/ready`)).status).to.equal(200);
      expect(env.prometheus).to.deep.equal({ scrapeIntervalMs: 15_000, evaluationIntervalMs: 15_000 });
      // Nothing installed, nothing applied.
      expect(cluster.applied).to.deep.equal([]);
      expect((await sandbox.lines()).filter((l) => !l.startsWith('kubectl'))).to.deep.equal([]);
      expect((await sandbox.lines())[0]).to.include(
        '--namespace istio-system port-forward --address 127.0.0.1 svc/prometheus',
      );
    } finally {
      await target.teardown();
    }
    expect(Buffer.compare(await readFile(kubeconfig), before)).to.equal(0);
  });

  it('reports the version of the revision named, mid-upgrade with two istiods, and provides istioctl-<version>', async () => {
    const upgrading = new FakeCluster();
    upgrading.seedInstalledStack({ revision: '1-29-4', istioTag: '1.29.4' });
    upgrading.seedDeployment('istio-system', 'istiod-1-29-4', {
      image: 'docker.io/istio/pilot:1.29.4',
      labels: { app: 'istiod', 'istio.io/rev': '1-29-4' },
    });
    upgrading.seedDeployment('istio-system', 'istiod-1-30-3', {
      image: 'docker.io/istio/pilot:1.30.3',
      labels: { app: 'istiod', 'istio.io/rev': '1-30-3' },
    });
    upgrading.seedService('istio-system', 'prometheus', [{ name: 'http', port: 9090 }]);
    const provision = async (settings: Record<string, string>) => {
      const target = createExistingTarget({ host: sandbox.host(upgrading.kube()) });
      const env = await target.provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        settings: { context: 'staging', 'ingress-url': 'http://127.0.0.1:9', ...settings },
      });
      await target.teardown();
      return env;
    };
    const after = await provision({ revision: '1-30-3', 'istioctl-versions': '1.30.3' });
    expect(after.versions).to.include({ istio: '1.30.3', 'istio-revision': '1-30-3' });
    expect(after.binDirs).to.deep.equal([join(sandbox.workDir, 'istioctl-versions')]);
    expect((await sandbox.lines()).filter((l) => l.startsWith('curl '))).to.have.length(1);
    const before = await provision({ revision: '1-29-4' });
    expect(before.versions).to.include({ istio: '1.29.4', 'istio-revision': '1-29-4' });
    expect(before.binDirs).to.deep.equal([]);
    // A revision the cluster does not run is refused, naming the ones it does.
    const error = await provision({ revision: '1-31-0' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(error)).to.include('no istiod of revision 1-31-0 (Deployment istiod-1-31-0)');
    expect(String(error)).to.include('there are istiod-1-29-4, istiod-1-30-3');
  });

  it('allows faults when allow-faults names this very context, and checks a given Prometheus URL', async () => {
    const queries: string[] = [];
    const prometheus = createServer((req, res) => {
      queries.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    const { port } = prometheus.address() as AddressInfo;
    try {
      const target = createExistingTarget({ host: sandbox.host(cluster.kube()) });
      const env = await target.provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        settings: {
          context: 'staging',
          'allow-faults': 'staging',
          'prometheus-url': `http://127.0.0.1:${port}/`,
        },
      });
      await target.teardown();
      expect(env.faultsAllowed).to.equal(true);
      expect(env.prometheusUrl).to.equal(`http://127.0.0.1:${port}`);
      expect(queries).to.deep.equal(['/api/v1/query?query=vector(1)']);
    } finally {
      prometheus.close();
    }
  });

  it('needs Chaos Mesh only for drills whose faults are Chaos Mesh objects', async () => {
    const noChaos = new FakeCluster();
    noChaos.seedDeployment('istio-system', 'istiod', {
      image: 'docker.io/istio/pilot:1.30.3',
      labels: { app: 'istiod' },
    });
    noChaos.seedService(
      'istio-system',
      'istio-ingressgateway',
      [{ name: 'http2', port: 80 }],
      {},
      {
        loadBalancer: { ingress: [{ ip: '203.0.113.7' }] },
      },
    );
    const prometheus = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    const { port } = prometheus.address() as AddressInfo;
    const provision = (chaosMesh: boolean) => {
      const target = createExistingTarget({ host: sandbox.host(noChaos.kube()) });
      return target
        .provision({
          workDir: sandbox.workDir,
          ruleFiles: [],
          settings: { context: 'staging', 'prometheus-url': `http://127.0.0.1:${port}` },
          needs: { chaosMesh },
        })
        .finally(() => target.teardown());
    };
    try {
      const env = await provision(false);
      expect(env.ingressUrl).to.equal('http://203.0.113.7');
      // The same cluster, for a drill that injects a PodChaos: refused, with what is missing.
      const error = await provision(true).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as MeshdrillError).message).to.include(
        'Chaos Mesh: CRDs podchaos.chaos-mesh.org, networkchaos.chaos-mesh.org, stresschaos.chaos-mesh.org absent',
      );
    } finally {
      prometheus.close();
    }
  });

  it('refuses a Prometheus URL that does not answer PromQL', async () => {
    const target = createExistingTarget({ host: sandbox.host(cluster.kube()) });
    const error = await target
      .provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        settings: { context: 'staging', 'prometheus-url': 'http://127.0.0.1:1', 'wait-timeout': '1s' },
      })
      .catch((e: unknown) => e);
    expect((error as MeshdrillError).message).to.match(
      /^the Prometheus API at http:\/\/127\.0\.0\.1:1 not ready after 1s/,
    );
    expect((error as MeshdrillError).hint).to.include('prometheus-url');
  });

  it("reads the Alertmanager named by alertmanager= (its live routing, no receiver of meshdrill's), sending it nothing", async () => {
    const am = await startFakeAlertmanager(
      'route:\n  receiver: pager\n  group_wait: 20s\n  routes:\n    - {receiver: blackhole, matchers: [\'alertname="Watchdog"\']}\nreceivers:\n  - name: pager\n    webhook_configs: [{url: "http://pager.example/hook"}]\n  - name: blackhole\n',
      '0.27.0',
    );
    try {
      const target = createExistingTarget({ host: sandbox.host(cluster.kube()) });
      const env = await target.provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        settings: { context: 'staging', alertmanager: `${am.url}/` },
      });
      await target.teardown();
      // group_interval unset: Alertmanager's default of 5m bounds a page joining a live group.
      expect(env.alertmanager).to.deep.equal({
        url: am.url,
        routingDelayMs: 300_000,
        silentReceivers: ['blackhole'],
      });
      expect(env.versions.alertmanager).to.equal('0.27.0');
      expect(am.requests).to.deep.equal(['/api/v2/status']);
    } finally {
      await am.stop();
    }
  });

  it('refuses an alertmanager= that is no http(s) URL (exit 2), and one that does not answer', async () => {
    const target = createExistingTarget({ host: sandbox.host(cluster.kube()) });
    for (const value of ['ftp://am.example', 'am.example:9093']) {
      const error = await target
        .provision({
          workDir: sandbox.workDir,
          ruleFiles: [],
          settings: { context: 'staging', alertmanager: value },
        })
        .catch((e: unknown) => e);
      expect((error as MeshdrillError).exitCode).to.equal(2);
      expect((error as MeshdrillError).message).to.include(
        `--target-opt alertmanager: expected an http(s) URL, got "${value}"`,
      );
    }
    const silent = await target
      .provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        settings: { context: 'staging', alertmanager: 'http://127.0.0.1:1' },
      })
      .catch((e: unknown) => e);
    expect((silent as MeshdrillError).kind).to.equal('environment');
    expect((silent as MeshdrillError).message).to.match(
      /^--target-opt alertmanager: GET http:\/\/127\.0\.0\.1:1\/api\/v2\/status failed/,
    );
    expect((silent as MeshdrillError).hint).to.include('leave the setting out');
  });

  it('allows faults when the context is listed in ~/.config/meshdrill/allowed-contexts', async () => {
    await mkdir(join(sandbox.home, '.config', 'meshdrill'), { recursive: true });
    await writeFile(
      join(sandbox.home, '.config', 'meshdrill', 'allowed-contexts'),
      '# drill targets\nstaging  # the shared one\n',
    );
    const target = createExistingTarget({ host: sandbox.host(cluster.kube()) });
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: { context: 'staging', 'ingress-url': 'http://127.0.0.1:8080' },
    });
    await target.teardown();
    expect(env.faultsAllowed).to.equal(true);
    expect(env.ingressUrl).to.equal('http://127.0.0.1:8080');
  });

  it('refuses when allow-faults names another context (or says true)', () => {
    for (const allowSetting of ['prod', 'true']) {
      const decision = decideFaultsAllowed({
        context: 'staging',
        allowSetting,
        allowList: ['prod'],
        allowListPath: '/x',
      });
      expect(decision.allowed).to.equal(false);
      expect(decision.reason).to.include(`allow-faults=${allowSetting} names another context`);
    }
    expect(parseAllowList('a\n# b\n\n c # d\n')).to.deep.equal(['a', 'c']);
  });

  it('says exactly what is missing, and installs nothing', async () => {
    const bare = new FakeCluster();
    const target = createExistingTarget({ host: sandbox.host(bare.kube()) });
    const error = await target
      .provision({ workDir: sandbox.workDir, ruleFiles: [], settings: { context: 'staging' } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).to.be.instanceOf(MeshdrillError);
    const message = (error as MeshdrillError).message;
    expect(message).to.include('context "staging" lacks what drills need');
    expect(message).to.include('Istio: no istiod Deployment (label app=istiod) in istio-system');
    expect(message).to.include('Istio ingress gateway: no Service istio-system/istio-ingressgateway');
    expect(message).to.include('Prometheus: no Service found');
    expect(message).to.include(
      'Chaos Mesh: CRDs podchaos.chaos-mesh.org, networkchaos.chaos-mesh.org, stresschaos.chaos-mesh.org absent; no chaos-controller-manager Deployment',
    );
    expect((error as MeshdrillError).hint).to.include('install=');
    expect(bare.applied).to.deep.equal([]);
    expect(await sandbox.calls()).to.deep.equal([]);
  });

  it('installs only what install= asks for', async () => {
    const bare = new FakeCluster();
    bare.seedInstalledStack();
    bare.objects.delete('Service/istio-system/prometheus');
    const target = createExistingTarget({ host: sandbox.host(bare.kube()) });
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: {
        context: 'staging',
        install: 'prometheus',
        'scrape-interval': '3s',
        'allow-faults': 'staging',
      },
    });
    await target.teardown();
    expect(bare.applied.filter((k) => k.startsWith('Deployment'))).to.deep.equal([
      'Deployment/meshdrill-system/meshdrill-prometheus',
    ]);
    expect(env.prometheus.scrapeIntervalMs).to.equal(3000);
    // The gateway has no LoadBalancer address: the ingress is port-forwarded too.
    expect(env.ingressUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(
      (await sandbox.lines()).some((l) => l.includes('svc/istio-ingressgateway') && l.endsWith(':80')),
    ).to.equal(true);
  });

  it('refuses install= on a context not allowed for drills, before installing anything', async () => {
    const bare = new FakeCluster();
    const target = createExistingTarget({ host: sandbox.host(bare.kube()) });
    const error = await target
      .provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        settings: { context: 'staging', install: 'istio,chaos-mesh' },
      })
      .catch((e: unknown) => e);
    await target.teardown();
    expect((error as MeshdrillError).kind).to.equal('environment');
    expect((error as MeshdrillError).message).to.equal(
      'install=istio,chaos-mesh refused: context "staging" is not allowed for drills',
    );
    expect((error as MeshdrillError).hint).to.include('--target-opt allow-faults=staging');
    expect(bare.applied).to.deep.equal([]);
    expect((await sandbox.lines()).filter((l) => /^(helm|istioctl|curl)/.test(l))).to.deep.equal([]);
  });

  it('requires a context, and names the contexts there when it is unknown', async () => {
    const target = createExistingTarget({ host: sandbox.host(cluster.kube()) });
    const missing = await target
      .provision({ workDir: sandbox.workDir, ruleFiles: [], settings: {} })
      .catch((e: unknown) => e);
    expect((missing as MeshdrillError).kind).to.equal('invalid-input');
    expect((missing as MeshdrillError).message).to.include('--target-opt context: required');
    const unknown = await target
      .provision({ workDir: sandbox.workDir, ruleFiles: [], settings: { context: 'qa' } })
      .catch((e: unknown) => e);
    expect((unknown as MeshdrillError).message).to.include(`no context "qa" in ${kubeconfig}`);
    expect((unknown as MeshdrillError).hint).to.equal('contexts there: prod, staging');
  });

  it('merges KUBECONFIG lists the way kubectl does: the first definition wins', () => {
    const a = {
      path: '/a/config',
      document: {
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        clusters: [{ name: 'c', cluster: { server: 'https://first', 'certificate-authority': 'ca.crt' } }],
      },
    };
    const b = {
      path: '/b/config',
      document: {
        clusters: [{ name: 'c', cluster: { server: 'https://second' } }],
        users: [{ name: 'u', user: { tokenFile: 'tok' } }],
        contexts: [{ name: 'x', context: { cluster: 'other', user: 'u' } }],
      },
    };
    const pinned = buildPinnedKubeconfig([a, b], 'x');
    expect(stringify(pinned)).to.equal(
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://first', 'certificate-authority': '/a/ca.crt' } }],
        users: [{ name: 'u', user: { tokenFile: '/b/tok' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
        preferences: {},
      }),
    );
  });
});
