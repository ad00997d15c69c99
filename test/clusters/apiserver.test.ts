// The Kubernetes-side steps of the kind and existing targets against the local target's real API server (driven
// by the same @kubernetes/client-node client the engine uses): manifests and namespace labels applied
// server-side, readiness read back, and the existing target's presence checks and guard end to end.

import { expect } from 'chai';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createExistingTarget } from '../../clusters/existing/index.js';
import {
  buildAlertmanagerConfig,
  buildAlertmanagerManifests,
  buildCacertsSecret,
  buildPrometheusConfig,
  buildPrometheusManifests,
  waitForDeploymentsAvailable,
  waitForNodesReady,
} from '../../clusters/shared/index.js';
import { createKubeClient } from '../../harness/kube/index.js';
import type { MeshdrillError } from '../../harness/model/errors.js';
import { type Fixture, expectSuccess, startFixture } from '../local/apiserver/fixture.js';
import { type Sandbox, createSandbox } from './support.js';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };

describe('cluster targets against the local API server', function () {
  this.timeout(30_000);
  let fixture: Fixture;
  let sandbox: Sandbox;

  beforeEach(async () => {
    fixture = await startFixture();
    sandbox = await createSandbox();
  });
  afterEach(async () => {
    await fixture.stop();
    await sandbox.cleanup();
  });

  async function markAvailable(namespace: string, name: string): Promise<void> {
    const current = fixture.store.get(DEPLOYMENTS, namespace, name);
    await fixture.store.updateStatus(DEPLOYMENTS, {
      ...current,
      status: { replicas: 1, readyReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] },
    });
  }

  it('applies the Prometheus manifests server-side and waits for them through the API', async () => {
    const kube = createKubeClient(fixture.kubeconfig);
    const options = {
      scrapeIntervalMs: 5000,
      evaluationIntervalMs: 5000,
      ruleFiles: [{ name: 'mesh.yaml', content: 'groups: []\n' }],
    };
    const manifests = buildPrometheusManifests(options, stringify(buildPrometheusConfig(options)));
    // The local API server serves no RBAC kinds; everything else goes through as on kind.
    for (const object of manifests.filter((m) => !m.apiVersion.startsWith('rbac.'))) await kube.apply(object);
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
    await kube.apply(
      buildCacertsSecret({
        'ca-cert.pem': 'a',
        'ca-key.pem': 'b',
        'root-cert.pem': 'c',
        'cert-chain.pem': 'd',
      }),
    );

    const labels = expectSuccess(
      await fixture.kubectl(['get', 'namespace', 'meshdrill-system', '-o', 'jsonpath={.metadata.labels}']),
    );
    expect(JSON.parse(labels)).to.deep.include({
      'istio-injection': 'disabled',
      'app.kubernetes.io/managed-by': 'meshdrill',
    });
    const rules = expectSuccess(
      await fixture.kubectl([
        '-n',
        'meshdrill-system',
        'get',
        'configmap',
        'meshdrill-prometheus-rules',
        '-o',
        'jsonpath={.data}',
      ]),
    );
    expect(JSON.parse(rules)).to.deep.equal({ '00-mesh.yaml': 'groups: []\n' });
    const secret = expectSuccess(
      await fixture.kubectl([
        '-n',
        'istio-system',
        'get',
        'secret',
        'cacerts',
        '-o',
        'jsonpath={.data.ca-cert\\.pem}',
      ]),
    );
    expect(Buffer.from(secret, 'base64').toString()).to.equal('a');
    const args = expectSuccess(
      await fixture.kubectl([
        '-n',
        'meshdrill-system',
        'get',
        'deployment',
        'meshdrill-prometheus',
        '-o',
        'jsonpath={.spec.template.spec.containers[0].args}',
      ]),
    );
    expect(JSON.parse(args)).to.include('--web.enable-lifecycle');

    // Not Available yet: the wait times out saying what it saw; once the status says so, it passes.
    const wait = { timeoutMs: 300, pollMs: 50 };
    const error = await waitForDeploymentsAvailable(
      kube,
      'meshdrill-system',
      ['meshdrill-prometheus'],
      wait,
    ).catch((e: unknown) => e);
    expect((error as MeshdrillError).message).to.include(
      'Deployment meshdrill-system/meshdrill-prometheus is not Available (0/? ready)',
    );
    await markAvailable('meshdrill-system', 'meshdrill-prometheus');
    await waitForDeploymentsAvailable(kube, 'meshdrill-system', ['meshdrill-prometheus'], wait);
  });

  it("applies kind's Alertmanager manifests server-side beside Prometheus's, and reads them back", async () => {
    const kube = createKubeClient(fixture.kubeconfig);
    const options = { scrapeIntervalMs: 5000, evaluationIntervalMs: 5000, ruleFiles: [] };
    const prometheus = buildPrometheusManifests(options, stringify(buildPrometheusConfig(options)));
    for (const object of prometheus.filter((m) => !m.apiVersion.startsWith('rbac.')))
      await kube.apply(object);
    for (const object of buildAlertmanagerManifests(buildAlertmanagerConfig('http://172.18.0.1:40123'))) {
      await kube.apply(object);
    }
    const read = async (args: string[]) =>
      expectSuccess(await fixture.kubectl(['-n', 'meshdrill-system', ...args]));
    const container = JSON.parse(
      await read([
        'get',
        'deployment',
        'meshdrill-alertmanager',
        '-o',
        'jsonpath={.spec.template.spec.containers[0]}',
      ]),
    ) as { image: string; args: string[] };
    expect(container.image).to.equal('quay.io/prometheus/alertmanager:v0.28.1');
    expect(container.args).to.include('--cluster.listen-address=');
    expect(
      await read(['get', 'service', 'meshdrill-alertmanager', '-o', 'jsonpath={.spec.ports[0].port}']),
    ).to.equal('9093');
    expect(
      await read([
        'get',
        'configmap',
        'meshdrill-alertmanager-config',
        '-o',
        'jsonpath={.data.alertmanager\\.yml}',
      ]),
    ).to.include('url: http://172.18.0.1:40123/hook/meshdrill');
  });

  it('waits for nodes Ready through the API', async () => {
    const kube = createKubeClient(fixture.kubeconfig);
    // As on a real API server, status is ignored on create: the kubelet reports it through the subresource.
    const created = await fixture.store.create(NODES, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'drill-control-plane' },
    });
    await fixture.store.updateStatus(NODES, {
      ...created,
      status: { conditions: [{ type: 'Ready', status: 'False', message: 'container runtime not ready' }] },
    });
    const error = await waitForNodesReady(kube, 1, { timeoutMs: 200, pollMs: 50 }).catch((e: unknown) => e);
    expect((error as MeshdrillError).message).to.include(
      'node drill-control-plane is not Ready (container runtime not ready)',
    );
    const node = fixture.store.get(NODES, undefined, 'drill-control-plane');
    await fixture.store.updateStatus(NODES, {
      ...node,
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const nodes = await waitForNodesReady(kube, 1, { timeoutMs: 1000, pollMs: 50 });
    expect(nodes.map((n) => n.metadata.name)).to.deep.equal(['drill-control-plane']);
  });

  it('existing target: checks presence through the API, says what is missing, keeps the user kubeconfig', async () => {
    // The user's kubeconfig: the local API server as context "lab", plus a context that must stay current.
    const local = await readFile(fixture.kubeconfig, 'utf8');
    const userConfig = local
      .replace(/meshdrill-local/g, 'lab')
      .replace('current-context: lab', 'current-context: prod');
    const withProd = userConfig.replace(
      'contexts:\n',
      'contexts:\n  - name: prod\n    context:\n      cluster: lab\n      user: lab\n',
    );
    await mkdir(join(sandbox.home, '.kube'), { recursive: true });
    const userPath = join(sandbox.home, '.kube', 'config');
    await writeFile(userPath, withProd);
    const kube = createKubeClient(fixture.kubeconfig);

    const target = createExistingTarget({ host: { ...sandbox.host(), pollMs: 50 } });
    const first = await target
      .provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        settings: { context: 'lab', 'wait-timeout': '1s' },
      })
      .catch((e: unknown) => e);
    expect((first as MeshdrillError).message).to.include('Istio: no istiod Deployment');
    expect((first as MeshdrillError).message).to.include('Prometheus: no Service found');
    expect((first as MeshdrillError).message).to.include('Chaos Mesh:');

    // Istio and Prometheus as an installer would leave them (Chaos Mesh's CRDs cannot exist on this server).
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
    await kube.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' } },
      spec: {
        selector: { matchLabels: { app: 'istiod' } },
        template: {
          metadata: { labels: { app: 'istiod' } },
          spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.30.3' }] },
        },
      },
    });
    await markAvailable('istio-system', 'istiod');
    for (const [name, port] of [
      ['prometheus', 9090],
      ['istio-ingressgateway', 80],
    ] as const) {
      await kube.apply({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'istio-system' },
        spec: { selector: { app: name }, ports: [{ name: 'http', port }] },
      });
    }
    const second = await target
      .provision({ workDir: sandbox.workDir, ruleFiles: [], settings: { context: 'lab' } })
      .catch((e: unknown) => e);
    const message = (second as MeshdrillError).message;
    expect(message).to.not.include('Istio:');
    expect(message).to.not.include('Prometheus:');
    expect(message).to.include(
      'Chaos Mesh: CRDs podchaos.chaos-mesh.org, networkchaos.chaos-mesh.org, stresschaos.chaos-mesh.org absent; no chaos-controller-manager Deployment',
    );
    expect(await readFile(userPath, 'utf8')).to.equal(withProd);
  });
});
