// The memory store's contract: metadata, generation, concurrency, validation, finalizers, GC, namespaces, watch.

import { expect } from 'chai';
import { createMemoryStore, type MemoryStore } from './memory-store.js';
import { KEYS } from './resources.js';
import { StoreError, type StoredObject, type WatchEvent } from './types.js';

function deployment(name: string, image = 'nginx:1.27', replicas = 1): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
    },
  };
}

function pod(name: string, labels: Record<string, string> = {}, namespace = 'default'): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  };
}

async function expectStoreError(promise: Promise<unknown>, code: number): Promise<StoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(StoreError);
    expect((error as StoreError).code, (error as Error).message).to.equal(code);
    return error as StoreError;
  }
  return expect.fail(`expected a StoreError ${code}, but the call succeeded`);
}

/** Collects events until `count` arrived or the deadline passes. */
async function collect(events: WatchEvent[], count: number, deadlineMs = 1000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (events.length < count && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

describe('memory store', () => {
  let store: MemoryStore;
  beforeEach(() => {
    store = createMemoryStore();
  });

  it('seeds the namespaces a fresh cluster has', () => {
    const names = store.list(KEYS.namespaces).items.map((n) => n.metadata.name);
    expect(names).to.have.members(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
  });

  it('assigns uid, increasing resourceVersions, generation 1 and a creationTimestamp', async () => {
    const a = await store.create(KEYS.pods, pod('a'));
    const b = await store.create(KEYS.pods, pod('b'));
    expect(a.metadata.uid).to.match(/^[0-9a-f-]{36}$/);
    expect(a.metadata.uid).to.not.equal(b.metadata.uid);
    expect(Number(b.metadata.resourceVersion)).to.be.greaterThan(Number(a.metadata.resourceVersion));
    expect(a.metadata.generation).to.equal(1);
    expect(a.metadata.creationTimestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(store.currentResourceVersion()).to.equal(b.metadata.resourceVersion);
    expect((a.status as { phase: string }).phase).to.equal('Pending');
  });

  it('drops empty labels and annotations, as ObjectMeta omits empty maps', async () => {
    const created = await store.create(KEYS.configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'flags', namespace: 'default', labels: {}, annotations: { a: 'b' } },
    });
    expect(created.metadata).to.not.have.property('labels');
    const updated = await store.update(KEYS.configmaps, {
      ...created,
      metadata: { ...created.metadata, annotations: {} },
    });
    expect(updated.metadata).to.not.have.property('annotations');
  });

  it('resolves generateName to a unique name', async () => {
    const input = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { generateName: 'cfg-', namespace: 'default' },
    };
    const a = await store.create(KEYS.configmaps, input);
    const b = await store.create(KEYS.configmaps, input);
    expect(a.metadata.name).to.match(/^cfg-[a-z0-9]{5}$/);
    expect(a.metadata.name).to.not.equal(b.metadata.name);
  });

  it('rejects a duplicate with 409 AlreadyExists and a missing namespace with 404', async () => {
    await store.create(KEYS.pods, pod('a'));
    const dup = await expectStoreError(store.create(KEYS.pods, pod('a')), 409);
    expect(dup.reason).to.equal('AlreadyExists');
    const missing = await expectStoreError(store.create(KEYS.pods, pod('a', {}, 'nowhere')), 404);
    expect(missing.message).to.equal('namespaces "nowhere" not found');
  });

  it('returns 422 with one cause per problem', async () => {
    const bad = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'Bad_Name', namespace: 'default' },
      spec: { containers: [{ name: 'c' }] },
    };
    const error = await expectStoreError(store.create(KEYS.pods, bad), 422);
    expect(error.reason).to.equal('Invalid');
    expect(error.causes.map((c) => c.field)).to.deep.equal(['metadata.name', 'spec.containers[0].image']);
    expect(error.causes[1]?.reason).to.equal('FieldValueRequired');
    expect(error.message).to.include('Pod "Bad_Name" is invalid');
  });

  it('bumps generation on spec changes only', async () => {
    const created = await store.create(KEYS.deployments, deployment('web'));
    const labelled = structuredClone(created);
    labelled.metadata.labels = { app: 'web', extra: 'yes' };
    const afterLabel = await store.update(KEYS.deployments, labelled);
    expect(afterLabel.metadata.generation).to.equal(1);
    expect(Number(afterLabel.metadata.resourceVersion)).to.be.greaterThan(
      Number(created.metadata.resourceVersion),
    );

    const withStatus = await store.updateStatus(KEYS.deployments, { ...afterLabel, status: { replicas: 1 } });
    expect(withStatus.metadata.generation).to.equal(1);
    expect(withStatus.status).to.deep.equal({ replicas: 1 });

    const scaled = structuredClone(withStatus);
    (scaled.spec as { replicas: number }).replicas = 3;
    const afterScale = await store.update(KEYS.deployments, scaled);
    expect(afterScale.metadata.generation).to.equal(2);
    // A main-resource update keeps the status (it has a status subresource).
    expect(afterScale.status).to.deep.equal({ replicas: 1 });
  });

  it('makes a no-op update free: same resourceVersion, no event', async () => {
    const created = await store.create(KEYS.deployments, deployment('web'));
    const events: WatchEvent[] = [];
    const w = store.watch(KEYS.deployments, {}, (e) => events.push(e));
    const same = await store.update(KEYS.deployments, created);
    expect(same.metadata.resourceVersion).to.equal(created.metadata.resourceVersion);
    await new Promise((r) => setTimeout(r, 20));
    expect(events).to.have.length(0);
    w.stop();
  });

  it('refuses a stale resourceVersion with 409 Conflict', async () => {
    const created = await store.create(KEYS.configmaps, {
      metadata: { name: 'c', namespace: 'default' },
      data: { a: '1' },
    });
    await store.update(KEYS.configmaps, { ...created, data: { a: '2' } });
    const error = await expectStoreError(
      store.update(KEYS.configmaps, { ...created, data: { a: '3' } }),
      409,
    );
    expect(error.reason).to.equal('Conflict');
    expect(error.message).to.include('the object has been modified');
    // Without a resourceVersion the write is unconditional.
    const { resourceVersion: _rv, ...meta } = created.metadata;
    const forced = await store.update(KEYS.configmaps, { ...created, metadata: meta, data: { a: '4' } });
    expect((forced.data as { a: string }).a).to.equal('4');
  });

  it('filters lists by namespace, labels and fields', async () => {
    await store.create(KEYS.namespaces, { metadata: { name: 'other' } });
    await store.create(KEYS.pods, pod('a', { app: 'web' }));
    await store.create(KEYS.pods, pod('b', { app: 'api' }));
    await store.create(KEYS.pods, pod('c', { app: 'web' }, 'other'));
    const names = (o: { items: StoredObject[] }) =>
      o.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    expect(names(store.list(KEYS.pods))).to.deep.equal(['default/a', 'default/b', 'other/c']);
    expect(names(store.list(KEYS.pods, { namespace: 'default' }))).to.deep.equal(['default/a', 'default/b']);
    expect(names(store.list(KEYS.pods, { labelSelector: 'app=web' }))).to.deep.equal([
      'default/a',
      'other/c',
    ]);
    expect(names(store.list(KEYS.pods, { fieldSelector: 'metadata.name=b' }))).to.deep.equal(['default/b']);
  });

  it('runs admission hooks that mutate and reject', async () => {
    store.addAdmissionHook(KEYS.pods, (op, object) => {
      if (op !== 'CREATE') return;
      object.metadata.labels = { ...object.metadata.labels, injected: 'true' };
      if (object.metadata.name === 'forbidden')
        throw new StoreError(403, 'Forbidden', 'admission webhook denied the request');
    });
    const created = await store.create(KEYS.pods, pod('ok'));
    expect(created.metadata.labels?.injected).to.equal('true');
    await expectStoreError(store.create(KEYS.pods, pod('forbidden')), 403);
    expect(store.get(KEYS.pods, 'default', 'forbidden')).to.equal(undefined);
  });

  it('holds an object with finalizers until the last finalizer goes', async () => {
    const created = await store.create(KEYS.configmaps, {
      metadata: { name: 'f', namespace: 'default', finalizers: ['x/y'] },
    });
    const deleted = await store.delete(KEYS.configmaps, 'default', 'f');
    expect(deleted.metadata.deletionTimestamp).to.be.a('string');
    const held = store.get(KEYS.configmaps, 'default', 'f');
    expect(held?.metadata.deletionTimestamp).to.be.a('string');
    await store.update(KEYS.configmaps, { ...held, metadata: { ...held?.metadata, finalizers: [] } });
    expect(store.get(KEYS.configmaps, 'default', 'f')).to.equal(undefined);
    expect(created.metadata.uid).to.be.a('string');
  });

  it('garbage-collects dependents, or orphans them on request', async () => {
    const owner = await store.create(KEYS.replicasets, {
      ...(deployment('rs') as object),
      kind: 'ReplicaSet',
    });
    const ref = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'rs',
      uid: owner.metadata.uid,
      controller: true,
    };
    const child = pod('child');
    (child as StoredObject).metadata.ownerReferences = [ref];
    await store.create(KEYS.pods, child);
    await store.delete(KEYS.replicasets, 'default', 'rs');
    expect(store.get(KEYS.pods, 'default', 'child')).to.equal(undefined);

    const owner2 = await store.create(KEYS.replicasets, {
      ...(deployment('rs2') as object),
      kind: 'ReplicaSet',
    });
    const orphan = pod('orphan');
    (orphan as StoredObject).metadata.ownerReferences = [{ ...ref, name: 'rs2', uid: owner2.metadata.uid }];
    await store.create(KEYS.pods, orphan);
    await store.delete(KEYS.replicasets, 'default', 'rs2', { propagationPolicy: 'Orphan' });
    expect(store.get(KEYS.pods, 'default', 'orphan')?.metadata.ownerReferences).to.equal(undefined);
  });

  it('terminates a namespace: contents go, then the namespace', async () => {
    await store.create(KEYS.namespaces, { metadata: { name: 'doomed' } });
    await store.create(KEYS.pods, pod('p', {}, 'doomed'));
    await store.create(KEYS.configmaps, {
      metadata: { name: 'held', namespace: 'doomed', finalizers: ['x/y'] },
    });
    await store.delete(KEYS.namespaces, undefined, 'doomed');
    expect(store.get(KEYS.pods, 'doomed', 'p')).to.equal(undefined);
    const ns = store.get(KEYS.namespaces, undefined, 'doomed');
    expect(ns?.status).to.deep.include({ phase: 'Terminating' });
    await expectStoreError(store.create(KEYS.pods, pod('late', {}, 'doomed')), 403);
    const held = store.get(KEYS.configmaps, 'doomed', 'held');
    await store.update(KEYS.configmaps, { ...held, metadata: { ...held?.metadata, finalizers: [] } });
    expect(store.get(KEYS.namespaces, undefined, 'doomed')).to.equal(undefined);
  });

  it('deletes bound pods gracefully when asked, and at once with grace 0', async () => {
    const graceful = createMemoryStore({ gracefulPodDeletion: true });
    const bound = pod('p');
    (bound as { spec: Record<string, unknown> }).spec.nodeName = 'node-1';
    await graceful.create(KEYS.pods, bound);
    const marked = await graceful.delete(KEYS.pods, 'default', 'p');
    expect(marked.metadata.deletionGracePeriodSeconds).to.equal(30);
    const current = graceful.get(KEYS.pods, 'default', 'p');
    await graceful.updateStatus(KEYS.pods, { ...current, status: { phase: 'Running' } });
    expect(graceful.get(KEYS.pods, 'default', 'p')).to.not.equal(undefined);
    await graceful.delete(KEYS.pods, 'default', 'p', { gracePeriodSeconds: 0 });
    expect(graceful.get(KEYS.pods, 'default', 'p')).to.equal(undefined);
  });

  it('answers 404 for an unknown resource', () => {
    expect(() => store.list({ group: 'nope.io', version: 'v1', resource: 'things' })).to.throw(
      StoreError,
      'could not find',
    );
  });

  it('serves Istio v1 and v1beta1 from one storage', async () => {
    const vs = {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'vs', namespace: 'default' },
      spec: { hosts: ['a'] },
    };
    await store.create({ ...KEYS.virtualservices, version: 'v1beta1' }, vs);
    expect(store.get({ ...KEYS.virtualservices, version: 'v1' }, 'default', 'vs')?.spec).to.deep.equal({
      hosts: ['a'],
    });
  });

  describe('watch', () => {
    it('delivers ADDED, MODIFIED and DELETED in order, filtered by selector', async () => {
      const events: WatchEvent[] = [];
      const w = store.watch(KEYS.pods, { namespace: 'default', labelSelector: 'app=web' }, (e) =>
        events.push(e),
      );
      const a = await store.create(KEYS.pods, pod('a', { app: 'web' }));
      await store.create(KEYS.pods, pod('b', { app: 'api' }));
      await store.update(KEYS.pods, { ...a, metadata: { ...a.metadata, labels: { app: 'web', v: '2' } } });
      await store.delete(KEYS.pods, 'default', 'a');
      await collect(events, 3);
      w.stop();
      expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).to.deep.equal([
        'ADDED:a',
        'MODIFIED:a',
        'DELETED:a',
      ]);
      expect(Number(events[2]?.object.metadata.resourceVersion)).to.be.greaterThan(
        Number(events[1]?.object.metadata.resourceVersion),
      );
    });

    it('turns a label change into ADDED/DELETED for a selector watch', async () => {
      const events: WatchEvent[] = [];
      const p = await store.create(KEYS.pods, pod('p', { app: 'api' }));
      const w = store.watch(KEYS.pods, { labelSelector: 'app=web' }, (e) => events.push(e));
      const moved = await store.update(KEYS.pods, {
        ...p,
        metadata: { ...p.metadata, labels: { app: 'web' } },
      });
      await store.update(KEYS.pods, { ...moved, metadata: { ...moved.metadata, labels: { app: 'db' } } });
      await collect(events, 2);
      w.stop();
      expect(events.map((e) => e.type)).to.deep.equal(['ADDED', 'DELETED']);
    });

    it('replays what happened since a resourceVersion, then continues live', async () => {
      const since = store.currentResourceVersion();
      await store.create(KEYS.pods, pod('a'));
      await store.create(KEYS.pods, pod('b'));
      const events: WatchEvent[] = [];
      const w = store.watch(KEYS.pods, { sinceResourceVersion: since }, (e) => events.push(e));
      await store.create(KEYS.pods, pod('c'));
      await collect(events, 3);
      w.stop();
      expect(events.map((e) => e.object.metadata.name)).to.deep.equal(['a', 'b', 'c']);
    });

    it('answers 410 Expired for a resourceVersion older than the window', async () => {
      const small = createMemoryStore({ historyWindow: 10 });
      const since = small.currentResourceVersion();
      for (let i = 0; i < 40; i++)
        await small.create(KEYS.configmaps, { metadata: { name: `c${i}`, namespace: 'default' } });
      expect(() => small.watch(KEYS.configmaps, { sinceResourceVersion: since }, () => {})).to.throw(
        StoreError,
        'too old resource version',
      );
      const recent = String(Number(small.currentResourceVersion()) - 5);
      const events: WatchEvent[] = [];
      const w = small.watch(KEYS.configmaps, { sinceResourceVersion: recent }, (e) => events.push(e));
      await collect(events, 5);
      w.stop();
      expect(events).to.have.length(5);
    });

    it('stops delivering after stop()', async () => {
      const events: WatchEvent[] = [];
      const w = store.watch(KEYS.pods, {}, (e) => events.push(e));
      expect(store.watcherCount()).to.equal(1);
      w.stop();
      expect(store.watcherCount()).to.equal(0);
      await store.create(KEYS.pods, pod('a'));
      await new Promise((r) => setTimeout(r, 20));
      expect(events).to.have.length(0);
    });

    it('hands out copies, so a consumer cannot corrupt the store', async () => {
      const created = await store.create(KEYS.pods, pod('a', { app: 'web' }));
      created.metadata.labels = { app: 'evil' };
      const got = store.get(KEYS.pods, 'default', 'a');
      if (got?.metadata.labels) got.metadata.labels.app = 'evil';
      expect(store.get(KEYS.pods, 'default', 'a')?.metadata.labels).to.deep.equal({ app: 'web' });
    });
  });
});
