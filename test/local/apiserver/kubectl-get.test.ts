// Real kubectl reading from the local API server: table columns, output formats, selectors, events, describe,
// unknown kinds and authentication.

import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildKubeconfig } from '../../../clusters/local/apiserver/index.js';
import { KEYS } from '../../../clusters/local/store/index.js';
import { expectSuccess, type Fixture, rawRequest, startFixture } from './fixture.js';

function podManifest(name: string, labels: Record<string, string>, namespace = 'default') {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'fortio/fortio' }] },
  };
}

describe('kubectl get against the local API server', function () {
  this.timeout(60_000);
  let f: Fixture;

  before(async () => {
    f = await startFixture();
    await f.store.create(KEYS.namespaces, { metadata: { name: 'shop' } });
    const web = await f.store.create(KEYS.pods, podManifest('web-1', { app: 'web', tier: 'front' }));
    await f.store.create(KEYS.pods, podManifest('api-1', { app: 'api' }));
    await f.store.create(KEYS.pods, podManifest('cart-1', { app: 'cart' }, 'shop'));
    await f.store.updateStatus(KEYS.pods, {
      ...web,
      status: {
        phase: 'Running',
        podIP: '127.0.1.5',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'app',
            ready: true,
            restartCount: 2,
            state: { running: { startedAt: web.metadata.creationTimestamp } },
          },
        ],
      },
    });
    await f.store.create(KEYS.events, {
      metadata: { name: 'web-1.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: web.metadata.uid },
      reason: 'Started',
      message: 'Started container app',
      type: 'Normal',
      source: { component: 'kubelet' },
      firstTimestamp: web.metadata.creationTimestamp,
      lastTimestamp: web.metadata.creationTimestamp,
      count: 1,
    });
    await f.store.create(KEYS.virtualservices, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: {
        hosts: ['reviews'],
        gateways: ['mesh'],
        http: [{ route: [{ destination: { host: 'reviews' } }] }],
      },
    });
  });
  after(async () => {
    await f.stop();
  });

  it('prints the pod table with READY, STATUS and RESTARTS', async () => {
    const out = expectSuccess(await f.kubectl(['get', 'pods']));
    const lines = out.trim().split('\n');
    expect(lines[0]).to.match(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    const web = lines.find((l) => l.startsWith('web-1'));
    expect(web).to.match(/^web-1\s+1\/1\s+Running\s+2\s+\d+s$/);
    expect(lines.some((l) => l.startsWith('cart-1'))).to.equal(false);
  });

  it('adds IP and NODE with -o wide', async () => {
    const out = expectSuccess(await f.kubectl(['get', 'pods', '-o', 'wide']));
    expect(out.split('\n')[0]).to.match(/IP\s+NODE/);
    expect(out).to.match(/web-1\s+.*127\.0\.1\.5\s+node-1/);
  });

  it('lists every namespace with -A, and labels with --show-labels', async () => {
    const out = expectSuccess(await f.kubectl(['get', 'pods', '-A', '--show-labels']));
    expect(out.split('\n')[0]).to.match(/^NAMESPACE\s+NAME\s+.*LABELS$/);
    expect(out).to.match(/shop\s+cart-1\s+.*app=cart/);
    expect(out).to.match(/default\s+web-1\s+.*app=web,tier=front/);
  });

  it('filters with -l', async () => {
    const out = expectSuccess(
      await f.kubectl(['get', 'pods', '-l', 'app in (web,cart)', '-A', '-o', 'name']),
    );
    expect(out.trim().split('\n').sort()).to.deep.equal(['pod/cart-1', 'pod/web-1']);
  });

  it('prints -o json and -o yaml from the stored object', async () => {
    const json = JSON.parse(expectSuccess(await f.kubectl(['get', 'pod', 'web-1', '-o', 'json']))) as {
      metadata: { uid: string };
      status: { podIP: string };
    };
    expect(json.metadata.uid).to.equal(f.store.get(KEYS.pods, 'default', 'web-1')?.metadata.uid);
    expect(json.status.podIP).to.equal('127.0.1.5');
    const yaml = expectSuccess(await f.kubectl(['get', 'pod', 'api-1', '-o', 'yaml']));
    expect(yaml).to.match(/^kind: Pod$/m);
    expect(yaml).to.include('name: api-1');
  });

  it('evaluates -o jsonpath over a list', async () => {
    const out = expectSuccess(await f.kubectl(['get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}']));
    expect(out.trim().split(' ')).to.deep.equal(['api-1', 'web-1']);
  });

  it('shows Istio columns for virtual services (v1 and v1beta1 share storage)', async () => {
    const out = expectSuccess(await f.kubectl(['get', 'virtualservices']));
    expect(out.split('\n')[0]).to.match(/^NAME\s+GATEWAYS\s+HOSTS\s+AGE$/);
    expect(out).to.match(/reviews\s+\["mesh"\]\s+\["reviews"\]/);
    const beta = expectSuccess(
      await f.kubectl(['get', 'virtualservices.v1beta1.networking.istio.io', 'reviews', '-o', 'json']),
    );
    expect((JSON.parse(beta) as { apiVersion: string }).apiVersion).to.equal('networking.istio.io/v1beta1');
  });

  it('gets events with LAST SEEN, TYPE, REASON, OBJECT and MESSAGE', async () => {
    const out = expectSuccess(await f.kubectl(['get', 'events']));
    expect(out.split('\n')[0]).to.match(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    expect(out).to.match(/Normal\s+Started\s+pod\/web-1\s+Started container app/);
  });

  it('describes a pod with its events', async () => {
    const out = expectSuccess(await f.kubectl(['describe', 'pod', 'web-1']));
    expect(out).to.match(/^Name:\s+web-1$/m);
    expect(out).to.match(/^Events:/m);
    expect(out).to.match(/Normal\s+Started\s+.*kubelet\s+Started container app/);
  });

  it('answers 404 for an unknown kind and for a missing object', async () => {
    const kind = await f.kubectl(['get', 'widgets']);
    expect(kind.exitCode).to.equal(1);
    expect(kind.stderr).to.include(`the server doesn't have a resource type "widgets"`);
    const missing = await f.kubectl(['get', 'pod', 'nope']);
    expect(missing.exitCode).to.equal(1);
    expect(missing.stderr).to.include('Error from server (NotFound): pods "nope" not found');
  });

  it('answers 401 without the token, and writes the kubeconfig with mode 0600', async () => {
    expect((await stat(f.kubeconfig)).mode & 0o777).to.equal(0o600);
    const anonymous = join(f.dir, 'anonymous.yaml');
    await writeFile(anonymous, buildKubeconfig({ url: f.server.url, token: 'wrong-token' }));
    const denied = await f.kubectl(['--kubeconfig', anonymous, 'get', 'pods'], {
      env: { KUBECONFIG: anonymous },
    });
    expect(denied.exitCode).to.equal(1);
    expect(denied.stderr).to.match(/Unauthorized|provide credentials/);
    const bare = await rawRequest(`${f.server.url}/api/v1/namespaces/default/pods`);
    expect(bare.status).to.equal(401);
    expect(JSON.parse(bare.body)).to.deep.include({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const authed = await rawRequest(`${f.server.url}/api/v1/namespaces/default/pods`, { token: f.token });
    expect(authed.status).to.equal(200);
  });
});
