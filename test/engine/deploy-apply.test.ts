// The deploy phase's applies wait out an admission webhook the API server cannot reach (istiod restarting after
// an earlier drill), bounded by the phase's signal; any other refusal fails at once.

import { expect } from 'chai';
import { applyAll, isWebhookUnavailable } from '../../harness/engine/deploy.js';
import type { KubeClient } from '../../harness/kube/index.js';
import { MeshdrillError, type KubeObject } from '../../harness/model/index.js';

const WEBHOOK_DOWN =
  'applying Gateway drill/shop: the API server answered 500: Internal error occurred: failed calling webhook "validation.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/validate?timeout=10s": no endpoints available for service "istiod"';

const gateway: KubeObject = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'Gateway',
  metadata: { name: 'shop', namespace: 'drill' },
};

/** A client whose apply fails with `errors` in turn, then succeeds; it counts the calls. */
function flakyKube(errors: string[]): KubeClient & { calls: number } {
  const kube = {
    calls: 0,
    async apply(object: KubeObject) {
      kube.calls++;
      const next = errors.shift();
      if (next) throw new MeshdrillError('environment', next);
      return object;
    },
  };
  return kube as unknown as KubeClient & { calls: number };
}

describe('deploy: applying the workload', () => {
  it('recognises the API server’s unreachable-webhook answer and nothing else', () => {
    expect(isWebhookUnavailable(new Error(WEBHOOK_DOWN))).to.equal(true);
    expect(
      isWebhookUnavailable(new Error('the API server answered 422: spec.hosts: Required value')),
    ).to.equal(false);
    expect(isWebhookUnavailable('failed calling webhook')).to.equal(false);
  });

  it('retries while the webhook is unreachable, tells once, and applies when it answers', async () => {
    const kube = flakyKube([WEBHOOK_DOWN, WEBHOOK_DOWN, WEBHOOK_DOWN]);
    const waits: string[] = [];
    const applied = await applyAll(kube, [gateway], {
      signal: new AbortController().signal,
      retryPollMs: 5,
      onWebhookWait: (object) => waits.push(object),
    });
    expect(kube.calls).to.equal(4);
    expect(applied).to.deep.equal(['Gateway drill/shop']);
    expect(waits).to.deep.equal(['Gateway drill/shop']);
  });

  it('gives up with the webhook’s own error when the phase deadline aborts the wait', async () => {
    const kube = flakyKube(Array.from({ length: 1000 }, () => WEBHOOK_DOWN));
    const error = await applyAll(kube, [gateway], { signal: AbortSignal.timeout(60), retryPollMs: 5 }).catch(
      (e: Error) => e,
    );
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.contain('no endpoints available for service "istiod"');
    expect(kube.calls).to.be.greaterThan(1).and.lessThan(1000);
  });

  it('fails at once on any other refusal (an invalid object is the scenario’s fault, not the cluster’s)', async () => {
    const kube = flakyKube(['the API server answered 422: spec.servers: Required value']);
    const error = await applyAll(kube, [gateway], {
      signal: new AbortController().signal,
      retryPollMs: 5,
    }).catch((e: Error) => e);
    expect((error as Error).message).to.contain('422');
    expect(kube.calls).to.equal(1);
  });
});
