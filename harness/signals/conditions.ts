// Evaluates a condition once (STYLE.md §3: a registry keyed by kind; a missing handler is a compile error).
// Signals, efficacy checks and the false-positive watch during steady state all go through here.

import { request } from 'undici';
import type { ExecResult } from '../exec/index.js';
import { type KubeClient, readField } from '../kube/index.js';
import type { ConditionKind, ConditionSpec } from '../model/index.js';
import type { AlertmanagerAlert, DeliveredNotification, NotificationPort } from './notifications.js';
import type { FiringAlert, PrometheusClient } from './prometheus.js';

export interface ConditionContext {
  kube: KubeClient;
  prometheus: PrometheusClient;
  ingressUrl: string;
  /** Runs a shell script with the environment pinned to the target. */
  runCommand(script: string, signal?: AbortSignal): Promise<ExecResult>;
  /** What an Alertmanager delivered, where the target runs one (`notification` conditions). */
  notifications?: NotificationPort;
  /** Epoch ms the drill began: a notification counts only for an alert episode that started since. */
  since?: number;
  signal?: AbortSignal;
}

export interface ConditionResult {
  fired: boolean;
  /** What was observed, for the journal and the report. */
  evidence: string;
  /** When it became true, where that is known better than by the poll that saw it (a delivery's arrival). */
  at?: number;
}

type Handler<K extends ConditionKind> = (
  spec: Extract<ConditionSpec, { kind: K }>,
  ctx: ConditionContext,
) => Promise<ConditionResult>;

const MAX_EVIDENCE = 400;
const clip = (text: string): string =>
  text.length > MAX_EVIDENCE ? `${text.slice(0, MAX_EVIDENCE)}…` : text;

const formatValue = (v: number): string =>
  Number.isFinite(v)
    ? Number.isInteger(v)
      ? String(v)
      : v.toPrecision(4)
    : v > 0
      ? '+Inf'
      : v < 0
        ? '-Inf'
        : 'NaN';

/** `{a="1",b="2"}` without the name label (`__name__` for samples, `alertname` for alerts). */
function describeLabels(labels: Record<string, string>, nameLabel?: string): string {
  const pairs = Object.entries(labels)
    .filter(([k]) => k !== nameLabel)
    .map(([k, v]) => `${k}="${v}"`);
  return `{${pairs.join(',')}}`;
}

function describeSamples(samples: { metric: Record<string, string>; value: number }[]): string {
  if (samples.length === 0) return 'no samples';
  return samples
    .slice(0, 3)
    .map((s) => {
      const labels = describeLabels(s.metric, '__name__');
      const name = s.metric.__name__ ?? '';
      return name || labels !== '{}'
        ? `${name}${labels} ${formatValue(s.value)}`
        : `value ${formatValue(s.value)}`;
    })
    .join('; ');
}

function describeAlerts(alerts: FiringAlert[]): string {
  return alerts
    .slice(0, 3)
    .map((a) => `${a.name}${describeLabels(a.labels, 'alertname')}`)
    .join('; ');
}

