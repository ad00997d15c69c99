// A drill never harms what it did not create: objects that existed before a run and were changed by it (scaled,
// patched, applied over) carry their before-state in the cluster, are never given the run-id label, and are put
// back as they were — by the run's own undo, and by `cleanup` after a crash, when the run's memory is gone.
// Against the local target's API server (real client-node requests: server-side apply, merge patch, PUT).

import { expect } from 'chai';
import { type FaultContext, runAction } from '../../harness/faults/inject.js';
import {
  createKubeClient,
  deleteRunObjects,
  type KubeClient,
  type ObjectKey,
} from '../../harness/kube/index.js';
import {
  BEFORE_ANNOTATION,
  CHANGED_BY_RUN_LABEL,
  type KubeObject,
  RUN_ID_LABEL,
} from '../../harness/model/index.js';
import { type Booted, bootTarget } from '../local/support/boot.js';

const NS = 'theirs';
const app: ObjectKey = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'app' };
const settings: ObjectKey = { apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'settings' };
const route: ObjectKey = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  namespace: NS,
  name: 'route',
};
const created: ObjectKey = { apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'made-by-the-run' };

const routeSpec = (weight: number) => ({
  hosts: ['app'],
  http: [
    {
      route: [
        { destination: { host: 'app', subset: 'v1' }, weight },
        { destination: { host: 'app', subset: 'v2' }, weight: 100 - weight },
      ],
    },
  ],
});

/** Objects of someone else's, as kubectl would have created them (no meshdrill label). */
async function seedTheirs(kube: KubeClient): Promise<void> {
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await kube.apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'app', namespace: NS, labels: { team: 'payments' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'app' } },
      template: {
        metadata: { labels: { app: 'app' } },
        spec: { containers: [{ name: 'app', image: 'fortio/fortio', ports: [{ containerPort: 8080 }] }] },
      },
    },
  });
  await kube.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: NS },
    data: { a: '1' },
  });
  await kube.apply({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'route', namespace: NS },
    spec: routeSpec(100),
  });
}

/** The drill's changes: a scale, a patch, an apply over an existing object, and an object of its own. */
async function change(ctx: FaultContext) {
  return [
    await runAction({ action: 'scale', target: { ...app }, replicas: 0 }, ctx),
    await runAction(
      { action: 'patch', target: { ...settings }, patchType: 'merge', patch: { data: { a: '2', b: 'new' } } },
      ctx,
    ),
    await runAction(
      {
        action: 'apply',
        manifest: {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'route', namespace: NS },
          spec: routeSpec(10),
        },
      },
      ctx,
    ),
    await runAction(
      {
        action: 'apply',
        manifest: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: created.name, namespace: NS },
          data: {},
        },
      },
      ctx,
    ),
  ];
}

const specOf = async (kube: KubeClient, key: ObjectKey): Promise<unknown> => {
  const object = (await kube.get(key)) as KubeObject;
  return key.kind === 'ConfigMap' ? object.data : (object.spec as Record<string, unknown>);
};

async function expectAsBefore(kube: KubeClient): Promise<void> {
  expect(((await specOf(kube, app)) as { replicas: number }).replicas).to.equal(1);
  expect(await specOf(kube, settings)).to.deep.equal({ a: '1' });
  expect(await specOf(kube, route)).to.deep.equal(routeSpec(100));
  for (const key of [app, settings, route]) {
    const { labels = {}, annotations = {} } = ((await kube.get(key)) as KubeObject).metadata;
    expect(labels, key.kind).to.not.have.any.keys(CHANGED_BY_RUN_LABEL, RUN_ID_LABEL);
    expect(annotations, key.kind).to.not.have.any.keys(BEFORE_ANNOTATION);
  }
  expect(((await kube.get(app)) as KubeObject).metadata.labels).to.deep.equal({ team: 'payments' });
  expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: NS })).to.not.equal(undefined);
  expect(await kube.get(created)).to.equal(undefined);
}

describe('objects a run changed but did not create', function () {
  this.timeout(120_000);
  let booted: Booted;
  let kube: KubeClient;

  before(async () => {
    booted = await bootTarget({ dirPrefix: 'meshdrill-changed-objects-', settings: { mesh: 'false' } });
    kube = createKubeClient(booted.env.kubeconfigPath);
  });
  after(async () => {
    await booted?.stop();
  });
  beforeEach(async () => {
    await seedTheirs(kube);
  });
  afterEach(async () => {
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: NS });
    const deadline = Date.now() + 30_000;
    while ((await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: NS })) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('carry their before-state and never the run-id label; cleanup --run-id after a crash restores them', async () => {
    const ctx: FaultContext = { kube, runId: 'crashed', scenario: 's', defaultNamespace: NS };
    await change(ctx); // the run dies here: its undo steps are lost with it

    const changed = (await kube.get(route)) as KubeObject;
    expect(changed.spec).to.deep.equal(routeSpec(10));
    expect(changed.metadata.labels, "an object that existed is not the run's to delete").to.not.have.key(
      RUN_ID_LABEL,
    );
    expect(changed.metadata.labels?.[CHANGED_BY_RUN_LABEL]).to.equal('crashed');
    expect(((await kube.get(app)) as KubeObject).metadata.annotations?.[BEFORE_ANNOTATION]).to.equal(
      JSON.stringify({ runId: 'crashed', restore: 'replicas', replicas: 1 }),
    );
    expect(((await kube.get(created)) as KubeObject).metadata.labels?.[RUN_ID_LABEL]).to.equal('crashed');

    const result = await deleteRunObjects(kube, 'crashed', { timeoutMs: 20_000 });
    expect(result.restored).to.have.members([
      'Deployment theirs/app',
      'ConfigMap theirs/settings',
      'VirtualService theirs/route',
    ]);
    expect(result.removed).to.deep.equal(['ConfigMap theirs/made-by-the-run']);
    expect(result.leftover).to.deep.equal([]);
    await expectAsBefore(kube);
  });

  it("the run's own undo restores them the same way, a patch's added fields included", async () => {
    const ctx: FaultContext = { kube, runId: 'normal', scenario: 's', defaultNamespace: NS };
    const faults = await change(ctx);
    expect(await specOf(kube, settings)).to.deep.equal({ a: '2', b: 'new' });
    for (const fault of faults.reverse()) await fault.revert();
    await expectAsBefore(kube);
    const result = await deleteRunObjects(kube, 'normal', { timeoutMs: 20_000 });
    expect(result).to.deep.equal({ restored: [], removed: [], leftover: [] });
  });

  it('a second change in the same run keeps the first before-state', async () => {
    const ctx: FaultContext = { kube, runId: 'twice', scenario: 's', defaultNamespace: NS };
    await runAction({ action: 'scale', target: { ...app }, replicas: 3 }, ctx);
    await runAction({ action: 'scale', target: { ...app }, replicas: 0 }, ctx);
    await deleteRunObjects(kube, 'twice', { timeoutMs: 20_000 });
    expect(((await specOf(kube, app)) as { replicas: number }).replicas).to.equal(1);
  });
});
