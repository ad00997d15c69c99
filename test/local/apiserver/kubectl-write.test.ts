// Real kubectl writing through the local API server: apply (client- and server-side), create, delete, label,
// annotate, the three patch types, scale, wait --for=delete and validation errors — each checked in the store.

import { expect } from 'chai';
import { KEYS, type StoredObject } from '../../../clusters/local/store/index.js';
import { expectSuccess, type Fixture, startFixture } from './fixture.js';

function deploymentYaml(image: string, extraContainer: boolean, replicas = 2): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: ${image}
        env:
        - {name: MODE, value: fast}
        ports:
        - {containerPort: 8080}
${extraContainer ? '      - name: sidecar\n        image: busybox:1.36\n' : ''}`;
}

function containersOf(object: StoredObject | undefined): { name: string; image: string; env?: unknown[] }[] {
  const spec = object?.spec as {
    template: { spec: { containers: { name: string; image: string; env?: unknown[] }[] } };
  };
  return spec.template.spec.containers;
}

function replicasOf(object: StoredObject | undefined): number | undefined {
  return (object?.spec as { replicas?: number } | undefined)?.replicas;
}

describe('kubectl writes against the local API server', function () {
  this.timeout(60_000);
  let f: Fixture;

  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => {
    await f.stop();
  });

  it('apply creates, then updates with a strategic merge patch that keeps list items by name', async () => {
    expect(
      expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: deploymentYaml('nginx:1.26', true) })),
    ).to.include('deployment.apps/web created');
    const created = f.store.get(KEYS.deployments, 'default', 'web');
    expect(containersOf(created).map((c) => c.name)).to.deep.equal(['app', 'sidecar']);

    // Another writer adds env to the sidecar; apply must keep it while changing the app image.
    const live = structuredClone(created) as StoredObject;
    const sidecar = containersOf(live)[1];
    if (sidecar) sidecar.env = [{ name: 'ADDED_BY_OTHERS', value: '1' }];
    await f.store.update(KEYS.deployments, live);

    const before = f.requests.length;
    const out = expectSuccess(
      await f.kubectl(['apply', '-f', '-'], { input: deploymentYaml('nginx:1.27', true) }),
    );
    expect(out).to.include('deployment.apps/web configured');
    expect(
      f.requests
        .slice(before)
        .some((r) => r.startsWith('PATCH /apis/apps/v1/namespaces/default/deployments/web')),
    ).to.equal(true);
    const updated = f.store.get(KEYS.deployments, 'default', 'web');
    const containers = containersOf(updated);
    expect(containers.map((c) => `${c.name}=${c.image}`)).to.deep.equal([
      'app=nginx:1.27',
      'sidecar=busybox:1.36',
    ]);
    expect(containers[1]?.env).to.deep.equal([{ name: 'ADDED_BY_OTHERS', value: '1' }]);
    expect(updated?.metadata.generation).to.equal(3);

    // Dropping the sidecar from the manifest deletes it ($patch: delete by name).
    expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: deploymentYaml('nginx:1.27', false) }));
    expect(containersOf(f.store.get(KEYS.deployments, 'default', 'web')).map((c) => c.name)).to.deep.equal([
      'app',
    ]);
  });

  it('an unchanged apply sends no write', async () => {
    expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: deploymentYaml('nginx:1.26', false) }));
    const rv = f.store.get(KEYS.deployments, 'default', 'web')?.metadata.resourceVersion;
    const before = f.requests.length;
    const out = expectSuccess(
      await f.kubectl(['apply', '-f', '-'], { input: deploymentYaml('nginx:1.26', false) }),
    );
    expect(out).to.include('deployment.apps/web unchanged');
    const writes = f.requests.slice(before).filter((r) => !r.startsWith('GET '));
    expect(writes).to.deep.equal([]);
    expect(f.store.get(KEYS.deployments, 'default', 'web')?.metadata.resourceVersion).to.equal(rv);
  });

  it('apply --server-side creates (201) and then updates', async () => {
    const cm = (value: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  level: "${value}"\n`;
    expect(
      expectSuccess(await f.kubectl(['apply', '--server-side', '-f', '-'], { input: cm('1') })),
    ).to.include('configmap/settings serverside-applied');
    expect(f.store.get(KEYS.configmaps, 'default', 'settings')?.data).to.deep.equal({ level: '1' });
    expectSuccess(await f.kubectl(['apply', '--server-side', '-f', '-'], { input: cm('2') }));
    expect(f.store.get(KEYS.configmaps, 'default', 'settings')?.data).to.deep.equal({ level: '2' });
    expect(f.requests.some((r) => r.includes('fieldManager=kubectl'))).to.equal(true);
  });

  it('apply updates a custom resource with a merge patch', async () => {
    const dr = (mode: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy: {tls: {mode: ${mode}}}
`;
    expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: dr('DISABLE') }));
    expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: dr('ISTIO_MUTUAL') }));
    const spec = f.store.get(KEYS.destinationrules, 'default', 'reviews')?.spec as {
      trafficPolicy: { tls: { mode: string } };
    };
    expect(spec.trafficPolicy.tls.mode).to.equal('ISTIO_MUTUAL');
    const out = expectSuccess(await f.kubectl(['get', 'dr']));
    expect(out).to.match(/^NAME\s+HOST\s+AGE$/m);
    expect(out).to.match(/^reviews\s+reviews\s+/m);
  });

  it('create, label, annotate, and delete by name and by label', async () => {
    expectSuccess(await f.kubectl(['create', 'configmap', 'a', '--from-literal=k=v']));
    expectSuccess(await f.kubectl(['create', 'configmap', 'b', '--from-literal=k=v']));
    expectSuccess(await f.kubectl(['create', 'configmap', 'c', '--from-literal=k=v']));
    expect(f.store.get(KEYS.configmaps, 'default', 'a')?.data).to.deep.equal({ k: 'v' });
    const dup = await f.kubectl(['create', 'configmap', 'a']);
    expect(dup.exitCode).to.equal(1);
    expect(dup.stderr).to.include('configmaps "a" already exists');

    expectSuccess(await f.kubectl(['label', 'configmap', 'a', 'b', 'doomed=yes']));
    expectSuccess(await f.kubectl(['annotate', 'configmap', 'c', 'note=kept']));
    expect(f.store.get(KEYS.configmaps, 'default', 'a')?.metadata.labels).to.deep.equal({ doomed: 'yes' });
    expect(f.store.get(KEYS.configmaps, 'default', 'c')?.metadata.annotations).to.deep.equal({
      note: 'kept',
    });
    expectSuccess(await f.kubectl(['label', 'configmap', 'b', 'doomed-']));
    expect(f.store.get(KEYS.configmaps, 'default', 'b')?.metadata.labels ?? {}).to.deep.equal({});
    expectSuccess(await f.kubectl(['label', 'configmap', 'b', 'doomed=yes']));

    expect(expectSuccess(await f.kubectl(['delete', 'configmap', '-l', 'doomed=yes']))).to.match(
      /configmap "a" deleted/,
    );
    expect(f.store.get(KEYS.configmaps, 'default', 'a')).to.equal(undefined);
    expect(f.store.get(KEYS.configmaps, 'default', 'b')).to.equal(undefined);
    expect(f.store.get(KEYS.configmaps, 'default', 'c')).to.not.equal(undefined);
    expectSuccess(await f.kubectl(['delete', 'configmap', 'c']));
    expect(f.store.get(KEYS.configmaps, 'default', 'c')).to.equal(undefined);
  });

  it('patch with strategic, merge and json patches', async () => {
    expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: deploymentYaml('nginx:1.26', true) }));
    expectSuccess(
      await f.kubectl([
        'patch',
        'deployment',
        'web',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.37"}]}}}}',
      ]),
    );
    expect(containersOf(f.store.get(KEYS.deployments, 'default', 'web')).map((c) => c.image)).to.deep.equal([
      'nginx:1.26',
      'busybox:1.37',
    ]);
    expectSuccess(
      await f.kubectl([
        'patch',
        'deployment',
        'web',
        '--type=merge',
        '-p',
        '{"metadata":{"labels":{"team":"a"}}}',
      ]),
    );
    expect(f.store.get(KEYS.deployments, 'default', 'web')?.metadata.labels).to.deep.equal({
      app: 'web',
      team: 'a',
    });
    expectSuccess(
      await f.kubectl([
        'patch',
        'deployment',
        'web',
        '--type=json',
        '-p',
        '[{"op":"replace","path":"/spec/replicas","value":5}]',
      ]),
    );
    expect(replicasOf(f.store.get(KEYS.deployments, 'default', 'web'))).to.equal(5);
    const bad = await f.kubectl([
      'patch',
      'deployment',
      'web',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/nothing"}]',
    ]);
    expect(bad.exitCode).to.equal(1);
    expect(bad.stderr).to.include('nonexistent');
  });

  it('scale changes spec.replicas through the scale subresource', async () => {
    expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: deploymentYaml('nginx:1.26', false) }));
    expect(expectSuccess(await f.kubectl(['scale', 'deployment', 'web', '--replicas=4']))).to.include(
      'deployment.apps/web scaled',
    );
    expect(replicasOf(f.store.get(KEYS.deployments, 'default', 'web'))).to.equal(4);
    expect(
      f.requests.some((r) => r.startsWith('PATCH /apis/apps/v1/namespaces/default/deployments/web/scale')),
    ).to.equal(true);
  });

  it('wait --for=delete returns once the object is gone', async () => {
    await f.store.create(KEYS.configmaps, {
      metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/hold'] },
    });
    expectSuccess(await f.kubectl(['delete', 'configmap', 'held', '--wait=false']));
    const waiting = f.kubectl(['wait', '--for=delete', 'configmap/held', '--timeout=15s']);
    await new Promise((r) => setTimeout(r, 500));
    const held = f.store.get(KEYS.configmaps, 'default', 'held');
    expect(held?.metadata.deletionTimestamp).to.be.a('string');
    await f.store.update(KEYS.configmaps, { ...held, metadata: { ...held?.metadata, finalizers: [] } });
    const result = await waiting;
    expectSuccess(result);
    expect(result.stdout).to.include('configmap/held condition met');
  });

  it('answers 422 with causes for missing fields and bad names', async () => {
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: Bad_Name, namespace: default}
spec:
  containers:
  - name: app
`;
    const result = await f.kubectl(['create', '-f', '-'], { input: pod });
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.include('Pod "Bad_Name" is invalid');
    expect(result.stderr).to.include('metadata.name: Invalid value: "Bad_Name"');
    expect(result.stderr).to.include('spec.containers[0].image: Required value');
    expect(f.store.list(KEYS.pods).items).to.have.length(0);
  });

  it('deletes a namespace and everything in it', async () => {
    expectSuccess(await f.kubectl(['create', 'namespace', 'temp']));
    expectSuccess(await f.kubectl(['-n', 'temp', 'create', 'configmap', 'x']));
    expectSuccess(await f.kubectl(['delete', 'namespace', 'temp', '--timeout=15s']));
    expect(f.store.get(KEYS.namespaces, undefined, 'temp')).to.equal(undefined);
    expect(f.store.list(KEYS.configmaps, { namespace: 'temp' }).items).to.have.length(0);
  });
});