function compare(
  value: unknown,
  op: Extract<ConditionSpec, { kind: 'kubernetes' }>['op'],
  expected: unknown,
): boolean {
  switch (op) {
    case 'exists':
      return value !== undefined && value !== null;
    case 'absent':
      return value === undefined || value === null;
    case 'matches':
      return new RegExp(String(expected)).test(String(value));
    case '==':
      return String(value) === String(expected);
    case '!=':
      return String(value) !== String(expected);
    default: {
      const a = Number(value);
      const b = Number(expected);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return op === '>' ? a > b : op === '>=' ? a >= b : op === '<' ? a < b : a <= b;
    }
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** What Alertmanager holds of an alert that was not delivered: nothing, or each instance's state and start. */
function describeHeld(held: readonly AlertmanagerAlert[], since: number): string {
  if (held.length === 0) return 'Alertmanager holds no such alert';
  return `Alertmanager holds ${held
    .map(
      (a) =>
        `${a.state} since ${a.startsAt}${Date.parse(a.startsAt) < since ? ` (before the drill began, ${iso(since)})` : ''} for ${a.receivers.join(', ') || 'no receiver'}`,
    )
    .join('; ')}`;
}

/** What the receivers did get for the alert: how many notifications, and the last one. */
function describeReceived(
  received: readonly DeliveredNotification[],
  matches: (labels: Record<string, string>) => boolean,
): string {
  const last = [...received].sort((a, b) => a.receivedAt - b.receivedAt).at(-1);
  if (!last) return 'no receiver got any notification of it';
  const alert = last.alerts.find((a) => matches(a.labels));
  return `${received.length} notification(s) of it received, the last ${last.status} to ${last.receiver} at ${iso(last.receivedAt)}${alert ? ` (episode from ${alert.startsAt})` : ''}`;
}

/**
 * A notification judged from Alertmanager's routing alone, where its deliveries go to receivers meshdrill cannot
 * observe (the user's own). Alertmanager holding the alert active — neither inhibited nor silenced — for a
 * receiver that has an integration means it sends it there within its routing delay (group_wait for a new group,
 * group_interval for a live one) of its arrival. The arrival is not known, only the first poll that saw it, which
 * is no earlier; so the signal counts as routed at that poll plus the routing delay — the latest Alertmanager
 * would send it — and only once that time has passed. That this send reached a pager is not observed, and the
 * evidence says so.
 */
async function judgeRouted(
  spec: Extract<ConditionSpec, { kind: 'notification' }>,
  port: NotificationPort,
  matches: (labels: Record<string, string>) => boolean,
  since: number,
  signal: AbortSignal | undefined,
  now: () => number = Date.now,
): Promise<ConditionResult> {
  const all = (await port.alerts(spec.alert, signal)).filter((a) => matches(a.labels));
  const held = all.filter((a) => Date.parse(a.startsAt) >= since);
  const silent = new Set(port.silentReceivers);
  const pages = (a: AlertmanagerAlert): string[] =>
    a.receivers.filter((r) => !silent.has(r) && (spec.receiver === undefined || r === spec.receiver));
  const routed = held
    .filter((a) => a.state === 'active' && a.firstSeenActiveAt !== undefined && pages(a).length > 0)
    .sort((a, b) => (a.firstSeenActiveAt ?? 0) - (b.firstSeenActiveAt ?? 0))[0];
  if (routed?.firstSeenActiveAt !== undefined) {
    const seen = routed.firstSeenActiveAt;
    const by = seen + port.routingDelayMs;
    const to = pages(routed).join(', ');
    const what = `active in Alertmanager for ${to}, first seen ${iso(seen)}; its routing sends within ${port.routingDelayMs / 1000}s`;
    if (now() < by) return { fired: false, evidence: clip(`${what}: counts as routed at ${iso(by)}`) };
    return {
      fired: true,
      at: by,
      evidence: clip(`routed to ${to} by ${iso(by)} (delivery not observed): ${what}`),
    };
  }
  const suppressed = held.find((a) => a.state === 'suppressed');
  if (suppressed) {
    const how = suppressed.inhibitedBy.length > 0 ? 'inhibited' : 'silenced';
    return { fired: false, evidence: clip(`${spec.alert} fires but Alertmanager holds it back: ${how}`) };
  }
  const elsewhere = held.find((a) => a.state === 'active');
  const wantedReceiver = spec.receiver
    ? `${spec.receiver} (with an integration)`
    : 'a receiver with an integration';
  return {
    fired: false,
    evidence: clip(
      elsewhere
        ? `${spec.alert} is active in Alertmanager for ${elsewhere.receivers.join(', ') || 'no receiver'}, not for ${wantedReceiver}`
        : `no routing of ${spec.alert}${describeLabels(spec.labels ?? {})} (delivery not observable on this target); ${describeHeld(all, since)}`,
    ),
  };
}

const handlers: { [K in ConditionKind]: Handler<K> } = {
  async promql(spec, ctx) {
    const samples = await ctx.prometheus.query(spec.query, ctx.signal);
    return { fired: samples.length > 0, evidence: clip(describeSamples(samples)) };
  },

  async alert(spec, ctx) {
    const firing = await ctx.prometheus.firingAlerts(ctx.signal);
    const wanted = Object.entries(spec.labels ?? {});
    const matches = firing.filter(
      (a) => a.name === spec.alert && wanted.every(([key, value]) => a.labels[key] === value),
    );
    if (matches.length > 0) return { fired: true, evidence: clip(`firing: ${describeAlerts(matches)}`) };
    const elsewhere = firing.filter((a) => a.name === spec.alert);
    return {
      fired: false,
      evidence: clip(
        elsewhere.length > 0
          ? `${spec.alert} fires only for other labels than ${describeLabels(spec.labels ?? {})}: ${describeAlerts(elsewhere)}`
          : firing.length > 0
            ? `${spec.alert} not firing; firing: ${[...new Set(firing.map((a) => a.name))].join(', ')}`
            : 'no alert firing',
      ),
    };
  },

  async notification(spec, ctx) {
    if (!ctx.notifications) return { fired: false, evidence: 'this target runs no Alertmanager' };
    const since = ctx.since ?? 0;
    const wanted = Object.entries({ ...spec.labels, alertname: spec.alert });
    const matches = (labels: Record<string, string>) => wanted.every(([k, v]) => labels[k] === v);
    if (!ctx.notifications.observesDelivery) {
      return judgeRouted(spec, ctx.notifications, matches, since, ctx.signal);
    }
    const delivered = (await ctx.notifications.delivered(ctx.signal)).filter(
      (n) =>
        n.status === 'firing' &&
        (spec.receiver === undefined || n.receiver === spec.receiver) &&
        n.alerts.some((a) => a.status === 'firing' && matches(a.labels) && Date.parse(a.startsAt) >= since),
    );
    const first = delivered.sort((a, b) => a.receivedAt - b.receivedAt)[0];
    if (first) {
      return {
        fired: true,
        at: first.receivedAt,
        evidence: clip(`delivered to ${first.receiver} at ${new Date(first.receivedAt).toISOString()}`),
      };
    }
    const held = (await ctx.notifications.alerts(spec.alert, ctx.signal)).filter((a) => matches(a.labels));
    const suppressed = held.find((a) => a.state === 'suppressed');
    if (suppressed) {
      const how = suppressed.inhibitedBy.length > 0 ? 'inhibited' : 'silenced';
      return { fired: false, evidence: clip(`${spec.alert} fires but Alertmanager holds it back: ${how}`) };
    }
    // Not delivered (yet): say what Alertmanager holds and what the receiver did get, so a miss can be explained.
    const received = (await ctx.notifications.delivered(ctx.signal)).filter((n) =>
      n.alerts.some((a) => matches(a.labels)),
    );
    return {
      fired: false,
      evidence: clip(
        `no notification of ${spec.alert}${describeLabels(spec.labels ?? {})} delivered; ${describeHeld(held, since)}; ${describeReceived(received, matches)}`,
      ),
    };
  },

  async log(spec, ctx) {
    const pods = await ctx.kube.list('v1', 'Pod', {
      namespace: spec.namespace,
      labelSelector: spec.labelSelector,
    });
    const pattern = new RegExp(spec.pattern);
    for (const pod of pods) {
      const name = pod.metadata.name ?? '';
      let text: string;
      try {
        text = await ctx.kube.podLog(spec.namespace, name, spec.container, 500);
      } catch {
        continue; // the container may not have started yet
      }
      const line = text.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return { fired: true, evidence: clip(`${name}/${spec.container}: ${line}`) };
    }
    return { fired: false, evidence: `no line matching /${spec.pattern}/ in ${pods.length} pod(s)` };
  },

  async kubernetes(spec, ctx) {
    const { resource } = spec;
    let objects = resource.name
      ? [await ctx.kube.get({ ...resource, name: resource.name })].filter((o) => o !== undefined)
      : await ctx.kube.list(resource.apiVersion, resource.kind, {
          ...(resource.namespace ? { namespace: resource.namespace } : {}),
          ...(resource.labelSelector ? { labelSelector: resource.labelSelector } : {}),
        });
    objects = objects.filter((o) => o !== undefined);
    // A missing field counts as absent (e.g. readyReplicas is omitted when 0, as the real API does).
    const verdicts = objects.map((o) => {
      const values = readField(o, spec.field);
      const holds =
        values.length === 0
          ? spec.op === 'absent' || (spec.op === '==' && (spec.value === 0 || spec.value === '0'))
          : values.some((v) => compare(v, spec.op, spec.value));
      return { name: o.metadata.name ?? '', values, holds };
    });
    const matching = verdicts.filter((v) => v.holds).length;
    const fired =
      spec.match === 'any'
        ? matching > 0
        : spec.match === 'all'
          ? verdicts.length > 0 && matching === verdicts.length
          : matching === 0;
    const evidence = verdicts.length
      ? verdicts.map((v) => `${v.name}: ${spec.field}=${JSON.stringify(v.values)}`).join('; ')
      : `no ${resource.kind} matched`;
    return { fired, evidence: clip(evidence) };
  },

  async http(spec, ctx) {
    const url = /^https?:\/\//.test(spec.url) ? spec.url : `${ctx.ingressUrl.replace(/\/$/, '')}${spec.url}`;
    try {
      const response = await request(url, {
        method: 'GET',
        headers: spec.host ? { host: spec.host } : {},
        headersTimeout: 5000,
        bodyTimeout: 5000,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const body = await response.body.text();
      const statusOk = spec.expectStatus.includes(response.statusCode);
      const bodyOk = spec.bodyPattern === undefined || new RegExp(spec.bodyPattern).test(body);
      return { fired: statusOk && bodyOk, evidence: clip(`HTTP ${response.statusCode}: ${body.trim()}`) };
    } catch (error) {
      return { fired: false, evidence: `request failed: ${(error as Error).message}` };
    }
  },

  async command(spec, ctx) {
    const result = await ctx.runCommand(spec.run, ctx.signal);
    const exitOk =
      spec.expectExitCode === 'nonzero' ? result.exitCode !== 0 : result.exitCode === spec.expectExitCode;
    const output = `${result.stdout}${result.stderr}`;
    const outputOk = spec.outputPattern === undefined || new RegExp(spec.outputPattern).test(output);
    return { fired: exitOk && outputOk, evidence: clip(`exit ${result.exitCode}: ${output.trim()}`) };
  },
};

export async function evaluateCondition(
  spec: ConditionSpec,
  ctx: ConditionContext,
): Promise<ConditionResult> {
  const handler = handlers[spec.kind] as Handler<typeof spec.kind>;
  try {
    return await handler(spec as never, ctx);
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    // A probe that errors has not fired; the error is the evidence (e.g. Prometheus briefly unreachable).
    return {
      fired: false,
      evidence: clip(`error: ${error instanceof Error ? error.message : String(error)}`),
    };
  }
}

export const CONDITION_KINDS = Object.keys(handlers) as ConditionKind[];
