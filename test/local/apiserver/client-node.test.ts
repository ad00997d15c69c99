// @kubernetes/client-node 1.4 against the local API server: KubernetesObjectApi (kind → plural through the
// resource lists), CoreV1Api, patches, a raw Watch and an informer.

import {
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { expect } from 'chai';
import { KEYS } from '../../../clusters/local/store/index.js';
import { type Fixture, startFixture } from './fixture.js';

async function waitFor(check: () => boolean, what: string, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pod(name: string, labels: Record<string, string>): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels },
    spec: { containers: [{ name: 'app', image: 'fortio/fortio' }] },
  };
}

describe('client-node against the local API server', function () {
  this.timeout(30_000);
  let f: Fixture;
  let kc: KubeConfig;

  beforeEach(async () => {
    f = await startFixture();
    kc = new KubeConfig();
    kc.loadFromFile(f.kubeconfig);
  });
  afterEach(async () => {
    await f.stop();
  });

  it('KubernetesObjectApi creates, reads, lists, patches and deletes a custom resource', async () => {
    const api = KubernetesObjectApi.makeApiClient(kc);
    const vs = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'default', labels: { run: 'r1' } },
      spec: { hosts: ['reviews'] },
    };
    const created: KubernetesObject = await api.create(vs);
    expect(created.metadata?.uid).to.be.a('string');
    const read = await api.read({
      apiVersion: vs.apiVersion,
      kind: vs.kind,
      metadata: { name: 'reviews', namespace: 'default' },
    });
    expect((read as KubernetesObject & { spec: unknown }).spec).to.deep.equal({ hosts: ['reviews'] });
    const list = await api.list(
      'networking.istio.io/v1',
      'VirtualService',
      'default',
      undefined,
      undefined,
      undefined,
      undefined,
      'run=r1',
    );
    expect(list.items.map((i) => i.metadata?.name)).to.deep.equal(['reviews']);
    await api.patch(
      { ...vs, spec: { hosts: ['reviews', 'ratings'] } },
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
    expect(f.store.get(KEYS.virtualservices, 'default', 'reviews')?.spec).to.deep.equal({
      hosts: ['reviews', 'ratings'],
    });
    await api.delete({
      apiVersion: vs.apiVersion,
      kind: vs.kind,
      metadata: { name: 'reviews', namespace: 'default' },
    });
    expect(f.store.get(KEYS.virtualservices, 'default', 'reviews')).to.equal(undefined);
  });

  it('CoreV1Api creates, lists with a selector and JSON-patches pods; errors carry the status code', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'web' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('b', { app: 'api' }) });
    const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
    expect(list.items.map((p) => p.metadata?.name)).to.deep.equal(['a']);
    await core.patchNamespacedPod(
      {
        name: 'a',
        namespace: 'default',
        body: [{ op: 'add', path: '/metadata/labels/patched', value: 'yes' }],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(f.store.get(KEYS.pods, 'default', 'a')?.metadata.labels).to.deep.equal({
      app: 'web',
      patched: 'yes',
    });
    try {
      await core.readNamespacedPod({ name: 'missing', namespace: 'default' });
      expect.fail('reading a missing pod should fail');
    } catch (error) {
      expect((error as { code?: number }).code).to.equal(404);
    }
  });

  it('Watch streams ADDED, MODIFIED and DELETED from a resourceVersion', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const start = await core.listNamespacedPod({ namespace: 'default' });
    const events: string[] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      '/api/v1/namespaces/default/pods',
      { resourceVersion: start.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type: string, object: KubernetesObject) => events.push(`${type}:${object.metadata?.name ?? ''}`),
      () => {},
    );
    try {
      const created = await f.store.create(KEYS.pods, pod('w', { app: 'w' }));
      await f.store.update(KEYS.pods, {
        ...created,
        metadata: { ...created.metadata, labels: { app: 'w2' } },
      });
      await f.store.delete(KEYS.pods, 'default', 'w');
      await waitFor(() => events.length >= 3, 'three watch events');
      expect(events).to.deep.equal(['ADDED:w', 'MODIFIED:w', 'DELETED:w']);
    } finally {
      controller.abort();
    }
    await waitFor(() => f.store.watcherCount() === 0, 'the server to drop the watcher after the client left');
  });

  it('an informer lists, then follows changes', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await f.store.create(KEYS.pods, pod('before', { app: 'x' }));
    const informer = makeInformer(kc, '/api/v1/namespaces/default/pods', () =>
      core.listNamespacedPod({ namespace: 'default' }),
    );
    const added: string[] = [];
    const deleted: string[] = [];
    informer.on('add', (p: V1Pod) => added.push(p.metadata?.name ?? ''));
    informer.on('delete', (p: V1Pod) => deleted.push(p.metadata?.name ?? ''));
    await informer.start();
    try {
      await waitFor(() => added.includes('before'), 'the listed pod');
      await f.store.create(KEYS.pods, pod('after', { app: 'x' }));
      await waitFor(() => added.includes('after'), 'the watched pod');
      await f.store.delete(KEYS.pods, 'default', 'before');
      await waitFor(() => deleted.includes('before'), 'the delete');
      expect(informer.list('default').map((p) => p.metadata?.name)).to.deep.equal(['after']);
    } finally {
      await informer.stop();
    }
  });
});
