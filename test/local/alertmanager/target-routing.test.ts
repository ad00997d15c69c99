// The local target runs each scenario routing it is given in an Alertmanager of its own beside its own one:
// Prometheus sends to both (as a Prometheus with two Alertmanagers does), the environment names the routing's
// Alertmanager with the delay its configuration gives, and teardown leaves no Alertmanager behind.

import { expect } from 'chai';
import type { AlertmanagerRoutingFile } from '../../../harness/model/index.js';
import { type Booted, bootTarget, until } from '../support/index.js';

const ROUTING: AlertmanagerRoutingFile = {
  id: 'r-00aa11bb22cc',
  file: '/scenarios/alertmanager/team.yaml',
  yaml: [
    'route: { receiver: oncall, group_wait: 3s, group_interval: 7s }',
    'receivers: [{ name: oncall, pagerduty_configs: [{ routing_key: x }] }, { name: blackhole }]',
  ].join('\n'),
  receivers: ['oncall', 'blackhole'],
};

describe('local target: a scenario routing gets its own Alertmanager', function () {
  this.timeout(120_000);
  let booted: Booted | undefined;

  after(async () => {
    await booted?.stop();
  });

  it('runs it beside the target one, Prometheus sends to both, and teardown leaves neither alive', async () => {
    booted = await bootTarget({ dirPrefix: 'meshdrill-routing-', routings: [ROUTING] });
    const am = booted.env.alertmanager;
    const routed = am?.routings?.[ROUTING.id];
    expect(routed?.routingDelayMs).to.equal(7000);
    expect(routed?.silentReceivers).to.deep.equal(['blackhole']);
    expect(routed?.url).to.not.equal(am?.url);
    const status = (await fetch(`${routed?.url}/api/v2/status`).then((r) => r.json())) as {
      config: { original: string };
    };
    expect(status.config.original).to.include(`${am?.receiverUrl}/hook/${ROUTING.id}/oncall`);
    // Prometheus discovers its Alertmanagers in the background, a moment after it is ready.
    const want = [new URL(am?.url ?? '').host, new URL(routed?.url ?? '').host].sort();
    const hosts = await until(
      'Prometheus to know both Alertmanagers',
      async () => {
        const body = (await fetch(`${booted?.env.prometheusUrl}/api/v1/alertmanagers`).then((r) =>
          r.json(),
        )) as {
          data: { activeAlertmanagers: { url: string }[] };
        };
        const seen = body.data.activeAlertmanagers.map((a) => new URL(a.url).host).sort();
        return seen.length >= want.length ? seen : undefined;
      },
      20_000,
      { intervalMs: 250 },
    );
    expect(hosts).to.deep.equal(want);
    const { target } = booted;
    await booted.stop();
    booted = undefined;
    expect(target.lastTeardown?.survivors).to.deep.equal([]);
    expect(target.lastTeardown?.pids.length).to.be.greaterThan(2);
  });
});
