// The kind target end to end against fake kind, docker, helm, kubectl, curl and tar on PATH (and an in-memory
// cluster behind the KubeClient): exact command lines, the generated config, kubeconfig isolation, timings,
// the Prometheus port-forward, reuse/keep, and teardown.

import { expect } from 'chai';
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createKindTarget } from '../../clusters/kind/index.js';
import { MeshdrillError } from '../../harness/model/errors.js';
import { CHANGED_BY_RUN_LABEL, type KubeObject, RUN_ID_LABEL } from '../../harness/model/index.js';
import { FakeCluster, GOLDEN_DIR, type Sandbox, createSandbox, expectGolden, isAlive } from './support.js';

/** A ConfigMap's data as the fake cluster holds it. */
const configMapData = (cluster: FakeCluster, key: string): Record<string, string> =>
  (cluster.objects.get(key) as { data?: Record<string, string> } | undefined)?.data ?? {};

describe('kind target (fake tools on PATH)', function () {
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

  async function writeRules(): Promise<string> {
    const rules = join(sandbox.dir, 'mesh-rules.yaml');
    await writeFile(rules, 'groups:\n  - name: mesh\n    rules: []\n');
    return rules;
  }

  it("installs Alertmanager beside Prometheus, routing every notification to meshdrill's receiver on the kind network's gateway", async () => {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [await writeRules()],
      istioVersion: '1.29.4',
      settings: { 'cluster-name': 'drill', 'chaos-mesh': 'false' },
    });
    try {
      const lines = await sandbox.lines();
      expect(lines).to.include('docker network inspect kind');
      expect(
        lines.some((l) =>
          /port-forward --address 127\.0\.0\.1 svc\/meshdrill-alertmanager \d+:9093$/.test(l),
        ),
      ).to.equal(true);
      // The gateway the fake network names ($FAKE_KIND_GATEWAY): the receiver listens there, nowhere else.
      expect(env.alertmanager?.receiverUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(env.alertmanager?.routingDelayMs).to.equal(10_000);
      expect((await fetch(`${env.alertmanager?.url}/api/v2/status`)).status).to.equal(200);

      const prometheusConfig = parse(
        configMapData(cluster, 'ConfigMap/meshdrill-system/meshdrill-prometheus-config')['prometheus.yml'] ??
          '',
      ) as { alerting?: unknown };
      expect(prometheusConfig.alerting).to.deep.equal({
        alertmanagers: [
          { static_configs: [{ targets: ['meshdrill-alertmanager.meshdrill-system.svc:9093'] }] },
        ],
      });
      const amConfig = parse(
        configMapData(cluster, 'ConfigMap/meshdrill-system/meshdrill-alertmanager-config')[
          'alertmanager.yml'
        ] ?? '',
      ) as { receivers: { webhook_configs: { url: string }[] }[] };
      expect(amConfig.receivers[0]?.webhook_configs[0]?.url).to.equal(
        `${env.alertmanager?.receiverUrl}/hook/meshdrill`,
      );
      const deployment = cluster.objects.get('Deployment/meshdrill-system/meshdrill-alertmanager') as
        | { spec: { template: { spec: { containers: { image: string }[] } } } }
        | undefined;
      expect(deployment?.spec.template.spec.containers[0]?.image).to.equal(
        'quay.io/prometheus/alertmanager:v0.28.1',
      );

      // What Alertmanager posts there is recorded, with the receiver's name.
      const posted = await fetch(`${env.alertmanager?.receiverUrl}/hook/meshdrill`, {
        method: 'POST',
        body: JSON.stringify({
          version: '4',
          status: 'firing',
          alerts: [{ status: 'firing', labels: { alertname: 'X' }, startsAt: new Date().toISOString() }],
        }),
      });
      expect(posted.status).to.equal(200);
      const received = (await (await fetch(`${env.alertmanager?.receiverUrl}/notifications`)).json()) as {
        receiver: string;
      }[];
      expect(received.map((n) => n.receiver)).to.deep.equal(['meshdrill']);
    } finally {
      await target.teardown();
    }
    // Teardown stops the receiver.
    const after = await fetch(`${env.alertmanager?.receiverUrl}/notifications`).catch((e: unknown) => e);
    expect(after).to.be.instanceOf(Error);
  });

  it('installs no Alertmanager where the kind network has no gateway this machine can listen on, and says so', async () => {
    const check = async (extra: Record<string, string>, reason: RegExp) => {
      const sb = await createSandbox({ env: extra });
      const fresh = new FakeCluster();
      fresh.seedNode('drill-control-plane');
      fresh.seedInstalledStack();
      const target = createKindTarget({ host: sb.host(fresh.kube()) });
      const progress: string[] = [];
      try {
        const env = await target.provision({
          workDir: sb.workDir,
          ruleFiles: [],
          istioVersion: '1.29.4',
          settings: { 'cluster-name': 'drill', 'chaos-mesh': 'false', 'preload-images': 'false' },
          onProgress: (m) => progress.push(m),
        });
        expect(env.alertmanager).to.equal(undefined);
        expect(fresh.objects.has('Deployment/meshdrill-system/meshdrill-alertmanager')).to.equal(false);
        const prometheusYaml =
          configMapData(fresh, 'ConfigMap/meshdrill-system/meshdrill-prometheus-config')['prometheus.yml'] ??
          '';
        expect(prometheusYaml).to.not.include('alerting');
        const note = progress.find((m) => m.startsWith('Alertmanager not installed'));
        expect(note).to.match(reason);
      } finally {
        await target.teardown();
        await sb.cleanup();
      }
    };
    // 192.0.2.1 (TEST-NET-1) is no address of this machine, as a Docker Desktop network's gateway is not.
    await check(
      { FAKE_KIND_GATEWAY: '192.0.2.1' },
      /cannot listen on the kind network's gateway 192\.0\.2\.1/,
    );
    await check({ FAKE_FAIL: 'docker:network' }, /`docker network inspect kind` names no IPv4 gateway/);
  });

  it('creates the cluster, installs the stack, and runs exactly these commands', async () => {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const progress: string[] = [];
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [await writeRules()],
      istioVersion: '1.29.4',
      settings: { 'cluster-name': 'drill' },
      onProgress: (m) => progress.push(m),
    });
    try {
      const lines = await sandbox.lines();
      const forward = lines.find((l) => l.startsWith('kubectl'));
      expect(lines.filter((l) => !l.startsWith('kubectl'))).to.deep.equal([
        'docker info',
        'kind version',
        'kind get clusters',
        'kind create cluster --name drill --config $SANDBOX/work/kind-config.yaml --wait 180s --kubeconfig $SANDBOX/work/kind-scratch.kubeconfig',
        'kind get kubeconfig --name drill',
        'docker pull --platform linux/amd64 docker.io/fortio/fortio:1.74.0',
        'kind load docker-image docker.io/fortio/fortio:1.74.0 --name drill',
        'docker network inspect kind',
        'curl -fsSL --retry 3 -o ' +
          lines
            .find((l) => l.startsWith('curl'))
            ?.split(' -o ')[1]
            ?.split(' ')[0] +
          ' https://github.com/istio/istio/releases/download/1.29.4/istio-1.29.4-linux-amd64.tar.gz',
        lines.find((l) => l.startsWith('tar')) as string,
        'istioctl install --kubeconfig $SANDBOX/work/kubeconfig -f $SANDBOX/work/istio/istio-operator.yaml -y',
        'helm repo add chaos-mesh https://charts.chaos-mesh.org --force-update',
        'helm upgrade --install chaos-mesh chaos-mesh/chaos-mesh -n chaos-mesh --create-namespace --set chaosDaemon.runtime=containerd --set chaosDaemon.socketPath=/run/containerd/containerd.sock --set controllerManager.replicaCount=1 --version 2.8.3 --kubeconfig $SANDBOX/work/kubeconfig --wait --timeout 10m',
      ]);
      expect(lines.find((l) => l.startsWith('curl'))).to.match(
        /-o \$SANDBOX\/home\/\.cache\/meshdrill\/istio\/1\.29\.4\/\.partial-/,
      );
      expect(forward).to.match(
        /^kubectl --kubeconfig \$SANDBOX\/work\/kubeconfig --namespace meshdrill-system port-forward --address 127\.0\.0\.1 svc\/meshdrill-prometheus \d+:9090$/,
      );

      // The generated config is what kind got, and it matches the golden file.
      const config = await readFile(join(sandbox.stateDir, 'kind-config-drill.yaml'), 'utf8');
      await expectGolden('kind-config-default.yaml', config);
      await expectGolden(
        'istio-operator-as-installed.yaml',
        await readFile(join(sandbox.stateDir, 'istio-operator.yaml'), 'utf8'),
      );

      // The kubeconfig is the work dir's, private, and points at the kind cluster.
      expect(env.kubeconfigPath).to.equal(join(sandbox.workDir, 'kubeconfig'));
      expect((await stat(env.kubeconfigPath)).mode & 0o777).to.equal(0o600);
      expect(
        (parse(await readFile(env.kubeconfigPath, 'utf8')) as { 'current-context': string })[
          'current-context'
        ],
      ).to.equal('kind-drill');
      await access(join(sandbox.home, '.kube')).then(
        () => expect.fail('~/.kube must not be created or touched'),
        () => undefined,
      );

      // Prometheus answers through the port-forward; the rule file went into its ConfigMap.
      const ready = await fetch(`${env.prometheusUrl}/-/ready`);
      expect(ready.status).to.equal(200);
      const rules = cluster.objects.get('ConfigMap/meshdrill-system/meshdrill-prometheus-rules');
      expect(rules?.data).to.deep.equal({ '00-mesh-rules.yaml': 'groups:\n  - name: mesh\n    rules: []\n' });

      expect(env.ingressUrl).to.equal('http://127.0.0.1:8080');
      expect(env.faultsAllowed).to.equal(true);
      expect(env.prometheus).to.deep.equal({ scrapeIntervalMs: 5000, evaluationIntervalMs: 5000 });
      expect(env.versions).to.include({
        target: 'kind',
        kind: 'v0.30.0',
        kubernetes: 'v1.34.0',
        istio: '1.29.4',
        istiod: '1.30.3',
        'chaos-mesh': '2.8.3',
        prometheus: 'v3.5.0',
        alertmanager: 'v0.28.1',
      });
      // The installed release's istioctl, and the same as `istioctl-1.29.4` (for scripts that name a release).
      expect(env.binDirs).to.deep.equal([
        join(sandbox.home, '.cache/meshdrill/istio/1.29.4/istio-1.29.4/bin'),
        join(sandbox.workDir, 'istioctl-versions'),
      ]);
      for (const key of [
        'prerequisites',
        'cluster-create',
        'nodes-ready',
        'image-preload',
        'istio-install',
        'istio-fetch',
        'prometheus',
        'alertmanager',
        'chaos-mesh',
      ]) {
        expect(env.timings[key], key).to.be.a('number').and.at.least(0);
      }
      expect(progress.some((m) => m.startsWith('creating kind cluster "drill"'))).to.equal(true);
    } finally {
      await target.teardown();
    }
    expect((await sandbox.lines()).at(-1)).to.equal(
      'kind delete cluster --name drill --kubeconfig $SANDBOX/work/kind-scratch.kubeconfig',
    );
    // The port-forward is stopped by PID.
    const url = env.prometheusUrl;
    await fetch(`${url}/-/ready`).then(
      () => expect.fail('the port-forward still answers after teardown'),
      () => undefined,
    );
  });

  it("preloads a multi-platform image on containerd's image store through a single-platform archive", async () => {
    sandbox.env.FAKE_IMAGE_STORE = 'containerd';
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const progress: string[] = [];
    await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: { 'cluster-name': 'drill', 'chaos-mesh': 'false' },
      onProgress: (m) => progress.push(m),
    });
    await target.teardown();
    const image = 'docker.io/fortio/fortio:1.74.0';
    const archive = '$SANDBOX/work/docker.io_fortio_fortio_1.74.0.tar';
    const preload = (await sandbox.lines()).filter((l) => /^(docker (pull|image)|kind load)/.test(l));
    expect(preload).to.deep.equal([
      `docker pull --platform linux/amd64 ${image}`,
      `kind load docker-image ${image} --name drill`,
      `docker image save --platform linux/amd64 -o ${archive} ${image}`,
      `kind load image-archive ${archive} --name drill`,
    ]);
    expect(progress.find((m) => m.includes('trying a single-platform archive'))).to.include('content digest');
    expect(progress.some((m) => m.startsWith('could not preload'))).to.equal(false);
  });

  it('goes on when an image cannot be preloaded, and says the nodes will pull it', async () => {
    sandbox.env.FAKE_FAIL = 'docker:pull';
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const progress: string[] = [];
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: { 'cluster-name': 'drill', 'chaos-mesh': 'false' },
      onProgress: (m) => progress.push(m),
    });
    await target.teardown();
    expect(env.kubeconfigPath).to.be.a('string');
    expect(progress.find((m) => m.startsWith('could not preload docker.io/fortio/fortio:1.74.0'))).to.include(
      'the nodes will pull it from its registry',
    );
    const lines = await sandbox.lines();
    expect(lines.filter((l) => /^(docker image|kind load)/.test(l))).to.deep.equal([]);
    expect(lines.some((l) => l.startsWith('istioctl install'))).to.equal(true);
  });

  /** A kind cluster "meshdrill" made earlier, from meshdrill's default config (fake kind keeps a copy). */
  async function seedExistingCluster(config?: (yaml: string) => string): Promise<void> {
    await mkdir(sandbox.stateDir, { recursive: true });
    await writeFile(join(sandbox.stateDir, 'kind-clusters'), 'meshdrill\n');
    const golden = await readFile(join(GOLDEN_DIR, 'kind-config-default.yaml'), 'utf8');
    await writeFile(join(sandbox.stateDir, 'kind-config-meshdrill.yaml'), config ? config(golden) : golden);
  }

  async function reuseError(): Promise<MeshdrillError> {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const error = await target
      .provision({ workDir: sandbox.workDir, ruleFiles: [], settings: { 'chaos-mesh': 'false' } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await target.teardown();
    expect(error).to.be.instanceOf(MeshdrillError);
    const lines = await sandbox.lines();
    expect(
      lines.filter((l) => /^(istioctl install|helm|kind (create|delete))/.test(l)),
      'nothing installed',
    ).to.deep.equal([]);
    return error as MeshdrillError;
  }

  it('refuses to reuse a cluster made with another node image or without the ingress port, naming both', async () => {
    await seedExistingCluster((yaml) =>
      yaml.replace(/image: \S+/, 'image: kindest/node:v1.31.0').replace('hostPort: 8080', 'hostPort: 9090'),
    );
    const error = await reuseError();
    expect(error.message).to.equal(
      [
        'the kind cluster "meshdrill" cannot be reused:',
        '  - its node image is kindest/node:v1.31.0, the settings ask for kindest/node:v1.34.0',
        '  - its ingress node port 30080 is 127.0.0.1:9090, not on host port 8080',
      ].join('\n'),
    );
    expect(error.hint).to.include('kind delete cluster --name meshdrill').and.include('ingress-host-port=');
  });

  it('refuses to reuse a cluster where an earlier run left objects, and says how to clean them', async () => {
    await seedExistingCluster();
    cluster.put({
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'PodChaos',
      metadata: { name: 'istiod-kill', namespace: 'istio-system', labels: { [RUN_ID_LABEL]: 'killed' } },
    });
    const istiod = cluster.objects.get('Deployment/istio-system/istiod') as KubeObject;
    cluster.put({
      ...istiod,
      metadata: {
        ...istiod.metadata,
        labels: { ...istiod.metadata.labels, [CHANGED_BY_RUN_LABEL]: 'killed' },
      },
    });
    const error = await reuseError();
    expect(error.message).to.include(
      'an earlier run left objects behind: PodChaos istio-system/istiod-kill, Deployment istio-system/istiod',
    );
    expect(error.hint).to.equal(
      '`meshdrill cleanup --all --context kind-meshdrill` (deletes what runs created, restores what they changed)',
    );
  });

  it('reuses an existing cluster, never deletes it, and uses the cached istioctl', async () => {
    await seedExistingCluster();
    const first = createKindTarget({ host: sandbox.host(cluster.kube()) });
    await first.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: { 'chaos-mesh': 'false', 'preload-images': 'false' },
    });
    await first.teardown();
    const second = createKindTarget({ host: sandbox.host(cluster.kube()) });
    await second.provision({
      workDir: join(sandbox.dir, 'work2'),
      ruleFiles: [],
      settings: { 'chaos-mesh': 'false', 'preload-images': 'false' },
    });
    await second.teardown();

    const lines = await sandbox.lines();
    expect(lines.filter((l) => l.startsWith('kind create'))).to.deep.equal([]);
    expect(lines.filter((l) => l.startsWith('kind delete'))).to.deep.equal([]);
    expect(lines.filter((l) => l.startsWith('curl'))).to.have.length(1);
    expect(lines.filter((l) => l.startsWith('helm'))).to.deep.equal([]);
    expect(lines.filter((l) => l.startsWith('istioctl install'))).to.have.length(2);
  });

  it('refuses to reuse when reuse=false, before changing anything', async () => {
    await mkdir(sandbox.stateDir, { recursive: true });
    await writeFile(join(sandbox.stateDir, 'kind-clusters'), 'meshdrill\n');
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const error = await target
      .provision({ workDir: sandbox.workDir, ruleFiles: [], settings: { reuse: 'false' } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).to.be.instanceOf(MeshdrillError);
    expect((error as MeshdrillError).message).to.include(
      'a kind cluster named "meshdrill" already exists and reuse=false',
    );
    expect((error as MeshdrillError).hint).to.include('kind delete cluster --name meshdrill');
    await target.teardown();
    expect((await sandbox.lines()).filter((l) => /create|delete|install/.test(l))).to.deep.equal([]);
  });

  it('keeps a created cluster when keep=true', async () => {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: { keep: 'true', 'preload-images': 'false' },
    });
    await target.teardown();
    const lines = await sandbox.lines();
    expect(lines.some((l) => l.startsWith('kind create cluster --name meshdrill'))).to.equal(true);
    expect(lines.some((l) => l.startsWith('kind delete'))).to.equal(false);
  });

  it('installs Istio with Helm as a default revision, with workers, podman and k6-operator', async () => {
    cluster = new FakeCluster();
    for (const n of ['c', 'w1', 'w2']) cluster.seedNode(n);
    cluster.seedInstalledStack({ revision: '1-30-3' });
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      istioVersion: '1.30.3',
      settings: {
        'istio-installer': 'helm',
        revision: '1-30-3',
        workers: '2',
        runtime: 'podman',
        'k6-operator': 'true',
        'secret-ttl': '10m',
        'scrape-interval': '2s',
      },
    });
    await target.teardown();
    const calls = await sandbox.calls();
    const lines = await sandbox.lines();
    expect(lines[0]).to.equal('podman info');
    expect(
      calls.filter((c) => c.tool === 'kind').every((c) => c.env.KIND_EXPERIMENTAL_PROVIDER === 'podman'),
    ).to.equal(true);
    expect(lines).to.include(
      'kind load image-archive $SANDBOX/work/docker.io_fortio_fortio_1.74.0.tar --name meshdrill',
    );
    expect(
      lines.filter((l) => l.startsWith('helm upgrade')).map((l) => l.split(' ').slice(0, 4).join(' ')),
    ).to.deep.equal([
      'helm upgrade --install istio-base',
      'helm upgrade --install istiod-1-30-3',
      'helm upgrade --install istio-ingressgateway',
      'helm upgrade --install chaos-mesh',
      'helm upgrade --install k6-operator',
    ]);
    // Helm's repository list stays in meshdrill's cache, not the user's.
    expect(
      calls
        .filter((c) => c.tool === 'helm')
        .every((c) => c.env.HELM_REPOSITORY_CONFIG?.endsWith('.cache/meshdrill/helm/repositories.yaml')),
    ).to.equal(true);
    expect(lines.some((l) => l.startsWith('curl') || l.startsWith('istioctl'))).to.equal(false);
    const istiodValues = parse(
      await readFile(join(sandbox.stateDir, 'helm-values-istiod-1-30-3.yaml'), 'utf8'),
    ) as {
      revision: string;
      meshConfig: { defaultConfig: { proxyMetadata: { SECRET_TTL: string } } };
    };
    expect(istiodValues.revision).to.equal('1-30-3');
    expect(istiodValues.meshConfig.defaultConfig.proxyMetadata.SECRET_TTL).to.equal('10m');
    const kindConfig = parse(
      await readFile(join(sandbox.stateDir, 'kind-config-meshdrill.yaml'), 'utf8'),
    ) as { nodes: unknown[] };
    expect(kindConfig.nodes).to.have.length(3);
    // The chart of k6-operator 1.6.0, without the Namespace it renders by default (Helm would refuse it beside
    // --create-namespace).
    expect(lines.find((l) => l.startsWith('helm upgrade --install k6-operator'))).to.include(
      '-n k6-operator-system --create-namespace --set namespace.create=false --version 4.6.0',
    );
    expect(env.versions).to.include({
      'istio-revision': '1-30-3',
      'istio-installer': 'helm',
      'k6-operator': '4.6.0',
    });
    expect(env.prometheus.scrapeIntervalMs).to.equal(2000);
    const config = cluster.objects.get('ConfigMap/meshdrill-system/meshdrill-prometheus-config');
    const data = (config?.data ?? {}) as Record<string, string>;
    expect(data['prometheus.yml']).to.include('scrape_interval: 2s');
  });

  it("runs k6 in the cluster on request: installs k6-operator and hands the gateway's in-cluster address", async () => {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: { 'k6-mode': 'in-cluster', 'k6-runners': '3' },
    });
    await target.teardown();
    const lines = await sandbox.lines();
    expect(
      lines.some((l) => l.startsWith('helm upgrade --install k6-operator grafana/k6-operator')),
    ).to.equal(true);
    expect(env.inClusterLoad).to.deep.equal({
      baseUrl: 'http://istio-ingressgateway.istio-system.svc.cluster.local',
      runners: 3,
    });
    // The host's address stays what this machine uses (the built-in driver, Prometheus checks).
    expect(env.ingressUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('runs k6 on this machine by default: no k6-operator, no in-cluster address', async () => {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const env = await target.provision({ workDir: sandbox.workDir, ruleFiles: [], settings: {} });
    await target.teardown();
    expect(env.inClusterLoad).to.equal(undefined);
    expect((await sandbox.lines()).some((l) => l.includes('k6-operator'))).to.equal(false);
  });

  it('refuses a k6 mode or runner count it does not know, before running anything', async () => {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const error = (await target
      .provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        settings: { 'k6-mode': 'cluster', 'k6-runners': '0' },
      })
      .catch((e: unknown) => e)) as MeshdrillError;
    expect(error).to.be.instanceOf(MeshdrillError);
    expect(error.message).to.include(
      '--target-opt k6-mode: expected one of local, in-cluster, got "cluster"',
    );
    expect(error.message).to.include(
      '--target-opt k6-runners: expected a whole number from 1 to 64, got "0"',
    );
    expect(await sandbox.calls()).to.deep.equal([]);
  });

  it('reports every bad setting at once, before running anything', async () => {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const error = await target
      .provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        istioVersion: 'latest',
        settings: { workers: 'two', 'k8s-version': '1.20', 'clustr-name': 'x', 'scrape-interval': 'fast' },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).to.be.instanceOf(MeshdrillError);
    const { message, kind, hint } = error as MeshdrillError;
    expect(kind).to.equal('invalid-input');
    expect(message).to.include('5 problems');
    expect(message).to.include('--target-opt workers: expected a whole number from 0 to 10, got "two"');
    expect(message).to.include('k8s-version: expected one of');
    expect(message).to.include('--target-opt clustr-name: not a setting of the kind target');
    expect(message).to.include('--istio: expected an Istio release such as "1.30.3", got "latest"');
    expect(message).to.include(
      '--target-opt scrape-interval: expected a duration like "5s" or "2m", got "fast"',
    );
    expect(hint).to.include('cluster-name');
    expect(await sandbox.calls()).to.deep.equal([]);
  });

  it('explains a failed cluster creation and still deletes what it may have left', async () => {
    sandbox.env.FAKE_FAIL = 'kind:create';
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const error = await target
      .provision({ workDir: sandbox.workDir, ruleFiles: [], settings: {} })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MeshdrillError);
    expect((error as MeshdrillError).message).to.include('--wait 180s');
    expect((error as MeshdrillError).message).to.include('exited with code 1');
    expect((error as MeshdrillError).message).to.include('failing on purpose');
    expect((error as MeshdrillError).hint).to.include('kind export logs --name meshdrill');
    expect((error as MeshdrillError).hint).to.include('ingress-host-port=');
    await target.teardown();
    expect((await sandbox.lines()).at(-1)).to.match(/^kind delete cluster --name meshdrill /);
  });

  it('stops the port-forward by PID at teardown', async () => {
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: { 'preload-images': 'false', 'chaos-mesh': 'false' },
    });
    const port = Number(new URL(env.prometheusUrl).port);
    expect(port).to.be.greaterThan(0);
    const pids = await findListenerPids(port);
    await target.teardown();
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).to.equal(false);
  });
});

