// Error budgets and burn rates of SLOs over load samples, with the multi-window alerting the seed's SRE guide
// recommends: page when the burn rate is above 14×, and act when it stays above 4× for several minutes.
//
// The error budget is the fraction of requests the SLO allows to be bad: 1 − 99.5 % = 0.5 % for
// `success_rate >= 99.5%`, 1 % for `error_rate < 1%`, and 5 % for `p(95) < 300ms` (5 % of requests may be
// slower than 300 ms). The burn rate is the bad fraction over a window divided by the budget: 1× spends the
// budget exactly as fast as the SLO allows, 14× spends a 30-day budget in about two days.

import type { LoadSample } from '../model/load.js';
import type { SloThreshold } from '../model/scenario.js';
import { aggregateWindow, errorRate, type WindowAggregate } from './sli.js';

/** One alerting rule: fire when the burn rate exceeds `factor` over BOTH windows ending now. */
export interface BurnRatePolicy {
  name: string;
  severity: 'page' | 'ticket';
  factor: number;
  /** The long window proves the burn is significant. */
  longWindowMs: number;
  /** The short window proves it is still happening (so the alert resets soon after recovery). */
  shortWindowMs: number;
}

/**
 * The seed's guidance as two policies. Windows are for real time; scale them with the scenario's time scale.
 * A fast burn (> 14×) pages; a sustained burn (> 4× for 15 minutes, still above 4× over the last 5) is a ticket
 * that a team may promote to a page.
 */
export const DEFAULT_BURN_RATE_POLICIES: readonly BurnRatePolicy[] = [
  { name: 'fast-burn', severity: 'page', factor: 14, longWindowMs: 5 * 60_000, shortWindowMs: 60_000 },
  {
    name: 'sustained-burn',
    severity: 'ticket',
    factor: 4,
    longWindowMs: 15 * 60_000,
    shortWindowMs: 5 * 60_000,
  },
];

export interface BurnRateVerdict {
  policy: string;
  severity: BurnRatePolicy['severity'];
  factor: number;
  longBurn: number;
  shortBurn: number;
  /** Both windows above the factor. NaN (no data) never fires. */
  firing: boolean;
}

/** The fraction of requests an SLO allows to be bad (a ratio in (0, 1]). */
export function errorBudget(slo: SloThreshold): number {
  switch (slo.metric) {
    case 'success_rate':
      return 1 - slo.value;
    case 'error_rate':
      return slo.value;
    case 'latency':
      if (slo.percentile === undefined) {
        throw new Error(
          `SLO "${slo.source}": a latency threshold needs a percentile such as p(95); got none`,
        );
      }
      return 1 - slo.percentile / 100;
  }
}

/** The fraction of the window's requests that spent budget; NaN when the window holds no data. */
export function badFraction(slo: SloThreshold, window: WindowAggregate): number {
  if (slo.metric !== 'latency') return errorRate(window);
  const total = window.histogram.count;
  if (total === 0) return Number.NaN;
  // `<` and `<=` differ by one histogram bucket at most; both count values above the limit as bad.
  return (total - window.histogram.countAtOrBelow(slo.value)) / total;
}

/** bad fraction / budget. A zero budget (a 100 % SLO) burns infinitely on the first bad request. */
export function burnRate(badRatio: number, budget: number): number {
  if (Number.isNaN(badRatio)) return Number.NaN;
  if (budget <= 0) return badRatio > 0 ? Number.POSITIVE_INFINITY : 0;
  return badRatio / budget;
}

/** The burn rate of an SLO over the samples of [from, to). */
export function measureBurnRate(
  slo: SloThreshold,
  samples: readonly LoadSample[],
  from: number,
  to: number,
): number {
  return burnRate(badFraction(slo, aggregateWindow(samples, from, to)), errorBudget(slo));
}

/** Evaluates each policy at instant `at` over the windows [at − window, at). */
export function evaluateBurnRates(
  slo: SloThreshold,
  samples: readonly LoadSample[],
  at: number,
  policies: readonly BurnRatePolicy[] = DEFAULT_BURN_RATE_POLICIES,
): BurnRateVerdict[] {
  return policies.map((policy) => {
    const longBurn = measureBurnRate(slo, samples, at - policy.longWindowMs, at);
    const shortBurn = measureBurnRate(slo, samples, at - policy.shortWindowMs, at);
    return {
      policy: policy.name,
      severity: policy.severity,
      factor: policy.factor,
      longBurn,
      shortBurn,
      firing: longBurn > policy.factor && shortBurn > policy.factor,
    };
  });
}

/** Scales every window of the policies (a scenario's time scale: drills on the local target run faster). */
export function scalePolicies(policies: readonly BurnRatePolicy[], timeScale: number): BurnRatePolicy[] {
  return policies.map((p) => ({
    ...p,
    longWindowMs: Math.max(1000, Math.round(p.longWindowMs * timeScale)),
    shortWindowMs: Math.max(1000, Math.round(p.shortWindowMs * timeScale)),
  }));
}
