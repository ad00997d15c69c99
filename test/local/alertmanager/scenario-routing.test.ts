// A scenario's own Alertmanager routing, run by the real Alertmanager beside the target's: the team's receivers
// (a PagerDuty pager, a Slack channel) are replaced by meshdrill's webhook, so nobody is paged and the rendered
// file still passes the real `amtool check-config`; the team's inhibition decides (the cause holds the symptom's
// page back — the negative control: the target's routing, without that rule, delivers the same page); a receiver
// without integration pages nobody; and each notification port reads only its own Alertmanager's deliveries.

import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  type AlertmanagerInstance,
  type NotificationReceiver,
  startAlertmanager,
  startNotificationReceiver,
} from '../../../clusters/local/alertmanager/index.js';
import { isAlive } from '../../../clusters/local/kubelet/index.js';
import {
  ALERTMANAGER_ROUTING_DELAY_MS,
  renderScenarioRouting,
} from '../../../clusters/shared/alertmanager/config.js';
import { readAlertmanagerRouting } from '../../../clusters/shared/alertmanager/routing.js';
import { run } from '../../../harness/exec/index.js';
import type { ConditionSpec } from '../../../harness/model/index.js';
import {
  type ConditionContext,
  createNotificationPort,
  evaluateCondition,
} from '../../../harness/signals/index.js';
import { until } from '../support/index.js';

const TEAM_ROUTING = `
global:
  resolve_timeout: 5m
  slack_api_url: https://hooks.slack.example/services/T000/B000/XXXX
templates: ['/etc/alertmanager/templates/*.tmpl']
route:
  receiver: mesh-tickets
  group_by: [alertname, destination_service_namespace]
  group_wait: 2s
  group_interval: 4s
  repeat_interval: 1h
  routes:
    - matchers: ['severity="page"']
      receiver: mesh-oncall
    - matchers: ['severity="debug"']
      receiver: blackhole
receivers:
  - name: mesh-oncall
    pagerduty_configs: [{ routing_key: not-a-real-key }]
  - name: mesh-tickets
    slack_configs: [{ channel: '#mesh' }]
  - name: blackhole
inhibit_rules:
  # The cause pages; the symptoms it explains are held back.
  - source_matchers: ['alertname="IstioWorkloadCertExpired"']
    target_matchers: ['alertname="ErrorBudgetBurnFast"']
`;
const ROUTING = { id: 'r-0123456789ab', yaml: TEAM_ROUTING };

