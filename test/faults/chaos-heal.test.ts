// Undoing a Chaos Mesh fault on a shared component waits until the pods it hit are Ready again, so the next drill
// starts on a healed control plane; pods in the drill's own namespace are not waited for (it is deleted next).

import { expect } from 'chai';
import { sharedPodSelection, waitForPodsReady } from '../../harness/faults/chaos-heal.js';
import { injectFault } from '../../harness/faults/index.js';
import type { KubeClient, ListQuery, ObjectKey } from '../../harness/kube/index.js';
import type { KubeObject } from '../../harness/model/index.js';

const podFailure = (namespace: string | undefined, selector: Record<string, unknown>): KubeObject => ({
  apiVersion: 'chaos-mesh.org/v1alpha1',
  kind: 'PodChaos',
  metadata: { name: 'istiod-pod-failure', ...(namespace ? { namespace } : {}) },
  spec: { action: 'pod-failure', mode: 'all', duration: '10m', selector },
});

const pod = (name: string, ready: boolean): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'istio-system', labels: { app: 'istiod' } },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

/** istiod's pod, not Ready while a PodChaos exists and for `healMs` after it is deleted. */
function clusterWithFailingIstiod(healMs: number) {
  const objects = new Map<string, KubeObject>();
  const calls: string[] = [];
  let healedAt = Number.POSITIVE_INFINITY;
  const key = (k: ObjectKey) => `${k.kind}/${k.namespace ?? ''}/${k.name}`;
  const kube = {
    async apply(object: KubeObject) {
      calls.push(`apply ${object.kind}`);
      objects.set(
        key({ ...object.metadata, kind: object.kind, apiVersion: object.apiVersion } as ObjectKey),
        object,
      );
      return object;
    },
    async get(k: ObjectKey) {
      return objects.get(key(k));
    },
    async delete(k: ObjectKey) {
      calls.push(`delete ${k.kind}`);
      healedAt = Date.now() + healMs;
      return objects.delete(key(k));
    },
    async list(_apiVersion: string, kind: string, query?: ListQuery) {
      calls.push(`list ${kind} ${query?.namespace} ${query?.labelSelector}`);
      return kind === 'Pod' && query?.namespace === 'istio-system'
        ? [pod('istiod-1', Date.now() >= healedAt)]
        : [];
    },
  } as unknown as KubeClient;
  return { kube, calls };
}

describe('chaos faults on shared components heal before the next drill', () => {
  it('selects the pods a chaos object hits outside the drill namespace', () => {
    expect(
      sharedPodSelection(
        podFailure('istio-system', { namespaces: ['istio-system'], labelSelectors: { app: 'istiod' } }),
        'drill-x',
      ),
    ).to.deep.equal({
      namespaces: ['istio-system'],
      labelSelector: 'app=istiod',
    });
    // Chaos Mesh's default: the chaos object's own namespace
    expect(
      sharedPodSelection(
        podFailure('istio-system', { labelSelectors: { app: 'istiod', version: 'v1' } }),
        'drill-x',
      ),
    ).to.deep.equal({
      namespaces: ['istio-system'],
      labelSelector: 'app=istiod,version=v1',
    });
    // the drill's own pods: nothing to wait for; a selector without labels: none that can be listed
    expect(
      sharedPodSelection(podFailure(undefined, { labelSelectors: { app: 'shop' } }), 'drill-x'),
    ).to.equal(undefined);
    expect(
      sharedPodSelection(podFailure('istio-system', { namespaces: ['istio-system'] }), 'drill-x'),
    ).to.equal(undefined);
  });

  it('the undo returns only once istiod is Ready again', async () => {
    const { kube, calls } = clusterWithFailingIstiod(300);
    const fault = await injectFault(
      {
        kind: 'chaos-mesh',
        manifest: podFailure('istio-system', {
          namespaces: ['istio-system'],
          labelSelectors: { app: 'istiod' },
        }),
      },
      { kube, runId: 'r1', scenario: 'istiod-crash', defaultNamespace: 'drill-istiod-crash' },
    );
    const started = Date.now();
    await fault.revert();
    expect(Date.now() - started).to.be.at.least(250);
    expect(calls[0]).to.equal('apply PodChaos');
    expect(calls.indexOf('delete PodChaos')).to.be.lessThan(
      calls.indexOf('list Pod istio-system app=istiod'),
    );
    expect(calls.filter((c) => c.startsWith('list Pod')).length).to.be.greaterThan(1);
  });

  it('says which pods did not come back, and how to look, when they stay not Ready', async () => {
    const { kube } = clusterWithFailingIstiod(Number.POSITIVE_INFINITY);
    const error = await waitForPodsReady(
      kube,
      { namespaces: ['istio-system'], labelSelector: 'app=istiod' },
      { timeoutMs: 150, pollMs: 20 },
    ).catch((e: Error) => e);
    expect((error as Error).message).to.contain('istiod-1: Running, not Ready');
    expect((error as Error).message).to.contain('kubectl -n istio-system get pods -l app=istiod');
  });
});
