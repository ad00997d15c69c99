// Tests of error budgets and multi-window burn rates over load samples.

import { expect } from 'chai';
import {
  badFraction,
  burnRate,
  DEFAULT_BURN_RATE_POLICIES,
  errorBudget,
  evaluateBurnRates,
  measureBurnRate,
  scalePolicies,
} from '../../harness/slo/burn-rate.js';
import { aggregateWindow } from '../../harness/slo/sli.js';
import { parseThreshold } from '../../harness/slo/threshold.js';
import type { SloThreshold } from '../../harness/model/scenario.js';
import { makeSeconds, repeat } from './support.js';

function slo(text: string): SloThreshold {
  const parsed = parseThreshold(text);
  if (!parsed.ok) throw new Error(`bad threshold in test: ${text}`);
  return parsed.threshold;
}

const T0 = 1_700_000_000_000;

describe('slo/burn-rate', () => {
  it('derives the error budget of each kind of SLO', () => {
    expect(errorBudget(slo('success_rate >= 99.5%'))).to.be.closeTo(0.005, 1e-12);
    expect(errorBudget(slo('error_rate < 1%'))).to.be.closeTo(0.01, 1e-12);
    expect(errorBudget(slo('p(95) < 300ms'))).to.be.closeTo(0.05, 1e-12);
  });

  it('divides the bad fraction by the budget, and handles no data and a zero budget', () => {
    expect(burnRate(0.07, 0.005)).to.be.closeTo(14, 1e-9);
    expect(burnRate(Number.NaN, 0.01)).to.be.NaN;
    expect(burnRate(0.01, 0)).to.equal(Number.POSITIVE_INFINITY);
    expect(burnRate(0, 0)).to.equal(0);
  });

  it('counts requests slower than a latency threshold as budget spent', () => {
    const samples = makeSeconds(T0, [
      { ok: 90, latencyMs: 100 },
      { ok: 10, latencyMs: 500 },
    ]);
    const window = aggregateWindow(samples, T0, T0 + 2000);
    expect(badFraction(slo('p(95) < 300ms'), window)).to.be.closeTo(0.1, 1e-12);
    // 10 % slow against a 5 % budget: 2×.
    expect(measureBurnRate(slo('p(95) < 300ms'), samples, T0, T0 + 2000)).to.be.closeTo(2, 1e-9);
  });

  it('pages on a fast burn over both windows and stays quiet once the short window is clean', () => {
    const objective = slo('success_rate >= 99.5%');
    // 4 minutes clean, then 60 s at 10 % errors (20× burn), then 60 s clean.
    const samples = makeSeconds(T0, [
      ...repeat({ ok: 100 }, 240),
      ...repeat({ ok: 90, failed: 10 }, 60),
      ...repeat({ ok: 100 }, 60),
    ]);
    const duringFault = evaluateBurnRates(objective, samples, T0 + 300_000);
    const fast = duringFault.find((v) => v.policy === 'fast-burn');
    // Long window (5 min): 600 bad of 30,000 = 2 %, 4×: below 14×, so no page yet despite the short window.
    expect(fast?.shortBurn).to.be.closeTo(20, 1e-9);
    expect(fast?.longBurn).to.be.closeTo(4, 1e-9);
    expect(fast?.firing).to.equal(false);

    const heavy = makeSeconds(T0, [...repeat({ ok: 100 }, 60), ...repeat({ ok: 0, failed: 100 }, 240)]);
    const paged = evaluateBurnRates(objective, heavy, T0 + 300_000).find((v) => v.policy === 'fast-burn');
    expect(paged?.firing).to.equal(true);
    expect(paged?.severity).to.equal('page');

    const after = evaluateBurnRates(objective, samples, T0 + 360_000).find((v) => v.policy === 'fast-burn');
    expect(after?.shortBurn).to.equal(0);
    expect(after?.firing).to.equal(false);
  });

  it('never fires on windows without data', () => {
    const verdicts = evaluateBurnRates(slo('success_rate >= 99%'), [], T0);
    expect(verdicts.map((v) => v.firing)).to.deep.equal([false, false]);
  });

  it('scales policy windows by the time scale, never below one second', () => {
    const scaled = scalePolicies(DEFAULT_BURN_RATE_POLICIES, 0.001);
    expect(scaled[0]?.longWindowMs).to.equal(1000);
    expect(scalePolicies(DEFAULT_BURN_RATE_POLICIES, 0.1)[1]?.longWindowMs).to.equal(90_000);
  });
});
