// `--target-opt revision=canary` on the local target: the control plane boots as revision `canary` only, as
// `istioctl install --set revision=canary` on a cluster without Istio — istiod-canary, its webhook, the ingress
// gateway on it, and the `default` tag on it (the first install becomes the default: istio/istio
// operator/pkg/webhook/webhook.go). A namespace labelled istio-injection=enabled is injected by canary, and its
// proxies and the gateway's report to istiod-canary.

import { join } from 'node:path';
import { expect } from 'chai';
import { buildInstallManifests } from '../../../clusters/local/mesh/index.js';
import { run } from '../../../harness/exec/index.js';
import {
  applyAndRollOut,
  type Booted,
  bootTarget,
  expectOk,
  fortioDeploymentYaml,
  namespaceYaml,
  yamlStream,
} from '../support/index.js';

const WORKLOAD = yamlStream(
  namespaceYaml('demo'),
  fortioDeploymentYaml({ namespace: 'demo', name: 'web', labels: { app: 'web', version: 'v1' } }),
);

type Obj = { kind: string; metadata: { name: string }; spec?: unknown };

function gatewayDiscovery(objects: Obj[]): string | undefined {
  const gateway = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'istio-ingressgateway');
  const spec = gateway?.spec as {
    template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
  };
  const env = spec?.template.spec.containers[0]?.env.find((e) => e.name === 'PROXY_CONFIG');
  return env?.value ? (JSON.parse(env.value) as { discoveryAddress: string }).discoveryAddress : undefined;
}

describe('the local target booted as a revision install (--target-opt revision=canary)', function () {
  this.timeout(240_000);
  let booted: Booted | undefined;

  before(async () => {
    booted = await bootTarget({ settings: { revision: 'canary' }, dirPrefix: 'meshdrill-revision-boot-' });
    await applyAndRollOut(booted.kubectl, WORKLOAD, 'demo', ['web']);
  });
  after(async () => {
    await booted?.stop();
  });

  const kubectl = (args: string[]) => (booted as Booted).kubectl(args);
  const names = async (resource: string, namespace = ['-n', 'istio-system']) =>
    expectOk(
      await kubectl([...namespace, 'get', resource, '-o', 'jsonpath={.items[*].metadata.name}']),
    ).split(' ');

  it('the install: istiod-canary (no istiod), its webhook and the default tag, the gateway on it', async () => {
    expect(booted?.env.versions['istio-revision']).to.equal('canary');
    expect(await names('deployments')).to.deep.equal(['istio-ingressgateway', 'istiod-canary']);
    expect(await names('services'))
      .to.include('istiod-canary')
      .and.not.include('istiod');
    expect(await names('mutatingwebhookconfigurations', [])).to.include.members([
      'istio-revision-tag-default',
      'istio-sidecar-injector-canary',
    ]);
    const tag = JSON.parse(
      expectOk(
        await kubectl(['get', 'mutatingwebhookconfiguration', 'istio-revision-tag-default', '-o', 'json']),
      ),
    );
    expect(tag.metadata.labels['istio.io/rev']).to.equal('canary');
    expect(
      tag.webhooks.map((w: { clientConfig: { service: { name: string } } }) => w.clientConfig.service.name),
    ).to.satisfy((list: string[]) => list.length > 0 && list.every((n) => n === 'istiod-canary'));
    const pods = expectOk(
      await kubectl([
        '-n',
        'istio-system',
        'get',
        'pods',
        '-l',
        'app=istiod,istio.io/rev=canary',
        '-o',
        'name',
      ]),
    );
    expect(pods.trim().split('\n')).to.have.length(1);
  });

  it('an istio-injection=enabled namespace is injected by canary, and its proxies report to istiod-canary', async () => {
    const pods = JSON.parse(
      expectOk(await kubectl(['-n', 'demo', 'get', 'pods', '-l', 'app=web', '-o', 'json'])),
    );
    expect(pods.items.length).to.be.greaterThan(0);
    for (const pod of pods.items) expect(pod.metadata.annotations['istio.io/rev']).to.equal('canary');
    const binDir = booted?.env.binDirs[0] ?? '';
    const status = expectOk(
      await run(join(binDir, 'istioctl'), ['proxy-status'], {
        env: { KUBECONFIG: booted?.env.kubeconfigPath ?? '' },
      }),
    );
    const rows = status.split('\n').filter((l) => /\.(demo|istio-system)\s/.test(l));
    expect(rows.length).to.be.greaterThan(1);
    for (const row of rows) expect(row).to.match(/istiod-canary-/);
  });

  it("the gateway's discovery address follows the revision (and stays istiod's on a default install)", () => {
    expect(
      gatewayDiscovery(
        buildInstallManifests({ revision: 'canary', gateway: true }).map((m) => m.object as Obj),
      ),
    ).to.equal('istiod-canary.istio-system.svc:15012');
    expect(gatewayDiscovery(buildInstallManifests({}).map((m) => m.object as Obj))).to.equal(
      'istiod.istio-system.svc:15012',
    );
    // A revision beside another stays control-plane only (no second gateway), as before.
    expect(
      gatewayDiscovery(buildInstallManifests({ revision: 'canary' }).map((m) => m.object as Obj)),
    ).to.equal(undefined);
  });
});
