// Real kubectl on workload objects whose status a controller would write (set here through the store):
// deployment and service columns, rollout restart and status, wait for a condition, get -w, logs deploy/x.

import { expect } from 'chai';
import { KEYS, type StoredObject } from '../../../clusters/local/store/index.js';
import { expectSuccess, type Fixture, startFixture } from './fixture.js';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: fortio/fortio}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {port: 8080, name: http}
`;

async function markRolledOut(f: Fixture): Promise<void> {
  const d = f.store.get(KEYS.deployments, 'default', 'web') as StoredObject;
  await f.store.updateStatus(KEYS.deployments, {
    ...d,
    status: {
      observedGeneration: d.metadata.generation,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      conditions: [{ type: 'Available', status: 'True' }],
    },
  });
}

describe('kubectl on workloads against the local API server', function () {
  this.timeout(60_000);
  let f: Fixture;

  before(async () => {
    f = await startFixture();
    expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: DEPLOYMENT }));
  });
  after(async () => {
    await f.stop();
  });

  it('shows deployment and service columns', async () => {
    await markRolledOut(f);
    const deploy = expectSuccess(await f.kubectl(['get', 'deploy']));
    expect(deploy).to.match(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/m);
    expect(deploy).to.match(/^web\s+2\/2\s+2\s+2\s+/m);
    const svc = expectSuccess(await f.kubectl(['get', 'svc', 'web']));
    expect(svc).to.match(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/m);
    expect(svc).to.match(/^web\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+8080\/TCP\s+/m);
  });

  it('rollout restart patches the template annotation and bumps generation; rollout status reads status', async () => {
    const before = f.store.get(KEYS.deployments, 'default', 'web')?.metadata.generation ?? 0;
    expectSuccess(await f.kubectl(['rollout', 'restart', 'deployment/web']));
    const after = f.store.get(KEYS.deployments, 'default', 'web');
    const spec = after?.spec as
      | { template: { metadata: { annotations?: Record<string, string> } } }
      | undefined;
    const template = spec?.template ?? { metadata: {} };
    expect(template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).to.be.a('string');
    expect(after?.metadata.generation).to.equal(before + 1);
    const waiting = f.kubectl(['rollout', 'status', 'deployment/web', '--timeout=15s']);
    await new Promise((r) => setTimeout(r, 300));
    await markRolledOut(f);
    const result = await waiting;
    expectSuccess(result);
    expect(result.stdout).to.include('successfully rolled out');
  });

  it('wait --for=condition=Ready returns when a pod becomes Ready', async () => {
    const pod = await f.store.create(KEYS.pods, {
      metadata: { name: 'web-abc', namespace: 'default', labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', image: 'fortio/fortio' }] },
    });
    const waiting = f.kubectl(['wait', '--for=condition=Ready', 'pod/web-abc', '--timeout=15s']);
    await new Promise((r) => setTimeout(r, 300));
    await f.store.updateStatus(KEYS.pods, {
      ...pod,
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const result = await waiting;
    expectSuccess(result);
    expect(result.stdout).to.include('pod/web-abc condition met');
  });

  it('logs deployment/web resolves a pod through the selector', async () => {
    f.runtime.setLog('default', 'web-abc', 'app', ['from the deployment']);
    expect(expectSuccess(await f.kubectl(['logs', 'deployment/web']))).to.equal('from the deployment\n');
  });

  it('get -w prints changes as they happen', async () => {
    const watching = f.kubectl(['get', 'configmaps', '-w', '--request-timeout=3s']);
    await new Promise((r) => setTimeout(r, 500));
    await f.store.create(KEYS.configmaps, {
      metadata: { name: 'seen-live', namespace: 'default' },
      data: { a: '1' },
    });
    const result = await watching;
    expect(result.stdout).to.match(/^seen-live\s+1\s+/m);
  });
});
