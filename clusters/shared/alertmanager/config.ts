// The Alertmanager configuration meshdrill runs (pure): every alert goes to meshdrill's own webhook receiver,
// never to a real pager, grouped and inhibited as an on-call routing usually is, so a drill measures when a page
// would reach a person, not only when the rule fires. Checked with the real `amtool check-config` in tests.

import { parse, stringify } from 'yaml';

/** The receiver every notification goes to; a `notification` signal names it (or any receiver). */
export const MESHDRILL_RECEIVER = 'meshdrill';

/**
 * Routing timings. group_wait holds the first notification of a new group (Alertmanager's default is 30 s);
 * group_interval paces a group already alive (default 5 m): an alert joining a group an earlier variant left
 * alive — a group lives until its resolved notification went out — is delivered at the group's next tick, up to
 * group_interval later. Both are 10 s so drills stay short and a page's delay has one bound, whichever group it
 * lands in: every notification signal's detection floor adds ALERTMANAGER_ROUTING_DELAY_MS and says so.
 */
export const ALERTMANAGER_ROUTING = {
  groupWaitMs: 10_000,
  groupIntervalMs: 10_000,
  repeatIntervalMs: 3_600_000,
  groupBy: ['alertname', 'namespace', 'destination_service_namespace'],
} as const;

/** The longest Alertmanager holds a notification once the alert reached it (a new group or a live one). */
export const ALERTMANAGER_ROUTING_DELAY_MS = Math.max(
  ALERTMANAGER_ROUTING.groupWaitMs,
  ALERTMANAGER_ROUTING.groupIntervalMs,
);

/**
 * The inhibition the SRE guide's burn-rate pair implies: while the fast burn pages for a service, its slower
 * ticket for the same service is held back (one incident, one notification).
 */
export const INHIBIT_RULES = [
  {
    source_matchers: ['alertname="ErrorBudgetBurnFast"'],
    target_matchers: ['alertname="ErrorBudgetBurnSustained"'],
    equal: ['destination_service_namespace', 'destination_service_name'],
  },
];

const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`;

/** alertmanager.yml: one route to meshdrill's webhook at `webhookBaseUrl` + `/hook/<receiver>`. */
export function buildAlertmanagerConfig(webhookBaseUrl: string): string {
  const base = webhookBaseUrl.replace(/\/+$/, '');
  return stringify({
    route: {
      receiver: MESHDRILL_RECEIVER,
      group_by: [...ALERTMANAGER_ROUTING.groupBy],
      group_wait: seconds(ALERTMANAGER_ROUTING.groupWaitMs),
      group_interval: seconds(ALERTMANAGER_ROUTING.groupIntervalMs),
      repeat_interval: seconds(ALERTMANAGER_ROUTING.repeatIntervalMs),
    },
    receivers: [
      {
        name: MESHDRILL_RECEIVER,
        webhook_configs: [{ url: `${base}/hook/${MESHDRILL_RECEIVER}`, send_resolved: true }],
      },
    ],
    inhibit_rules: INHIBIT_RULES,
  });
}

/** Keys of a scenario's routing that meshdrill keeps: what decides whether and when a notification is sent. */
const ROUTING_KEYS = ['route', 'inhibit_rules', 'time_intervals', 'mute_time_intervals'] as const;

/** Where meshdrill's receiver takes the notifications of one scenario routing's receiver. */
export function routingHookPath(routingId: string, receiver: string): string {
  return `/hook/${encodeURIComponent(routingId)}/${encodeURIComponent(receiver)}`;
}

/**
 * A scenario's own alertmanager.yml made safe to run: its routing, grouping, inhibition and time intervals kept as
 * written; every receiver that has an integration (pagerduty_configs, slack_configs …) gets meshdrill's webhook
 * instead — `/hook/<routing id>/<receiver>` — so a drill measures the team's routing without paging anyone; a
 * receiver without integration stays without (routing there pages nobody, in the drill as in production).
 * `global` and `templates` go: they only shape what the replaced integrations would have sent.
 */
export function renderScenarioRouting(routing: { id: string; yaml: string }, webhookBaseUrl: string): string {
  const base = webhookBaseUrl.replace(/\/+$/, '');
  const source = (parse(routing.yaml) ?? {}) as Record<string, unknown>;
  const receivers = Array.isArray(source.receivers) ? (source.receivers as Record<string, unknown>[]) : [];
  const kept = Object.fromEntries(ROUTING_KEYS.filter((k) => k in source).map((k) => [k, source[k]]));
  return stringify({
    ...kept,
    receivers: receivers.map((r) => {
      const name = String(r?.name ?? '');
      const integrated = Object.entries(r ?? {}).some(
        ([key, value]) => key.endsWith('_configs') && Array.isArray(value) && value.length > 0,
      );
      return integrated
        ? {
            name,
            webhook_configs: [{ url: `${base}${routingHookPath(routing.id, name)}`, send_resolved: true }],
          }
        : { name };
    }),
  });
}
