// Controllers against the real in-memory store, with pods marked Ready by hand (no kubelet): rollouts,
// scale, rollout status fields, endpoints, FailedCreate on admission rejection, Jobs, events.

import { expect } from 'chai';
import {
  type ControllerManager,
  RESOURCES,
  startControllers,
} from '../../../clusters/local/controllers/index.js';
import {
  planRollingUpdate,
  resolveSurgeAndUnavailable,
} from '../../../clusters/local/controllers/deployment-math.js';
import {
  createMemoryStore,
  type MemoryStore,
  StoreError,
  type StoredObject,
} from '../../../clusters/local/store/index.js';

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let ip = 1;
/** Plays the kubelet: gives every pod an IP and marks it Running/Ready. */
async function markPodsReady(store: MemoryStore, namespace = 'default'): Promise<void> {
  for (const pod of store.list(RESOURCES.pods, { namespace }).items) {
    const status = pod.status as { phase?: string; podIP?: string };
    if (status?.phase === 'Running') continue;
    const now = new Date().toISOString();
    await store.updateStatus(RESOURCES.pods, {
      ...pod,
      status: {
        phase: 'Running',
        podIP: `127.1.0.${ip++}`,
        conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: now }],
      },
    });
  }
}

function deployment(name: string, replicas: number, image = 'fortio/fortio'): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080, name: 'http' }] }] },
      },
    },
  };
}

