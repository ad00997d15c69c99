// StressChaos, NetworkChaos, TimeChaos and HTTPChaos on the real LocalTarget (ISTIO-FACTS.md "Chaos Mesh",
// "Sidecar memory and OOM"): a memory stressor past the container's limit gets the container OOMKilled (137);
// delay adds latency, partition stops traffic and loss 100 % fails it, between pods through fortio's fetch proxy
// and the kube-proxy stand-in, all undone when the object is deleted or its duration ends; TimeChaos writes the
// pod's clock-offset file; HTTPChaos is recorded NotInjected.

import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Pod } from '../../../clusters/local/controllers/kube-types.js';
import { podChaosFiles } from '../../../clusters/local/kubelet/index.js';
import { KEYS } from '../../../clusters/local/store/index.js';
import {
  type ChaosRig,
  bootChaosTarget,
  chaosObject,
  conditionOf,
  fortioDeployment,
  get,
  readyPod,
  recordsOf,
  service,
  until,
} from './support.js';

const NS = 'shop';

describe('Chaos Mesh emulation: stress, network, time and HTTP chaos on the local target', function () {
  this.timeout(120_000);
  let rig: ChaosRig;
  let fetchUrl = '';

  before(async () => {
    rig = await bootChaosTarget();
    const { store } = rig;
    await store.create(KEYS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await store.create(KEYS.deployments, fortioDeployment(NS, 'server'));
    await store.create(KEYS.deployments, fortioDeployment(NS, 'client'));
    await store.create(KEYS.deployments, fortioDeployment(NS, 'hog', { memoryLimit: '200Mi' }));
    await store.create(KEYS.services, service(NS, 'server'));
    const client = await until(
      'pods Ready',
      () => readyPod(store, NS, 'server') && readyPod(store, NS, 'hog') && readyPod(store, NS, 'client'),
      30_000,
    );
    fetchUrl = `http://${client.status?.podIP}:8080/fortio/fetch/server.${NS}:8080/`;
    await until('traffic flows', async () => (await get(fetchUrl)).status === 200, 5000);
  });

  after(async () => {
    await rig?.stop();
  });

  const median = async (n: number): Promise<{ ms: number; statuses: number[] }> => {
    const out: number[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = await get(fetchUrl, 5000);
      out.push(r.ms);
      statuses.push(r.status);
    }
    out.sort((a, b) => a - b);
    return { ms: out[Math.floor(n / 2)] as number, statuses };
  };

  it('StressChaos memory past the limit: the container is OOMKilled (137) and restarts; the stressor is gone', async () => {
    const { store } = rig;
    const hog = readyPod(store, NS, 'hog') as Pod;
    await store.create(
      KEYS.stresschaos,
      chaosObject('StressChaos', NS, 'mem', {
        mode: 'one',
        selector: { labelSelectors: { app: 'hog' } },
        stressors: { memory: { workers: 1, size: '400MB' } },
      }),
    );
    const status = await until(
      'OOMKilled',
      () => {
        const p = store.get(KEYS.pods, NS, hog.metadata.name) as Pod | undefined;
        const s = p?.status?.containerStatuses?.[0];
        return s?.lastState?.terminated?.reason === 'OOMKilled' ? s : undefined;
      },
      20_000,
    );
    expect(status.lastState?.terminated?.exitCode).to.equal(137);
    expect(status.restartCount).to.be.greaterThan(0);
    const chaos = store.get(KEYS.stresschaos, NS, 'mem');
    expect(recordsOf(chaos)[0]).to.include({ id: `${NS}/${hog.metadata.name}/app`, phase: 'Injected' });
    const events = store.list(KEYS.events, { namespace: NS }).items.map((e) => `${e.reason} ${e.message}`);
    expect(events.some((e) => e.startsWith('OOMKilling') && e.includes('(container app)'))).to.equal(true);
    await store.delete(KEYS.stresschaos, NS, 'mem');
    await until('StressChaos gone', () => !store.get(KEYS.stresschaos, NS, 'mem'));
    await until('hog Ready again', () => readyPod(store, NS, 'hog'), 20_000);
  });

  it('NetworkChaos delay to the target adds latency between pods; deleting it removes it', async () => {
    const { store } = rig;
    const base = await median(5);
    expect(base.statuses.every((s) => s === 200)).to.equal(true);
    await store.create(
      KEYS.networkchaos,
      chaosObject('NetworkChaos', NS, 'slow', {
        action: 'delay',
        mode: 'all',
        selector: { labelSelectors: { app: 'client' } },
        direction: 'to',
        target: { mode: 'all', selector: { labelSelectors: { app: 'server' } } },
        delay: { latency: '300ms', jitter: '10ms', correlation: '25' },
      }),
    );
    await until(
      'injected',
      () => conditionOf(store.get(KEYS.networkchaos, NS, 'slow'), 'AllInjected') === 'True',
    );
    const client = readyPod(store, NS, 'client') as Pod;
    const server = readyPod(store, NS, 'server') as Pod;
    const file = JSON.parse(readFileSync(podChaosFiles(rig.workDir, client).networkFaults, 'utf8')) as {
      rules: { action: string; peers: string[]; delayMs: number }[];
    };
    expect(file.rules[0]).to.include({ action: 'delay', delayMs: 300 });
    expect(file.rules[0]?.peers).to.deep.equal([server.status?.podIP]);
    const slow = await median(5);
    expect(slow.statuses.every((s) => s === 200)).to.equal(true);
    expect(slow.ms - base.ms).to.be.within(250, 700);
    const records = recordsOf(store.get(KEYS.networkchaos, NS, 'slow'));
    expect(records.map((r) => r.selectorKey).sort()).to.deep.equal(['.', '.Target']);
    await store.delete(KEYS.networkchaos, NS, 'slow');
    await until('gone', () => !store.get(KEYS.networkchaos, NS, 'slow'));
    expect(existsSync(podChaosFiles(rig.workDir, client).networkFaults)).to.equal(false);
    const after = await median(5);
    expect(after.ms).to.be.below(base.ms + 150);
  });

  it('NetworkChaos partition (both) stops traffic until its duration ends', async () => {
    const { store } = rig;
    await store.create(
      KEYS.networkchaos,
      chaosObject('NetworkChaos', NS, 'cut', {
        action: 'partition',
        mode: 'all',
        duration: '3s',
        selector: { labelSelectors: { app: 'server' } },
        direction: 'both',
        target: { mode: 'all', selector: { labelSelectors: { app: 'client' } } },
      }),
    );
    await until(
      'injected',
      () => conditionOf(store.get(KEYS.networkchaos, NS, 'cut'), 'AllInjected') === 'True',
    );
    const cut = await get(fetchUrl, 1000);
    expect(cut.status, 'no answer through a partition').to.equal(0);
    await until(
      'recovered',
      () => conditionOf(store.get(KEYS.networkchaos, NS, 'cut'), 'AllRecovered') === 'True',
      8000,
    );
    expect((await get(fetchUrl)).status).to.equal(200);
    await store.delete(KEYS.networkchaos, NS, 'cut');
  });

  it('NetworkChaos loss 100% (no target: any peer) fails the traffic; deleting it restores it', async () => {
    const { store } = rig;
    await store.create(
      KEYS.networkchaos,
      chaosObject('NetworkChaos', NS, 'lossy', {
        action: 'loss',
        mode: 'all',
        selector: { labelSelectors: { app: 'server' } },
        loss: { loss: '100' },
      }),
    );
    await until(
      'injected',
      () => conditionOf(store.get(KEYS.networkchaos, NS, 'lossy'), 'AllInjected') === 'True',
    );
    expect((await get(fetchUrl, 1000)).status).to.equal(0);
    await store.delete(KEYS.networkchaos, NS, 'lossy');
    await until('gone', () => !store.get(KEYS.networkchaos, NS, 'lossy'));
    expect((await get(fetchUrl)).status).to.equal(200);
  });

  it('TimeChaos writes the pod clock offset; deletion removes it', async () => {
    const { store } = rig;
    const server = readyPod(store, NS, 'server') as Pod;
    await store.create(
      KEYS.timechaos,
      chaosObject('TimeChaos', NS, 'skew', {
        mode: 'one',
        selector: { labelSelectors: { app: 'server' } },
        timeOffset: '-10m',
      }),
    );
    const file = podChaosFiles(rig.workDir, server).timeOffset;
    await until('offset file', () => existsSync(file));
    expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.equal({
      offsetMs: -600_000,
      source: `TimeChaos/${NS}/skew`,
    });
    const env = rig.target.cluster?.kubelet.worker(NS, server.metadata.name)?.runner('app')?.env ?? {};
    expect(env.MESHDRILL_TIME_OFFSET_FILE).to.equal(file);
    await store.delete(KEYS.timechaos, NS, 'skew');
    await until('offset file removed', () => !existsSync(file));
  });

  it('HTTPChaos is accepted and recorded NotInjected, with the reason', async () => {
    const { store } = rig;
    await store.create(
      KEYS.httpchaos,
      chaosObject('HTTPChaos', NS, 'abort', {
        mode: 'all',
        selector: { labelSelectors: { app: 'server' } },
        target: 'Request',
        port: 8080,
        abort: true,
      }),
    );
    const chaos = await until('status', () => {
      const o = store.get(KEYS.httpchaos, NS, 'abort');
      return conditionOf(o, 'AllInjected') ? o : undefined;
    });
    expect(conditionOf(chaos, 'AllInjected')).to.equal('False');
    expect(recordsOf(chaos)[0]).to.include({ phase: 'NotInjected', injectedCount: 0 });
    expect((await get(fetchUrl)).status).to.equal(200);
    await store.delete(KEYS.httpchaos, NS, 'abort');
  });
});
