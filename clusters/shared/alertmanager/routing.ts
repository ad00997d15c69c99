// Reads a running Alertmanager's routing from the configuration its v2 API returns (`/api/v2/status`,
// `config.original`, a YAML string), pure: the longest it can hold a notification, and which receivers send
// nothing. Used where meshdrill reads an Alertmanager it did not configure (the existing target).

import { parse } from 'yaml';

/** Alertmanager's own defaults (config/config.go), which a route without the setting inherits. */
export const ALERTMANAGER_DEFAULT_GROUP_WAIT_MS = 30_000;
export const ALERTMANAGER_DEFAULT_GROUP_INTERVAL_MS = 300_000;

export interface AlertmanagerRouting {
  /**
   * The longest any route of the tree holds a notification once its alert arrived: group_wait for a new group,
   * up to group_interval for a group still alive; child routes inherit and may override both, so the maximum
   * is over the whole tree — a bound for every alert, whichever route it takes.
   */
  routingDelayMs: number;
  /** Receivers with no integration configured (a `null` route): an alert routed only there pages nobody. */
  silentReceivers: string[];
}

const UNIT_MS: Record<string, number> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** Prometheus's duration syntax (model.ParseDuration): `1h30m`, `30s`, `1w`, `500ms`, `0s`. */
export function parsePrometheusDuration(text: string): number | undefined {
  if (!/^(?:\d+(?:y|w|d|h|ms|m|s))+$/.test(text) && text !== '0') return undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+)(y|w|d|h|ms|m|s)/g)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return total;
}

interface Route {
  group_wait?: unknown;
  group_interval?: unknown;
  routes?: unknown;
}

function durationOf(value: unknown, fallback: number, where: string): number {
  if (value === undefined || value === null) return fallback;
  const ms = typeof value === 'string' ? parsePrometheusDuration(value) : undefined;
  if (ms === undefined)
    throw new Error(`${where}: expected a duration like "30s", got ${JSON.stringify(value)}`);
  return ms;
}

function longestDelay(route: Route, inherited: { waitMs: number; intervalMs: number }, path: string): number {
  const own = {
    waitMs: durationOf(route.group_wait, inherited.waitMs, `${path}.group_wait`),
    intervalMs: durationOf(route.group_interval, inherited.intervalMs, `${path}.group_interval`),
  };
  const children = Array.isArray(route.routes) ? (route.routes as Route[]) : [];
  return Math.max(
    own.waitMs,
    own.intervalMs,
    ...children.map((child, i) => longestDelay(child ?? {}, own, `${path}.routes[${i}]`)),
  );
}

/** The routing of an Alertmanager configuration (YAML); throws with the offending path when it is not one. */
export function readAlertmanagerRouting(configYaml: string): AlertmanagerRouting {
  const config = parse(configYaml) as { route?: Route; receivers?: unknown } | null;
  if (!config || typeof config !== 'object' || !config.route || typeof config.route !== 'object') {
    throw new Error('the configuration has no `route`');
  }
  const defaults = {
    waitMs: ALERTMANAGER_DEFAULT_GROUP_WAIT_MS,
    intervalMs: ALERTMANAGER_DEFAULT_GROUP_INTERVAL_MS,
  };
  const receivers = Array.isArray(config.receivers) ? (config.receivers as Record<string, unknown>[]) : [];
  const silentReceivers = receivers
    .filter(
      (r) =>
        !Object.entries(r ?? {}).some(
          ([key, value]) => key.endsWith('_configs') && Array.isArray(value) && value.length > 0,
        ),
    )
    .map((r) => String(r?.name ?? ''));
  return { routingDelayMs: longestDelay(config.route, defaults, 'route'), silentReceivers };
}