/** PIDs of the fake kubectl processes (their argv carries the local port). */
async function findListenerPids(port: number): Promise<number[]> {
  const { readdir } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (cmdline.includes('port-forward') && cmdline.includes(`${port}:9090`)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  expect(pids.length, 'the fake kubectl port-forward process').to.be.greaterThan(0);
  return pids;
}

describe('deleteKindCluster (cluster down --target kind)', () => {
  it('deletes the named cluster with a scratch kubeconfig, and says so when there is none', async () => {
    const { deleteKindCluster } = await import('../../clusters/kind/index.js');
    const sandbox = await createSandbox();
    try {
      await mkdir(sandbox.stateDir, { recursive: true });
      await writeFile(join(sandbox.stateDir, 'kind-clusters'), 'drill\nother\n');
      const first = await deleteKindCluster(
        { 'cluster-name': 'drill' },
        { host: sandbox.host(), workDir: sandbox.workDir },
      );
      expect(first).to.deep.equal({ name: 'drill', deleted: true });
      expect(await readFile(join(sandbox.stateDir, 'kind-clusters'), 'utf8')).to.equal('other\n');
      const lines = await sandbox.lines();
      expect(lines).to.include(
        'kind delete cluster --name drill --kubeconfig $SANDBOX/work/kind-scratch.kubeconfig',
      );
      const again = await deleteKindCluster(
        { 'cluster-name': 'drill' },
        { host: sandbox.host(), workDir: sandbox.workDir },
      );
      expect(again).to.deep.equal({ name: 'drill', deleted: false });
    } finally {
      await sandbox.cleanup();
    }
  });
});
