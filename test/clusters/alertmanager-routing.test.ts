// The routing read from a running Alertmanager's configuration (`/api/v2/status` config.original): the delay
// bound is the longest group_wait/group_interval anywhere in the route tree, with Alertmanager's defaults
// inherited where unset, and receivers without an integration are named (they page nobody).

import { expect } from 'chai';
import { parsePrometheusDuration, readAlertmanagerRouting } from '../../clusters/shared/index.js';

describe('Alertmanager routing read from its configuration', () => {
  it("uses Alertmanager's defaults (30s, 5m) where the configuration sets neither", () => {
    const routing = readAlertmanagerRouting(
      'route: {receiver: pager}\nreceivers: [{name: pager, webhook_configs: [{url: "http://x"}]}]\n',
    );
    expect(routing).to.deep.equal({ routingDelayMs: 300_000, silentReceivers: [] });
  });

  it('takes the longest delay of any route, children inheriting their parent', () => {
    const config = `
route:
  receiver: pager
  group_wait: 10s
  group_interval: 10s
  routes:
    - matchers: ['severity="ticket"']
      receiver: tickets
      group_wait: 1m
      routes:
        - matchers: ['team="db"']
          receiver: tickets
    - matchers: ['alertname="Watchdog"']
      receiver: blackhole
receivers:
  - name: pager
    pagerduty_configs: [{ routing_key: x }]
  - name: tickets
    email_configs: []
  - name: blackhole
`;
    const routing = readAlertmanagerRouting(config);
    expect(routing.routingDelayMs).to.equal(60_000);
    expect(routing.silentReceivers).to.deep.equal(['tickets', 'blackhole']);
    // Negative control: without the child's 1m, the bound is the root's 10s.
    expect(
      readAlertmanagerRouting(config.replace('group_wait: 1m', 'group_wait: 5s')).routingDelayMs,
    ).to.equal(10_000);
  });

  it('reads the duration syntax Alertmanager accepts, and refuses what it is not', () => {
    expect(parsePrometheusDuration('1h30m')).to.equal(5_400_000);
    expect(parsePrometheusDuration('500ms')).to.equal(500);
    expect(parsePrometheusDuration('1w')).to.equal(604_800_000);
    expect(parsePrometheusDuration('1.5s')).to.equal(undefined);
    expect(() => readAlertmanagerRouting('route: {receiver: a, routes: [{group_interval: soon}]}')).to.throw(
      'route.routes[0].group_interval: expected a duration like "30s", got "soon"',
    );
    expect(() => readAlertmanagerRouting('receivers: []')).to.throw('no `route`');
  });
});
