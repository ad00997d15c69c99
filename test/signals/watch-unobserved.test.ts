// A watch ends with its budget even when its source stops answering (a Prometheus or Alertmanager starved of CPU):
// the hung poll is cut off, and a miss whose last seconds nobody observed is inconclusive, not "did not fire".
// The controls: a source that answers "not firing" to the end gives a plain miss, and one that answers "firing"
// is a detection whatever came before.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { silentAssertion, watchedAssertion } from '../../harness/engine/phases/judge.js';
import type { KubeClient } from '../../harness/kube/index.js';
import type { ConditionSpec } from '../../harness/model/index.js';
import {
  type ConditionContext,
  createPrometheusClient,
  POLL_GRACE_MS,
  waitForCondition,
} from '../../harness/signals/index.js';

const ITEM = { name: 'errors-visible', withinMs: 1500 };
const SPEC: ConditionSpec = { kind: 'promql', query: 'errors > 0' };
const EMPTY = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } });
const FIRING = JSON.stringify({
  status: 'success',
  data: { resultType: 'vector', result: [{ metric: {}, value: [0, '1'] }] },
});

/**
 * A Prometheus stand-in whose n-th query is answered by `answer(n)` after `delayMs`, or never when it gives
 * undefined.
 */
async function prometheusAnswering(answer: (n: number) => string | undefined, delayMs: number) {
  let queries = 0;
  const server = http.createServer((_req, res) => {
    const body = answer(++queries);
    if (body !== undefined) setTimeout(() => res.end(body), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctx: ConditionContext = {
    kube: {} as KubeClient,
    prometheus: createPrometheusClient(url),
    ingressUrl: url,
    runCommand: async () => {
      throw new Error('not used');
    },
  };
  const close = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { ctx, close };
}

async function watch(answer: (n: number) => string | undefined, delayMs = 0) {
  const { ctx, close } = await prometheusAnswering(answer, delayMs);
  const origin = Date.now();
  try {
    const outcome = await waitForCondition(SPEC, ctx, { origin, withinMs: ITEM.withinMs, pollMs: 100 });
    return { outcome, tookMs: Date.now() - origin };
  } finally {
    await close();
  }
}

describe('signals: a watch whose source stops answering', function () {
  this.timeout(20_000);

  it('ends with its budget (plus the poll grace) and calls the unobserved end inconclusive', async () => {
    // Answers three polls, then hangs: the first hung poll would otherwise hold the watch forever.
    const { outcome, tookMs } = await watch((n) => (n <= 3 ? EMPTY : undefined));
    expect(tookMs).to.be.below(1500 + POLL_GRACE_MS + 500);
    expect(outcome.fired).to.equal(false);
    expect(outcome.unobserved).to.match(/^no poll begun after \+0\.\ds answered/);
    const detect = watchedAssertion('signal', ITEM, outcome);
    expect(detect).to.include({ passed: false, inconclusive: true });
    expect(detect.message).to.match(/^INCONCLUSIVE — did not fire within 1\.5s; .* went unobserved$/);
    const silent = silentAssertion(ITEM, outcome);
    expect(silent).to.include({ passed: false, inconclusive: true });
  });

  it('says so when no poll answered at all', async () => {
    const { outcome } = await watch(() => undefined);
    expect(outcome.unobserved).to.match(/^no poll answered within the budget/);
  });

  it('a source that answers "not firing" to the end gives a plain miss (the control)', async () => {
    const { outcome } = await watch(() => EMPTY);
    expect(outcome).to.deep.equal({ fired: false, evidence: 'no samples' });
    const detect = watchedAssertion('signal', ITEM, outcome);
    expect(detect.passed).to.equal(false);
    expect(detect.inconclusive).to.equal(undefined);
    expect(silentAssertion(ITEM, outcome)).to.include({ passed: true });
  });

  it('a slow source that still answers up to the end gives a plain miss, and a detection when it fires', async () => {
    const slow = await watch(() => EMPTY, 300);
    expect(slow.outcome.unobserved).to.equal(undefined);
    const late = await watch((n) => (n >= 3 ? FIRING : EMPTY), 300);
    expect(late.outcome.fired).to.equal(true);
    expect(late.outcome.afterMs).to.be.within(500, 1500);
  });
});
