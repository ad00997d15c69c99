// Tests of the SLIs over load samples: success rate with drops, latency from merged histograms, SLO verdicts.

import { expect } from 'chai';
import { aggregateWindow, errorRate, evaluateSlos, successRate } from '../../harness/slo/sli.js';
import { parseThreshold } from '../../harness/slo/threshold.js';
import type { SloThreshold } from '../../harness/model/scenario.js';
import { makeSeconds } from './support.js';

function slo(text: string): SloThreshold {
  const parsed = parseThreshold(text);
  if (!parsed.ok) throw new Error(`bad threshold in test: ${text}`);
  return parsed.threshold;
}

const T0 = 1_700_000_000_000;

describe('slo/sli', () => {
  it('counts dropped requests as failures in the success rate', () => {
    const samples = makeSeconds(T0, [{ ok: 90, failed: 5, dropped: 5 }]);
    const window = aggregateWindow(samples, T0, T0 + 1000);
    expect(successRate(window)).to.equal(0.9);
    expect(errorRate(window)).to.be.closeTo(0.1, 1e-12);
  });

  it('selects samples by bucket start in [from, to)', () => {
    const samples = makeSeconds(T0, [{ ok: 10 }, { failed: 10 }, { ok: 10 }]);
    const window = aggregateWindow(samples, T0 + 1000, T0 + 3000);
    expect(window.samples).to.equal(2);
    expect(successRate(window)).to.equal(0.5);
  });

  it('takes latency percentiles from the merged histograms, not an average of per-second ones', () => {
    // 99 fast seconds of 100 requests at 5 ms, one slow second of 100 at 900 ms: the p99 is fast, p99.5 slow.
    const specs = [
      ...Array.from({ length: 99 }, () => ({ ok: 100, latencyMs: 5 })),
      { ok: 100, latencyMs: 900 },
    ];
    const samples = makeSeconds(T0, specs);
    const [p99, p995] = evaluateSlos(
      [slo('p(99) < 300ms'), slo('p(99.5) < 300ms')],
      samples,
      T0,
      T0 + 100_000,
    );
    expect(p99?.passed).to.equal(true);
    expect(p99?.measured).to.be.closeTo(5, 0.01);
    expect(p995?.passed).to.equal(false);
    expect(p995?.measured).to.be.closeTo(900, 1);
  });

  it('judges each SLO and never passes a window without data', () => {
    const samples = makeSeconds(T0, [{ ok: 995, failed: 5, latencyMs: 120 }]);
    const slos = [slo('success_rate >= 99.5%'), slo('error_rate < 0.4%'), slo('p(95) < 300ms')];
    expect(evaluateSlos(slos, samples, T0, T0 + 1000).map((r) => r.passed)).to.deep.equal([
      true,
      false,
      true,
    ]);
    const empty = evaluateSlos(slos, samples, T0 + 5000, T0 + 6000);
    expect(empty.map((r) => r.passed)).to.deep.equal([false, false, false]);
    expect(empty.every((r) => Number.isNaN(r.measured))).to.equal(true);
  });

  it('fails a success-rate SLO when the server stalls and requests are only dropped', () => {
    const samples = makeSeconds(T0, [{ dropped: 100 }]);
    const [result] = evaluateSlos([slo('success_rate >= 99%')], samples, T0, T0 + 1000);
    expect(result).to.deep.equal({ source: 'success_rate >= 99%', measured: 0, passed: false });
  });
});
