// A notification signal against an Alertmanager meshdrill did not configure (the user's own, on existing): the
// delivery is not observable, so it counts as "routed" only for an alert Alertmanager holds active — neither
// inhibited nor silenced — for a receiver with an integration, and only once the routing delay has passed since
// a poll first saw it; the evidence says the delivery was not observed. Against a v2 API stand-in.

import { expect } from 'chai';
import type { KubeClient } from '../../harness/kube/index.js';
import type { ConditionSpec } from '../../harness/model/index.js';
import {
  type ConditionContext,
  type PrometheusClient,
  createNotificationPort,
  evaluateCondition,
} from '../../harness/signals/index.js';
import { type FakeAlertmanager, startFakeAlertmanager } from '../support/fake-alertmanager.js';

const SPEC: ConditionSpec = {
  kind: 'notification',
  alert: 'ErrorBudgetBurnFast',
  labels: { destination_service_name: 'shop' },
};
const LABELS = { alertname: 'ErrorBudgetBurnFast', destination_service_name: 'shop', severity: 'page' };

describe('notification signals judged from Alertmanager routing (delivery not observed)', () => {
  let am: FakeAlertmanager;
  const since = Date.now() - 60_000;
  const startsAt = new Date(since + 10_000).toISOString();

  beforeEach(async () => {
    am = await startFakeAlertmanager('route: {receiver: pager}\nreceivers: [{name: pager}]\n');
  });
  afterEach(() => am.stop());

  function contextFor(routingDelayMs: number, silentReceivers: string[] = []): ConditionContext {
    return {
      kube: {} as KubeClient,
      prometheus: {} as PrometheusClient,
      ingressUrl: 'http://127.0.0.1:1',
      runCommand: () => Promise.reject(new Error('not used')),
      notifications: createNotificationPort({ alertmanagerUrl: am.url, routingDelayMs, silentReceivers }),
      since,
    };
  }

  it('counts an active alert as routed once the routing delay passed since it was first seen', async () => {
    am.alerts.push({ labels: LABELS, startsAt, receivers: ['pager'] });
    const ctx = contextFor(300);
    const before = Date.now();
    const first = await evaluateCondition(SPEC, ctx);
    const afterFirst = Date.now();
    expect(first.fired).to.equal(false);
    expect(first.evidence).to.match(/active in Alertmanager for pager, first seen .*: counts as routed at/);
    await new Promise((r) => setTimeout(r, 350));
    const later = await evaluateCondition(SPEC, ctx);
    expect(later.fired).to.equal(true);
    expect(later.evidence).to.match(/^routed to pager by .* \(delivery not observed\)/);
    // Timed at the latest Alertmanager would send it: first sight plus the delay, not the poll that fired.
    // (The later poll ran at least 350 ms after the first one returned, so a poll-timed value falls outside.)
    expect(later.at).to.be.within(before + 300, afterFirst + 300);
    expect(
      am.requests.every((r) => r.startsWith('/api/v2/alerts?filter=alertname%3D%22ErrorBudgetBurnFast%22')),
    ).to.equal(true);
  });

  it('does not count an inhibited alert, an episode older than the drill, or a receiver without integration', async () => {
    const ctx = contextFor(0, ['blackhole']);
    am.alerts.push({
      labels: LABELS,
      startsAt,
      receivers: ['pager'],
      state: 'suppressed',
      inhibitedBy: ['f1'],
    });
    const inhibited = await evaluateCondition(SPEC, ctx);
    expect(inhibited).to.deep.include({
      fired: false,
      evidence: 'ErrorBudgetBurnFast fires but Alertmanager holds it back: inhibited',
    });

    am.alerts.splice(0, 1, {
      labels: LABELS,
      startsAt: new Date(since - 1000).toISOString(),
      receivers: ['pager'],
    });
    const old = await evaluateCondition(SPEC, ctx);
    expect(old.fired).to.equal(false);
    expect(old.evidence).to.include('before the drill began');

    am.alerts.splice(0, 1, { labels: LABELS, startsAt, receivers: ['blackhole'] });
    const nowhere = await evaluateCondition(SPEC, ctx);
    expect(nowhere.fired).to.equal(false);
    expect(nowhere.evidence).to.include(
      'active in Alertmanager for blackhole, not for a receiver with an integration',
    );

    // Negative control: the same alert routed to a receiver that notifies counts.
    am.alerts.splice(0, 1, { labels: LABELS, startsAt, receivers: ['pager'] });
    expect((await evaluateCondition(SPEC, ctx)).fired).to.equal(true);
  });

  it('honours the receiver a signal names, and the labels', async () => {
    const ctx = contextFor(0);
    am.alerts.push({ labels: LABELS, startsAt, receivers: ['tickets'] });
    expect((await evaluateCondition({ ...SPEC, receiver: 'pager' }, ctx)).fired).to.equal(false);
    expect(
      (await evaluateCondition({ ...SPEC, labels: { destination_service_name: 'cart' } }, ctx)).fired,
    ).to.equal(false);
    expect((await evaluateCondition({ ...SPEC, receiver: 'tickets' }, ctx)).fired).to.equal(true);
  });
});
