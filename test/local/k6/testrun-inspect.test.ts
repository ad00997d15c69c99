// The TestRun controller with pod logs wired (as the operator reads its initializer's `k6 inspect` output through
// pods/log), on a store + kubelet + network rig without the mesh: more runners than the script's maxVUs ends in
// "error", as the operator's RunValidations decides; enough VUs moves on. Every process is gone at the end.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { RESOURCES, startControllers } from '../../../clusters/local/controllers/index.js';
import { isAlive, startKubelet } from '../../../clusters/local/kubelet/index.js';
import { startNetwork } from '../../../clusters/local/network/index.js';
import { createBundler, createDefaultImageRegistry } from '../../../clusters/local/programs/index.js';
import { createMemoryStore } from '../../../clusters/local/store/index.js';
import { generateK6Script } from '../../../harness/load/k6/script.js';
import { makeProfile } from '../../load/support.js';
import { until } from '../support/index.js';

describe('k6-operator TestRun: the initializer inspection (pod logs wired)', function () {
  this.timeout(60_000);

  it('refuses more runners than maxVUs, and accepts as many', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdrill-k6-inspect-'));
    const store = createMemoryStore({ gracefulPodDeletion: true });
    const network = startNetwork({ store, dnsFile: join(dir, 'cluster-dns.json') });
    const kubelet = await startKubelet({
      store,
      images: createDefaultImageRegistry(),
      bundler: createBundler(join(dir, 'bin')),
      workDir: dir,
      clusterDnsFile: join(dir, 'cluster-dns.json'),
      backoffScale: 0.02,
    });
    const controllers = startControllers({
      store,
      podLogs: (ns, pod, container) => kubelet.readLog(ns, pod, { container }),
    });
    const pids = new Set<number>();
    try {
      const script = generateK6Script(makeProfile({ rate: 5, maxDurationMs: 1000, maxInFlight: 2 }), []);
      await store.create(RESOURCES.configmaps, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'script', namespace: 'default' },
        data: { 'script.js': script },
      });
      const testRun = (name: string, parallelism: number) => ({
        apiVersion: 'k6.io/v1alpha1',
        kind: 'TestRun',
        metadata: { name, namespace: 'default' },
        spec: {
          parallelism,
          script: { configMap: { name: 'script', file: 'script.js' } },
          runner: { image: 'grafana/k6' },
        },
      });
      const stage = (name: string): string | undefined =>
        (store.get(RESOURCES.testruns, 'default', name)?.status as { stage?: string } | undefined)?.stage;
      const sample = setInterval(() => {
        for (const p of kubelet.pids()) pids.add(p);
      }, 50);
      try {
        await store.create(RESOURCES.testruns, testRun('too-many', 3));
        await store.create(RESOURCES.testruns, testRun('enough', 2));
        await until('too-many in error', () => stage('too-many') === 'error', 30_000);
        await until(
          'enough: two paused runners running',
          () =>
            ['created', 'started'].includes(stage('enough') ?? '') &&
            store
              .list(RESOURCES.pods, { namespace: 'default', labelSelector: 'k6_cr=enough,runner=true' })
              .items.filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running')
              .length === 2,
          30_000,
        );
        // The paused runners live until the TestRun goes: their processes must go with it.
        for (const pod of store.list(RESOURCES.pods, { namespace: 'default' }).items) {
          for (const pid of kubelet.worker('default', pod.metadata.name)?.pids() ?? []) pids.add(pid);
        }
        expect(store.get(RESOURCES.jobs, 'default', 'too-many-1')).to.equal(undefined);
        const events = store.list(RESOURCES.events, { namespace: 'default' }).items as unknown as {
          reason: string;
          message: string;
        }[];
        expect(events.map((e) => e.message).join('\n')).to.match(
          /number of instances > number of VUs: parallelism 3, maxVUs 2/,
        );
      } finally {
        clearInterval(sample);
        for (const name of ['too-many', 'enough'])
          await store.delete(RESOURCES.testruns, 'default', name).catch(() => undefined);
      }
      await until("the runs' pods gone", () => store.list(RESOURCES.pods).items.length === 0, 20_000);
      expect(pids.size).to.be.at.least(2);
      await until('no process left', () => [...pids].every((p) => !isAlive(p)), 10_000);
    } finally {
      controllers.stop();
      await kubelet.stop();
      await network.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
