// Tests of time-to-recover with a verification window, restoredBy, and the no-recovery outcomes.

import { expect } from 'chai';
import { computeRecovery, findRestoringStep, scanWindows } from '../../harness/slo/recovery.js';
import { evaluateSlos } from '../../harness/slo/sli.js';
import { parseThreshold } from '../../harness/slo/threshold.js';
import type { SloThreshold } from '../../harness/model/scenario.js';
import { makeSeconds, repeat } from './support.js';

function slo(text: string): SloThreshold {
  const parsed = parseThreshold(text);
  if (!parsed.ok) throw new Error(`bad threshold in test: ${text}`);
  return parsed.threshold;
}

const T0 = 1_700_000_000_000;
const s = (n: number): number => T0 + n * 1000;
const SUCCESS = slo('success_rate >= 99%');
const LATENCY = slo('p(95) < 300ms');

describe('slo/recovery', () => {
  it('finds the first window that holds throughout, not the first good second', () => {
    // 0-9 good, 10-19 outage, 20 good, 21 bad (a flap), 22.. good. Verify 5 s: the window at 20 contains the
    // flap, so recovery is at 22.
    const samples = makeSeconds(T0, [
      ...repeat({ ok: 100 }, 10),
      ...repeat({ failed: 100 }, 10),
      { ok: 100 },
      { ok: 50, failed: 50 },
      ...repeat({ ok: 100 }, 20),
    ]);
    const outcome = computeRecovery({
      slos: [SUCCESS],
      samples,
      injectedAt: s(10),
      runbookStartedAt: s(15),
      verifyMs: 5000,
      deadline: s(40),
      steps: [{ startedAt: s(15) }, { startedAt: s(18.4) }],
    });
    expect(outcome.recovered).to.equal(true);
    if (!outcome.recovered) return;
    expect(outcome.at).to.equal(s(22));
    expect(outcome.fromInjectionMs).to.equal(12_000);
    expect(outcome.fromRunbookStartMs).to.equal(7000);
    expect(outcome.restoredBy).to.deep.equal([{ source: SUCCESS.source, at: s(22), step: 1 }]);
  });

  it('agrees with evaluating the held window from scratch (sliding aggregate is exact)', () => {
    const specs = [
      ...repeat({ ok: 100, latencyMs: 20 }, 5),
      ...repeat({ ok: 60, failed: 40, latencyMs: 800 }, 5),
      ...repeat({ ok: 100, latencyMs: 30 }, 10),
    ];
    const samples = makeSeconds(T0, specs);
    const scanned = scanWindows([SUCCESS, LATENCY], samples, T0, 3000, s(20));
    for (const w of scanned) {
      const fresh = evaluateSlos([SUCCESS, LATENCY], samples, w.t, w.t + 3000);
      expect(w.results, `window at ${(w.t - T0) / 1000}s`).to.deep.equal(fresh);
    }
    expect(scanned.length).to.equal(18);
  });

  it('credits, per SLO, the last step started by the time that SLO came back', () => {
    // Errors stop at 10 (before any step); latency stays high until 16, after step 1 at 15.5.
    const specs = [
      ...repeat({ failed: 100, latencyMs: 900 }, 10),
      ...repeat({ ok: 100, latencyMs: 900 }, 6),
      ...repeat({ ok: 100, latencyMs: 50 }, 10),
    ];
    const samples = makeSeconds(T0, specs);
    const outcome = computeRecovery({
      slos: [SUCCESS, LATENCY],
      samples,
      injectedAt: T0,
      runbookStartedAt: s(12),
      verifyMs: 3000,
      deadline: s(30),
      steps: [{ startedAt: s(12) }, { startedAt: s(15.5) }],
    });
    expect(outcome.restoredBy).to.deep.equal([
      { source: SUCCESS.source, at: s(10), step: null },
      { source: LATENCY.source, at: s(16), step: 1 },
    ]);
    expect(outcome.recovered && outcome.at).to.equal(s(16));
  });

  it('reports a recovery after the deadline as never within budget, with the late time', () => {
    const samples = makeSeconds(T0, [...repeat({ failed: 10 }, 20), ...repeat({ ok: 10 }, 10)]);
    const outcome = computeRecovery({
      slos: [SUCCESS],
      samples,
      injectedAt: T0,
      verifyMs: 5000,
      deadline: s(15),
      steps: [],
    });
    expect(outcome).to.deep.include({ recovered: false, reason: 'never-within-budget', lateAt: s(20) });
  });

  it('says never-within-budget when every window was observed, insufficient-data when the data stops short', () => {
    const samples = makeSeconds(T0, repeat({ failed: 10 }, 30));
    const base = { slos: [SUCCESS], samples, injectedAt: T0, verifyMs: 5000, steps: [] };
    expect(computeRecovery({ ...base, deadline: s(20) })).to.deep.include({
      recovered: false,
      reason: 'never-within-budget',
    });
    expect(computeRecovery({ ...base, deadline: s(28) })).to.deep.include({
      recovered: false,
      reason: 'insufficient-data',
    });
  });

  it('never recovers on windows without load (no data never passes)', () => {
    const samples = makeSeconds(T0, repeat({}, 20));
    const outcome = computeRecovery({
      slos: [SUCCESS],
      samples,
      injectedAt: T0,
      verifyMs: 5000,
      deadline: s(10),
      steps: [],
    });
    expect(outcome.recovered).to.equal(false);
    expect(outcome.restoredBy).to.deep.equal([{ source: SUCCESS.source, at: null, step: null }]);
  });

  it('credits a step started within the first good second', () => {
    const steps = [{ startedAt: s(3) }, { startedAt: s(5.3) }, { startedAt: s(9) }];
    expect(findRestoringStep(steps, s(5))).to.equal(1);
    expect(findRestoringStep(steps, s(4))).to.equal(0);
    expect(findRestoringStep(steps, s(1))).to.equal(null);
  });
});