describe("a scenario's own Alertmanager routing through the real Alertmanager", function () {
  this.timeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'meshdrill-routing-'));
  let receiver: NotificationReceiver;
  let team: AlertmanagerInstance;
  let target: AlertmanagerInstance;
  let teamCtx: ConditionContext;
  let targetCtx: ConditionContext;

  const contextFor = (am: AlertmanagerInstance, routing?: string): ConditionContext => ({
    kube: undefined as never,
    prometheus: undefined as never,
    ingressUrl: '',
    runCommand: undefined as never,
    notifications: createNotificationPort({
      alertmanagerUrl: am.url,
      receiverUrl: receiver.url,
      ...(routing
        ? { routing, ...readAlertmanagerRouting(TEAM_ROUTING) }
        : { routingDelayMs: ALERTMANAGER_ROUTING_DELAY_MS }),
    }),
    since: Date.now() - 1000,
  });
  /** Prometheus sends every alert to every Alertmanager it knows: so does this. */
  const post = async (labels: Record<string, string>): Promise<void> => {
    for (const am of [team, target]) {
      const response = await fetch(`${am.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ labels, startsAt: new Date().toISOString() }]),
      });
      expect(response.status).to.equal(200);
    }
  };
  const delivered = (ctx: ConditionContext, spec: Extract<ConditionSpec, { kind: 'notification' }>) =>
    until(
      `${spec.alert} delivered to ${spec.receiver}`,
      async () => {
        const r = await evaluateCondition(spec, ctx);
        return r.fired ? r : undefined;
      },
      30_000,
      { intervalMs: 200 },
    );

  before(async () => {
    receiver = await startNotificationReceiver();
    team = await startAlertmanager({ workDir: dir, webhookBaseUrl: receiver.url, routing: ROUTING });
    target = await startAlertmanager({ workDir: dir, webhookBaseUrl: receiver.url });
    teamCtx = contextFor(team, ROUTING.id);
    targetCtx = contextFor(target);
  });

  after(async () => {
    const pids = [team?.pid, target?.pid];
    await team?.stop();
    await target?.stop();
    await receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
    for (const pid of pids)
      if (pid !== undefined) expect(isAlive(pid), `alertmanager ${pid} stopped`).to.equal(false);
  });

  it('replaces every integration by the webhook, keeps a receiver without one silent, and amtool accepts it', async () => {
    const file = join(dir, `alertmanager-${ROUTING.id}`, 'alertmanager.yml');
    const rendered = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(rendered).to.not.have.any.keys('global', 'templates');
    expect(rendered.receivers).to.deep.equal([
      {
        name: 'mesh-oncall',
        webhook_configs: [{ url: `${receiver.url}/hook/${ROUTING.id}/mesh-oncall`, send_resolved: true }],
      },
      {
        name: 'mesh-tickets',
        webhook_configs: [{ url: `${receiver.url}/hook/${ROUTING.id}/mesh-tickets`, send_resolved: true }],
      },
      { name: 'blackhole' },
    ]);
    expect(JSON.stringify(rendered)).to.not.include('not-a-real-key');
    const checked = await run('amtool', ['check-config', file]);
    expect(checked.exitCode, checked.stdout + checked.stderr).to.equal(0);
    // The check's control: amtool refuses a routing that names a receiver it does not define.
    const original = join(dir, 'team.yml');
    writeFileSync(original, TEAM_ROUTING.replace('receiver: mesh-tickets', 'receiver: nobody'));
    expect((await run('amtool', ['check-config', original])).exitCode).to.not.equal(0);
    expect(renderScenarioRouting(ROUTING, receiver.url)).to.include('matchers:');
  });

  it("routes by the team's tree: the page to mesh-oncall, and each port sees only its own Alertmanager's deliveries", async () => {
    const labels = {
      destination_service_namespace: 'drill-a',
      destination_service_name: 'shop',
      severity: 'page',
    };
    await post({ alertname: 'ErrorBudgetBurnFast', ...labels });
    const page = await delivered(teamCtx, {
      kind: 'notification',
      alert: 'ErrorBudgetBurnFast',
      labels,
      receiver: 'mesh-oncall',
    });
    expect(page.evidence).to.match(/^delivered to mesh-oncall at /);
    const byTarget = await delivered(targetCtx, {
      kind: 'notification',
      alert: 'ErrorBudgetBurnFast',
      labels,
      receiver: 'meshdrill',
    });
    expect(byTarget.evidence).to.match(/^delivered to meshdrill at /);
    // The target's routing has no mesh-oncall, and the team's no meshdrill: neither port reads the other's.
    const crossed = await evaluateCondition(
      { kind: 'notification', alert: 'ErrorBudgetBurnFast', labels, receiver: 'meshdrill' },
      teamCtx,
    );
    expect(crossed.fired).to.equal(false);
  });

  it("holds the symptom's page back while the cause fires (inhibited); the target's routing, without the rule, delivers it", async () => {
    const labels = {
      destination_service_namespace: 'drill-b',
      destination_service_name: 'shop',
      severity: 'page',
    };
    await post({ alertname: 'IstioWorkloadCertExpired', severity: 'page' });
    // The cause reaches Alertmanager first, as a cert-expiry drill's does (≈1 s after the fault, the page ≈10 s).
    await delivered(teamCtx, {
      kind: 'notification',
      alert: 'IstioWorkloadCertExpired',
      receiver: 'mesh-oncall',
    });
    await post({ alertname: 'ErrorBudgetBurnFast', ...labels });
    const control = await delivered(targetCtx, {
      kind: 'notification',
      alert: 'ErrorBudgetBurnFast',
      labels,
    });
    expect(control.evidence).to.match(/^delivered to meshdrill/);
    const held = await evaluateCondition(
      { kind: 'notification', alert: 'ErrorBudgetBurnFast', labels },
      teamCtx,
    );
    expect(held.fired).to.equal(false);
    expect(held.evidence).to.equal('ErrorBudgetBurnFast fires but Alertmanager holds it back: inhibited');
  });

  it('pages nobody for an alert routed to a receiver without integration', async () => {
    const labels = { destination_service_namespace: 'drill-c', severity: 'debug' };
    await post({ alertname: 'DebugOnly', ...labels });
    // The same alert reaches the target's receiver: so it did reach Alertmanager, and time enough passed.
    await delivered(targetCtx, { kind: 'notification', alert: 'DebugOnly', labels });
    const routed = await evaluateCondition({ kind: 'notification', alert: 'DebugOnly', labels }, teamCtx);
    expect(routed.fired).to.equal(false);
    expect(routed.evidence).to.include('blackhole');
  });
});
