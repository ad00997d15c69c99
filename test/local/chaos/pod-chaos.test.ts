// PodChaos on the real LocalTarget (ISTIO-FACTS.md "Chaos Mesh"): pod-kill deletes the pod and its ReplicaSet
// recreates it; pod-failure runs the pause image so the pod goes NotReady and traffic fails, then restores it
// when the duration ends; container-kill SIGKILLs a container (137, restart count up); the status records it all;
// a native-sidecar container is not matched by containerNames (the same limitation as real Chaos Mesh).

import { expect } from 'chai';
import type { Pod } from '../../../clusters/local/controllers/kube-types.js';
import { KEYS } from '../../../clusters/local/store/index.js';
import {
  type ChaosRig,
  bootChaosTarget,
  chaosObject,
  conditionOf,
  fortioDeployment,
  get,
  podsOf,
  readyPod,
  recordsOf,
  service,
  until,
} from './support.js';

const NS = 'shop';

describe('Chaos Mesh emulation: PodChaos on the local target', function () {
  this.timeout(120_000);
  let rig: ChaosRig;

  before(async () => {
    rig = await bootChaosTarget();
    const { store } = rig;
    await store.create(KEYS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await store.create(KEYS.deployments, fortioDeployment(NS, 'server'));
    await store.create(KEYS.deployments, fortioDeployment(NS, 'client'));
    await store.create(KEYS.services, service(NS, 'server'));
    await until(
      'server and client Ready',
      () => readyPod(store, NS, 'server') && readyPod(store, NS, 'client'),
      30_000,
    );
  });

  after(async () => {
    await rig?.stop();
  });

  it('pod-kill: the selected pod is deleted and its ReplicaSet recreates it; records Injected', async () => {
    const { store } = rig;
    const before = readyPod(store, NS, 'server') as Pod;
    await store.create(
      KEYS.podchaos,
      chaosObject('PodChaos', NS, 'kill', {
        action: 'pod-kill',
        mode: 'one',
        selector: { labelSelectors: { app: 'server' } },
      }),
    );
    const chaos = await until('the records', () => {
      const o = store.get(KEYS.podchaos, NS, 'kill');
      return conditionOf(o, 'AllInjected') === 'True' ? o : undefined;
    });
    expect(chaos.metadata.finalizers).to.include('chaos-mesh/records');
    expect(conditionOf(chaos, 'Selected')).to.equal('True');
    expect(recordsOf(chaos)).to.have.length(1);
    expect(recordsOf(chaos)[0]).to.include({
      id: `${NS}/${before.metadata.name}`,
      phase: 'Injected',
      injectedCount: 1,
    });
    const replacement = await until(
      'a new Ready server pod',
      () => {
        const p = readyPod(store, NS, 'server');
        return p && p.metadata.uid !== before.metadata.uid ? p : undefined;
      },
      20_000,
    );
    expect(podsOf(store, NS, 'server').map((p) => p.metadata.uid)).not.to.include(before.metadata.uid);
    expect(replacement.metadata.name).not.to.equal(before.metadata.name);
    await store.delete(KEYS.podchaos, NS, 'kill');
    await until('the chaos object gone (finalizer removed)', () => !store.get(KEYS.podchaos, NS, 'kill'));
  });

  it('pod-failure: the pause image makes the pod NotReady and traffic fail; restored when the duration ends', async () => {
    const { store } = rig;
    const server = readyPod(store, NS, 'server') as Pod;
    const client = readyPod(store, NS, 'client') as Pod;
    const url = `http://${client.status?.podIP}:8080/fortio/fetch/server.${NS}:8080/`;
    expect((await get(url)).status).to.equal(200);
    await store.create(
      KEYS.podchaos,
      chaosObject('PodChaos', NS, 'fail', {
        action: 'pod-failure',
        mode: 'all',
        duration: '4s',
        selector: { labelSelectors: { app: 'server' } },
      }),
    );
    const failing = await until('the server pod NotReady running the pause image', () => {
      const p = store.get(KEYS.pods, NS, server.metadata.name) as Pod | undefined;
      const ready = p?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      return p?.spec.containers[0]?.image === 'gcr.io/google-containers/pause:latest' && ready === 'False'
        ? p
        : undefined;
    });
    expect(failing.metadata.annotations?.['chaos-mesh.org/fail-app-image']).to.equal('fortio/fortio');
    const during = await get(`http://${server.status?.podIP}:8080/`, 1500);
    expect(during.status, 'the app no longer listens').to.equal(0);
    expect((await get(url, 2000)).status, 'traffic through the service fails').to.not.equal(200);
    const restored = await until(
      'the app back and Ready after the duration',
      () => {
        const p = store.get(KEYS.pods, NS, server.metadata.name) as Pod | undefined;
        const ready = p?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
        return p?.spec.containers[0]?.image === 'fortio/fortio' && ready === 'True' ? p : undefined;
      },
      20_000,
    );
    expect(restored.metadata.annotations?.['chaos-mesh.org/fail-app-image']).to.equal(undefined);
    expect(restored.status?.containerStatuses?.[0]?.restartCount).to.equal(2);
    const chaos = store.get(KEYS.podchaos, NS, 'fail');
    expect(conditionOf(chaos, 'AllRecovered')).to.equal('True');
    expect(recordsOf(chaos)[0]).to.include({ phase: 'NotInjected', injectedCount: 1, recoveredCount: 1 });
    expect(
      (chaos?.status as { experiment?: { desiredPhase: string } } | undefined)?.experiment?.desiredPhase,
    ).to.equal('Stop');
    // Endpoints follow readiness a moment later, as on a cluster.
    await until('traffic through the service back', async () => (await get(url)).status === 200, 5000);
    await store.delete(KEYS.podchaos, NS, 'fail');
  });

  it('container-kill: the container is SIGKILLed (137) and restarted by the kubelet', async () => {
    const { store } = rig;
    const server = readyPod(store, NS, 'server') as Pod;
    const restarts = server.status?.containerStatuses?.[0]?.restartCount ?? 0;
    await store.create(
      KEYS.podchaos,
      chaosObject('PodChaos', NS, 'ckill', {
        action: 'container-kill',
        mode: 'one',
        containerNames: ['app'],
        selector: { labelSelectors: { app: 'server' } },
      }),
    );
    const after = await until('restart count up', () => {
      const p = store.get(KEYS.pods, NS, server.metadata.name) as Pod | undefined;
      const s = p?.status?.containerStatuses?.[0];
      return s && s.restartCount > restarts ? s : undefined;
    });
    expect(after.lastState?.terminated?.exitCode).to.equal(137);
    expect(recordsOf(store.get(KEYS.podchaos, NS, 'ckill'))[0]).to.include({
      id: `${NS}/${server.metadata.name}/app`,
      phase: 'Injected',
    });
    await store.delete(KEYS.podchaos, NS, 'ckill');
    await until('gone', () => !store.get(KEYS.podchaos, NS, 'ckill'));
  });

  it('container-kill of istio-proxy as a native sidecar matches nothing: Selected False, the sidecar untouched', async () => {
    const { store } = rig;
    const sidecar = {
      name: 'istio-proxy',
      image: 'fortio/fortio',
      args: ['server', '-http-port', '15021', '-redirect-port', 'disabled'],
      restartPolicy: 'Always',
    };
    await store.create(KEYS.deployments, fortioDeployment(NS, 'native', { initContainers: [sidecar] }));
    const pod = await until('native pod Ready', () => readyPod(store, NS, 'native'), 20_000);
    await store.create(
      KEYS.podchaos,
      chaosObject('PodChaos', NS, 'proxy-kill', {
        action: 'container-kill',
        mode: 'one',
        containerNames: ['istio-proxy'],
        selector: { labelSelectors: { app: 'native' } },
      }),
    );
    const chaos = await until('status written', () => {
      const o = store.get(KEYS.podchaos, NS, 'proxy-kill');
      return conditionOf(o, 'Selected') ? o : undefined;
    });
    expect(conditionOf(chaos, 'Selected')).to.equal('False');
    expect(recordsOf(chaos)).to.deep.equal([]);
    const reason = (chaos.status as { conditions: { type: string; reason?: string }[] }).conditions.find(
      (c) => c.type === 'Selected',
    )?.reason;
    expect(reason).to.match(/native sidecar/);
    await new Promise((r) => setTimeout(r, 500));
    const now = store.get(KEYS.pods, NS, pod.metadata.name) as Pod;
    expect(now.status?.initContainerStatuses?.[0]?.restartCount).to.equal(0);
    await store.delete(KEYS.podchaos, NS, 'proxy-kill');
  });
});
