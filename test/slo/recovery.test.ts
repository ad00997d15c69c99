// Tests of time-to-recover with a verification window, restoredBy, recovery conditions, and the no-recovery
// outcomes with their reasons.

import { expect } from 'chai';
import {
  type ConditionObservation,
  computeRecovery,
  describeRecovery,
  findRestoringStep,
  observationAt,
  scanWindows,
} from '../../harness/slo/recovery.js';
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
    // The data ends at 30 s, before deadline + 1 s: not every second that may open a window by the deadline
    // has been observed yet.
    expect(computeRecovery({ ...base, deadline: s(29.5) })).to.deep.include({
      recovered: false,
      reason: 'insufficient-data',
    });
  });

  it('decides no recovery at the deadline when every window left to observe opens on a failing second', () => {
    // Failing throughout; verify 5 s, deadline 28 s: the windows at 26-28 s are not fully observed (data ends at
    // 30 s), but each opens on a failing second, so none can hold — decided without waiting until 33 s.
    const failing = makeSeconds(T0, repeat({ failed: 10 }, 30));
    const base = { slos: [SUCCESS], injectedAt: T0, verifyMs: 5000, steps: [], deadline: s(28) };
    expect(computeRecovery({ ...base, samples: failing })).to.deep.include({
      recovered: false,
      reason: 'never-within-budget',
      slosHeld: false,
    });
    // A good second at 27 s could open a window that holds: not decided yet.
    const goodAt27 = makeSeconds(T0, [...repeat({ failed: 10 }, 27), ...repeat({ ok: 10 }, 3)]);
    expect(computeRecovery({ ...base, samples: goodAt27 })).to.deep.include({
      recovered: false,
      reason: 'insufficient-data',
    });
    // Only a good second after the deadline: nothing by the deadline can hold.
    const goodAt29 = makeSeconds(T0, [...repeat({ failed: 10 }, 29), { ok: 10 }]);
    expect(computeRecovery({ ...base, samples: goodAt29 })).to.deep.include({
      recovered: false,
      reason: 'never-within-budget',
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

/** Observations every second from `from` (in seconds after T0), true from `trueFrom` on (never if null). */
function polls(
  from: number,
  to: number,
  trueFrom: number | null,
  offset = 0,
  falseFrom: number | null = null,
): ConditionObservation[] {
  const out: ConditionObservation[] = [];
  for (let n = from; n <= to; n++) {
    const fired = trueFrom !== null && n >= trueFrom && (falseFrom === null || n < falseFrom);
    out.push({ t: s(n + offset), fired, evidence: fired ? 'exit 0: converged' : 'exit 1: not yet' });
  }
  return out;
}

describe('slo/recovery: recovery conditions', () => {
  // Outage 0-9, SLOs good from 10 on; runbook at 10; verify 5 s; the deadline at 30.
  const samples = makeSeconds(T0, [...repeat({ failed: 100 }, 10), ...repeat({ ok: 100 }, 40)]);
  const base = {
    slos: [SUCCESS],
    samples,
    injectedAt: T0,
    runbookStartedAt: s(10),
    searchFrom: s(10),
    verifyMs: 5000,
    deadline: s(30),
    steps: [{ startedAt: s(10) }],
  };
  const context = { verifyMs: 5000, budgetMs: 20_000, remediationStart: s(10) };

  it('without conditions, the SLOs alone decide (as before)', () => {
    const outcome = computeRecovery({ ...base, conditions: [] });
    expect(outcome.recovered && outcome.at).to.equal(s(10));
  });

  it('dates recovery at the first window whose start and end see the condition true, after the SLOs are back', () => {
    const outcome = computeRecovery({
      ...base,
      conditions: [{ name: 'config-converges', observations: polls(10, 49, 15) }],
    });
    expect(outcome.recovered).to.equal(true);
    if (!outcome.recovered) return;
    expect(outcome.at).to.equal(s(15));
    expect(outcome.fromRunbookStartMs).to.equal(5000);
    expect(outcome.fromInjectionMs).to.equal(15_000);
    // restoredBy stays about the SLOs: success_rate was back at 10.
    expect(outcome.restoredBy).to.deep.equal([{ source: SUCCESS.source, at: s(10), step: 0 }]);
    expect(describeRecovery(outcome, { ...context, conditions: ['config-converges'] })).to.equal(
      'SLOs held for 5s from 5s after the runbook started; condition config-converges true at its start and end',
    );
  });

  it("judges each instant by the condition's first observation at or after it (one poll interval of resolution)", () => {
    // Polls at n + 0.5 s: false up to 14.5, true from 15.5; the window at 15 is judged by the poll at 15.5.
    const observations = polls(10, 49, 15, 0.5);
    expect(observationAt(observations, s(15))?.t).to.equal(s(15.5));
    expect(observationAt(observations, s(15.5))?.t).to.equal(s(15.5));
    const outcome = computeRecovery({ ...base, conditions: [{ name: 'c', observations }] });
    expect(outcome.recovered && outcome.at).to.equal(s(15));
  });

  it('judges the start and the end of the window only, not the seconds between', () => {
    // True 10-14, false 15-17, true from 18: the window at 13 (ends 18) counts, those at 10-12 do not.
    const observations = polls(10, 49, 10, 0, 15).map((o) =>
      o.t >= s(18) ? { ...o, fired: true, evidence: 'exit 0: converged' } : o,
    );
    const outcome = computeRecovery({ ...base, conditions: [{ name: 'c', observations }] });
    expect(outcome.recovered && outcome.at).to.equal(s(13));
  });

  it('requires every condition at both ends of the same window', () => {
    const outcome = computeRecovery({
      ...base,
      conditions: [
        { name: 'a', observations: polls(10, 49, 12) },
        { name: 'b', observations: polls(10, 49, 20) },
      ],
    });
    expect(outcome.recovered && outcome.at).to.equal(s(20));
  });

  it('does not recover when a condition is never true, although the SLOs hold, and names it', () => {
    const outcome = computeRecovery({
      ...base,
      conditions: [
        { name: 'config-converges', observations: polls(10, 49, null) },
        { name: 'istiod-ready', observations: polls(10, 49, 10) },
      ],
    });
    expect(outcome).to.deep.include({ recovered: false, reason: 'never-within-budget', slosHeld: true });
    if (outcome.recovered) return;
    expect(outcome.blockedBy).to.deep.equal([
      { name: 'config-converges', everTrue: false, evidence: 'exit 1: not yet' },
    ]);
    expect(
      describeRecovery(outcome, { ...context, conditions: ['config-converges', 'istiod-ready'] }),
    ).to.equal('condition config-converges never true (last: exit 1: not yet)');
  });

  it('says when a condition was true, but never at both ends of a window in which the SLOs held', () => {
    // True only 12-13: no 5 s window has it true at both ends.
    const outcome = computeRecovery({
      ...base,
      conditions: [{ name: 'flappy', observations: polls(10, 49, 12, 0, 14) }],
    });
    expect(outcome.recovered).to.equal(false);
    if (outcome.recovered) return;
    expect(outcome.blockedBy).to.deep.equal([
      { name: 'flappy', everTrue: true, evidence: 'exit 1: not yet' },
    ]);
    expect(describeRecovery(outcome, { ...context, conditions: ['flappy'] })).to.equal(
      'condition flappy not true at both the start and the end of any 5s window in which the SLOs held (last: exit 1: not yet)',
    );
  });

  it('says when the conditions each held in some window, but never together', () => {
    const at = (seconds: number[]) =>
      polls(10, 49, null).map((o) => (seconds.some((n) => o.t === s(n)) ? { ...o, fired: true } : o));
    const outcome = computeRecovery({
      ...base,
      conditions: [
        { name: 'a', observations: at([10, 15]) },
        { name: 'b', observations: at([11, 16]) },
      ],
    });
    expect(outcome).to.deep.include({ recovered: false, slosHeld: true, blockedBy: [] });
    expect(describeRecovery(outcome, { ...context, conditions: ['a', 'b'] })).to.equal(
      'conditions a, b never all true at both the start and the end of a 5s window in which the SLOs held',
    );
  });

  it('says "SLOs did not hold" first when they never did, and adds the conditions never true', () => {
    const outcome = computeRecovery({
      ...base,
      samples: makeSeconds(T0, repeat({ failed: 100 }, 50)),
      conditions: [
        { name: 'config-converges', observations: polls(10, 49, null) },
        { name: 'istiod-ready', observations: polls(10, 49, 11) },
      ],
    });
    expect(outcome).to.deep.include({ recovered: false, reason: 'never-within-budget', slosHeld: false });
    expect(
      describeRecovery(outcome, { ...context, conditions: ['config-converges', 'istiod-ready'] }),
    ).to.equal(
      'SLOs did not hold for a whole 5s window within 20s; condition config-converges never true (last: exit 1: not yet)',
    );
  });

  it('waits (insufficient data) while the observation at the end of a window is still to come', () => {
    // Observations stop at 16: the window at 15 cannot be judged at its end (20) yet.
    const outcome = computeRecovery({
      ...base,
      conditions: [{ name: 'c', observations: polls(10, 16, 15) }],
    });
    expect(outcome).to.deep.include({ recovered: false, reason: 'insufficient-data' });
    // Once the observation at 20 exists, the same window counts.
    const later = computeRecovery({ ...base, conditions: [{ name: 'c', observations: polls(10, 20, 15) }] });
    expect(later.recovered && later.at).to.equal(s(15));
  });
});
