// The detection floor of each alert signal (harness/slo/detection.ts): the scenario's alerting rules (parsed once
// when it was loaded), the intervals read from the running Prometheus, so the floor is the target's, not an
// assumed one. A floor
// that cannot be computed is left out (the report shows none) and said why in the journal; it never fails a run.

import type { ResolvedScenario, SignalSpec } from '../model/index.js';
import { formatDuration } from '../util/duration.js';
import type { PrometheusClient } from '../signals/index.js';
import { computeDetectionFloors, largestRangeMs, type RuleTiming } from '../slo/index.js';

export interface FloorsResult {
  /** Floor in ms per alert name the scenario's signals wait for. */
  floors: Map<string, number>;
  /** Look-back in ms per alert name: how long an earlier fault keeps it firing. */
  lookbacks: Map<string, number>;
  /** Why some floors are missing: unreadable rule files, an alert no file defines, Prometheus not answering. */
  problems: string[];
}

/**
 * A signal's floor: its alert's; for a notification, plus Alertmanager's routing delay (group_wait for a new group,
 * group_interval for a live one: the longer). Undefined for other kinds or an alert with no known floor.
 */
export function signalFloorMs(
  s: SignalSpec,
  floors: ReadonlyMap<string, number>,
  routingDelayMs = 0,
): number | undefined {
  if (s.kind !== 'alert' && s.kind !== 'notification') return undefined;
  const floor = floors.get(s.alert);
  return floor === undefined ? undefined : floor + (s.kind === 'notification' ? routingDelayMs : 0);
}

export async function alertSignalFloors(
  scenario: Pick<ResolvedScenario, 'alertRuleSet' | 'signals'>,
  prometheus: Pick<PrometheusClient, 'ruleTiming'>,
  signal?: AbortSignal,
  routingDelayMs = 0,
): Promise<FloorsResult> {
  const alerts = scenario.signals.flatMap((s) =>
    s.kind === 'alert' || s.kind === 'notification' ? [s.alert] : [],
  );
  const result: FloorsResult = { floors: new Map(), lookbacks: new Map(), problems: [] };
  if (alerts.length === 0) return result;

  const rules = scenario.alertRuleSet.rules;
  result.problems.push(...scenario.alertRuleSet.problems);
  let timing: Awaited<ReturnType<PrometheusClient['ruleTiming']>>;
  try {
    timing = await prometheus.ruleTiming(signal);
  } catch (error) {
    result.problems.push(
      `no alert floors: Prometheus's configuration could not be read: ${(error as Error).message}`,
    );
    return result;
  }
  const floors = computeDetectionFloors(rules, timing);
  for (const alert of new Set(alerts)) {
    const floor = floors.get(alert);
    if (floor) {
      result.floors.set(alert, floor.floorMs);
      result.lookbacks.set(alert, floor.lookbackMs);
    } else result.problems.push(`no floor for alert ${alert}: no rule file of the scenario defines it`);
  }
  for (const s of scenario.signals) {
    const floorMs = signalFloorMs(s, result.floors, routingDelayMs);
    if (floorMs !== undefined && floorMs > s.withinMs && (s.kind === 'alert' || s.kind === 'notification'))
      result.problems.push(
        `signal ${s.name}: its budget (${formatDuration(s.withinMs)}) is below the floor of alert ${s.alert} ` +
          `(${formatDuration(floorMs)}${s.kind === 'notification' ? `, with Alertmanager's routing delay of ${formatDuration(routingDelayMs)}` : ''}): ` +
          `it may be missed by the scrape, evaluation and routing delays alone; raise "within" or shorten the rule's for`,
      );
  }
  return result;
}

/**
 * How long, at most, to wait for the signals to go quiet before a steady state: an earlier variant's fault stays
 * visible to a signal for as long as its data looks back (a PromQL range window; an alert's look-back). Never
 * less than twice the steady state, never more than `capMs`.
 */
export function settleBudgetMs(
  scenario: Pick<ResolvedScenario, 'signals' | 'steadyState'>,
  lookbacks: ReadonlyMap<string, number>,
  capMs: number,
): number {
  const perSignal = scenario.signals.map((s) =>
    s.kind === 'promql'
      ? largestRangeMs(s.query)
      : s.kind === 'alert' || s.kind === 'notification'
        ? (lookbacks.get(s.alert) ?? 0)
        : 0,
  );
  // A second or two for the last scrape and evaluation after the window has passed.
  const fromSignals = Math.max(0, ...perSignal) + 2000;
  return Math.min(Math.max(scenario.steadyState.durationMs * 2, fromSignals), capMs);
}

/**
 * How long the load must run before the steady-state window opens: the longest range window of the PromQL
 * signals, plus a scrape. A rate over a window that reaches back before the load — into the deploy, when the
 * series were appearing one by one and the proxies' configuration was still arriving — is a startup transient,
 * not the steady state (measured: retry-storm's amplification ratio read 1.26 in a steady state that opened
 * as the load started, on a loaded 2-core machine).
 */
export function loadWarmupMs(scenario: Pick<ResolvedScenario, 'signals'>, scrapeMs = 1000): number {
  const ranges = scenario.signals.map((s) => (s.kind === 'promql' ? largestRangeMs(s.query) : 0));
  const longest = Math.max(0, ...ranges);
  return longest === 0 ? 0 : longest + scrapeMs;
}

/**
 * The scenario with its PromQL and alert polls paced to the running Prometheus. A poll faster than Prometheus
 * changes its answer only reads the same data again: a query's result changes when a scrape lands or an old
 * sample leaves its range window (at most twice per scrape interval), an alert's state at each rule evaluation.
 * So such a condition is polled no faster than half the scrape (PromQL) or evaluation (alert) interval — on the
 * local target's 1 s intervals, 500 ms where the scaled default is 250 ms. Half the queries, the same time to
 * detect within half an interval; each query costs the harness and Prometheus ≈ 1.5 ms of CPU (drill-costs bench).
 */
export function paceToPrometheus(
  scenario: ResolvedScenario,
  timing: RuleTiming | undefined,
): ResolvedScenario {
  if (!timing) return scenario;
  const floorOf = (kind: string): number =>
    kind === 'promql'
      ? timing.scrapeIntervalMs / 2
      : kind === 'alert' || kind === 'notification'
        ? timing.evaluationIntervalMs / 2
        : 0;
  const paced = <T extends { kind: string; pollMs: number }>(c: T): T =>
    c.pollMs >= floorOf(c.kind) ? c : { ...c, pollMs: floorOf(c.kind) };
  return {
    ...scenario,
    signals: scenario.signals.map(paced),
    efficacy: scenario.efficacy.map(paced),
    recovery: { ...scenario.recovery, conditions: scenario.recovery.conditions.map(paced) },
  };
}