describe('local controllers', () => {
  let store: MemoryStore;
  let controllers: ControllerManager;
  beforeEach(() => {
    store = createMemoryStore();
    controllers = startControllers({ store });
  });
  afterEach(() => controllers.stop());

  it('rolling-update maths keeps availability with maxUnavailable 0', () => {
    const bounds = resolveSurgeAndUnavailable(3, { maxSurge: 1, maxUnavailable: 0 });
    const plan = planRollingUpdate(3, bounds, { name: 'n', replicas: 0, available: 0, createdAt: '2' }, [
      { name: 'o', replicas: 3, available: 3, createdAt: '1' },
    ]);
    expect(plan.newReplicas).to.equal(1);
    expect(plan.oldReplicas.has('o')).to.equal(false);
    expect(resolveSurgeAndUnavailable(4, undefined)).to.deep.equal({ maxSurge: 1, maxUnavailable: 1 });
  });

  it('Deployment → ReplicaSet (pod-template-hash) → pods, with the status rollout status reads', async () => {
    await store.create(RESOURCES.deployments, deployment('web', 3));
    const pods = await until('3 pods', () => {
      const items = store.list(RESOURCES.pods, { namespace: 'default' }).items;
      return items.length === 3 ? items : undefined;
    });
    const rs = store.list(RESOURCES.replicasets, { namespace: 'default' }).items[0] as StoredObject;
    const hash = rs.metadata.labels?.['pod-template-hash'];
    expect(rs.metadata.name).to.equal(`web-${hash}`);
    expect(pods.every((p) => p.metadata.labels?.['pod-template-hash'] === hash)).to.equal(true);
    await markPodsReady(store);
    const status = await until('deployment complete', () => {
      const d = store.get(RESOURCES.deployments, 'default', 'web');
      const s = d?.status as Record<string, number> | undefined;
      return s?.availableReplicas === 3 && s.updatedReplicas === 3 ? (d as StoredObject) : undefined;
    });
    const s = status.status as {
      observedGeneration: number;
      replicas: number;
      readyReplicas: number;
      conditions: { type: string; reason: string }[];
    };
    expect(s.observedGeneration).to.equal(status.metadata.generation);
    expect(s.replicas).to.equal(3);
    expect(s.readyReplicas).to.equal(3);
    expect(s.conditions.find((c) => c.type === 'Progressing')?.reason).to.equal('NewReplicaSetAvailable');
  });

  it('rolls out a template change (restartedAt annotation) to a new ReplicaSet and scales the old one to 0', async () => {
    await store.create(RESOURCES.deployments, deployment('roll', 2));
    await until('2 pods', () => store.list(RESOURCES.pods, { namespace: 'default' }).items.length === 2);
    await markPodsReady(store);
    const d = store.get(RESOURCES.deployments, 'default', 'roll') as StoredObject & {
      spec: { template: { metadata: { annotations?: Record<string, string> } } };
    };
    d.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() };
    await store.update(RESOURCES.deployments, d);
    // Keep playing kubelet until the rollout completes.
    await until(
      'rollout done',
      () => {
        void markPodsReady(store);
        const dep = store.get(RESOURCES.deployments, 'default', 'roll');
        const s = dep?.status as Record<string, number> | undefined;
        const rss = store.list(RESOURCES.replicasets, { namespace: 'default' }).items;
        const old = rss.filter((r) => (r.spec as { replicas: number }).replicas === 0);
        return (
          s?.updatedReplicas === 2 &&
          s.availableReplicas === 2 &&
          rss.length === 2 &&
          old.length === 1 &&
          s.observedGeneration === dep?.metadata.generation
        );
      },
      5000,
    );
    await controllers.whenIdle();
    const events = store
      .list(RESOURCES.events, { namespace: 'default' })
      .items.map((e) => `${e.reason}: ${e.message}`);
    expect(
      events.some((e) => /^ScalingReplicaSet: Scaled down replica set roll-\w+ from \d to 0$/.test(e)),
    ).to.equal(true);
  });

  it('scale changes the pod count, and SuccessfulDelete is recorded', async () => {
    await store.create(RESOURCES.deployments, deployment('sc', 3));
    await until('3 pods', () => store.list(RESOURCES.pods, { namespace: 'default' }).items.length === 3);
    const d = store.get(RESOURCES.deployments, 'default', 'sc') as StoredObject & {
      spec: { replicas: number };
    };
    d.spec.replicas = 1;
    await store.update(RESOURCES.deployments, d);
    await until('1 pod', () => store.list(RESOURCES.pods, { namespace: 'default' }).items.length === 1);
    await controllers.whenIdle();
    const reasons = store.list(RESOURCES.events, { namespace: 'default' }).items.map((e) => e.reason);
    expect(reasons).to.include('SuccessfulDelete');
  });

  it('emits FailedCreate (aggregated) when admission rejects the pods a ReplicaSet creates', async () => {
    let rejecting = true;
    store.addAdmissionHook(RESOURCES.pods, (op) => {
      if (op === 'CREATE' && rejecting) {
        throw new StoreError(
          500,
          'InternalError',
          'Internal error occurred: failed calling webhook "namespace.sidecar-injector.istio.io": no endpoints available for service "istiod"',
        );
      }
    });
    await store.create(RESOURCES.deployments, deployment('rej', 1));
    const event = await until('FailedCreate event with count > 1', () =>
      store
        .list(RESOURCES.events, { namespace: 'default' })
        .items.find((e) => e.reason === 'FailedCreate' && Number(e.count) > 1),
    );
    expect(String(event.message)).to.match(/^Error creating: .*no endpoints available for service "istiod"/);
    expect(event.type).to.equal('Warning');
    rejecting = false;
    await until(
      'pod created after admission recovers',
      () => store.list(RESOURCES.pods, { namespace: 'default' }).items.length === 1,
      15000,
    );
  });

  it('marks Progressing False with ProgressDeadlineExceeded when a rollout stalls', async () => {
    const d = deployment('stall', 1) as { spec: Record<string, unknown> };
    d.spec.progressDeadlineSeconds = 1;
    await store.create(RESOURCES.deployments, d);
    const cond = await until(
      'ProgressDeadlineExceeded',
      () => {
        const dep = store.get(RESOURCES.deployments, 'default', 'stall');
        const c = (
          dep?.status as { conditions?: { type: string; status: string; reason: string }[] } | undefined
        )?.conditions?.find((x) => x.type === 'Progressing');
        return c?.reason === 'ProgressDeadlineExceeded' ? c : undefined;
      },
      5000,
    );
    expect(cond.status).to.equal('False');
  });

  it('Service → Endpoints and EndpointSlice from Ready pods, notReadyAddresses for the rest', async () => {
    await store.create(RESOURCES.services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await store.create(RESOURCES.deployments, deployment('web', 2));
    await until('2 pods', () => store.list(RESOURCES.pods, { namespace: 'default' }).items.length === 2);
    const [first, second] = store.list(RESOURCES.pods, { namespace: 'default' }).items as StoredObject[];
    const now = new Date().toISOString();
    await store.updateStatus(RESOURCES.pods, {
      ...first,
      status: {
        phase: 'Running',
        podIP: '127.1.9.1',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      },
    });
    await store.updateStatus(RESOURCES.pods, {
      ...second,
      status: {
        phase: 'Running',
        podIP: '127.1.9.2',
        conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now }],
      },
    });
    const ep = await until('endpoints', () => {
      const e = store.get(RESOURCES.endpoints, 'default', 'web') as
        | (StoredObject & {
            subsets?: {
              addresses?: { ip: string }[];
              notReadyAddresses?: { ip: string }[];
              ports: { port: number }[];
            }[];
          })
        | undefined;
      return e?.subsets?.[0]?.addresses && e.subsets[0].notReadyAddresses ? e : undefined;
    });
    expect(ep.subsets?.[0]?.addresses?.map((a) => a.ip)).to.deep.equal(['127.1.9.1']);
    expect(ep.subsets?.[0]?.notReadyAddresses?.map((a) => a.ip)).to.deep.equal(['127.1.9.2']);
    expect(ep.subsets?.[0]?.ports[0]?.port).to.equal(8080);
    const slice = store.list(RESOURCES.endpointslices, {
      namespace: 'default',
      labelSelector: 'kubernetes.io/service-name=web',
    }).items[0] as StoredObject & { endpoints: { conditions: { ready: boolean } }[] };
    expect(slice.endpoints.map((e) => e.conditions.ready).sort()).to.deep.equal([false, true]);
  });

  it('Job runs to completion and records the Complete condition', async () => {
    await store.create(RESOURCES.jobs, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: 'default' },
      spec: { completions: 2, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    for (let i = 0; i < 2; i++) {
      const pod = await until('a running job pod', () =>
        store
          .list(RESOURCES.pods, { namespace: 'default', labelSelector: 'job-name=once' })
          .items.find((p) => (p.status as { phase: string }).phase === 'Pending'),
      );
      await store.updateStatus(RESOURCES.pods, { ...pod, status: { phase: 'Succeeded' } });
    }
    const job = await until('job complete', () => {
      const j = store.get(RESOURCES.jobs, 'default', 'once');
      const s = j?.status as { succeeded?: number; conditions?: { type: string }[] } | undefined;
      return s?.conditions?.some((c) => c.type === 'Complete') ? s : undefined;
    });
    expect(job.succeeded).to.equal(2);
  });
});
