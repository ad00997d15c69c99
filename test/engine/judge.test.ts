// The verdict helpers of a variant, without I/O: each assertion they build is shown to pass where it should and,
// as its negative control, to fail where it should — an assertion that cannot fail proves nothing.

import { expect } from 'chai';
import { Interrupted, PhaseTimeout, StopScenario } from '../../harness/engine/phase-runner.js';
import {
  type AssertionFields,
  countAssertion,
  describeSecondLook,
  duringFaultAssertions,
  finalOutcome,
  outcomeOfAbort,
  quietAssertion,
  type RecoveryJudgement,
  recoveryAssertion,
  recoveryRecord,
  silentAssertion,
  steadyStateAssertions,
  stepWindows,
  verdictFields,
  watchedAssertion,
  withEvidence,
} from '../../harness/engine/phases/judge.js';
import type { RunbookStepResult } from '../../harness/engine/ports.js';
import type { LoadSample, SignalSpec, SloThreshold } from '../../harness/model/index.js';
import { createHistogram, encodeHistogram } from '../../harness/slo/histogram.js';
import type { SloVerdict } from '../../harness/slo/instrument.js';
import type { RecoveryOutcome } from '../../harness/slo/recovery.js';

const SUCCESS: SloThreshold = {
  source: 'success_rate >= 99%',
  metric: 'success_rate',
  op: '>=',
  value: 0.99,
};
const LATENCY: SloThreshold = {
  source: 'p(95) < 250ms',
  metric: 'latency',
  percentile: 95,
  op: '<',
  value: 250,
};
const SIGNAL: SignalSpec = {
  name: 'errors-visible',
  kind: 'promql',
  query: 'x > 0',
  withinMs: 30_000,
  pollMs: 500,
};

const held: SloVerdict = { source: SUCCESS.source, measured: 1, passed: true };
const breached: SloVerdict = { source: SUCCESS.source, measured: 0.5, passed: false };
const explained: SloVerdict = {
  source: LATENCY.source,
  measured: 400,
  passed: false,
  inconclusive: 'instrument degraded in 3 of 3 s',
};

/** One second of 20 requests, `ok` of them successful, at 10 ms. */
function second(t: number, ok = 20): LoadSample {
  const histogram = createHistogram();
  for (let i = 0; i < 20; i++) histogram.record(10);
  return {
    t,
    scheduled: 20,
    completed: 20,
    succeeded: ok,
    dropped: 0,
    byStatus: { '200': ok, ...(ok < 20 ? { '503': 20 - ok } : {}) },
    byFlag: {},
    byError: {},
    histogram: encodeHistogram(histogram),
    p50: 10,
    p95: 10,
    p99: 10,
  };
}

function step(index: number, startedAt: number, durationMs: number): RunbookStepResult {
  return {
    index,
    title: `step ${index}`,
    kind: 'command',
    command: 'true',
    startedAt,
    durationMs,
    exitCode: 0,
    timedOut: false,
    output: '',
  };
}

const judgement = (overrides: Partial<RecoveryJudgement> = {}): RecoveryJudgement => ({
  how: 'SLOs held for 2s from 1s after the runbook started',
  recoveredAt: 11_000,
  remediationStart: 10_000,
  budgetMs: 60_000,
  hasConditions: false,
  ...overrides,
});

describe('engine/phases/judge: the tally of assertions', () => {
  const failing: AssertionFields = { id: 'x', name: 'x', passed: false, message: 'no' };
  const clean = { failed: false, inconclusive: false };

  it('a passed assertion changes nothing; a failed one fails the variant', () => {
    expect(countAssertion(clean, { ...failing, passed: true })).to.deep.equal(clean);
    expect(countAssertion(clean, failing)).to.deep.equal({ failed: true, inconclusive: false });
  });

  it('an inconclusive assertion makes the variant inconclusive, not failed; an informational one counts for nothing', () => {
    expect(countAssertion(clean, { ...failing, inconclusive: true })).to.deep.equal({
      failed: false,
      inconclusive: true,
    });
    expect(countAssertion(clean, { ...failing, informational: true })).to.deep.equal(clean);
  });

  it('keeps what earlier assertions decided', () => {
    const failed = { failed: true, inconclusive: false };
    expect(countAssertion(failed, { ...failing, passed: true })).to.deep.equal(failed);
  });
});

describe('engine/phases/judge: SLO verdicts as assertions', () => {
  it('verdictFields and withEvidence pass a verdict through, or mark it inconclusive with its evidence', () => {
    expect(verdictFields(held)).to.deep.equal({ passed: true });
    expect(verdictFields(breached)).to.deep.equal({ passed: false });
    expect(verdictFields({ ...explained, passed: true })).to.deep.equal({
      passed: false,
      inconclusive: true,
    });
    expect(withEvidence(held, 'm')).to.equal('m');
    expect(withEvidence(explained, 'm')).to.equal('INCONCLUSIVE — m; instrument degraded in 3 of 3 s');
  });

  it('steady state: passes an SLO that held, fails one that did not, and marks an explained breach inconclusive', () => {
    const [ok, broken, unsure] = steadyStateAssertions(
      [SUCCESS, SUCCESS, LATENCY],
      [held, breached, explained],
    );
    expect(ok).to.deep.equal({
      id: 'steady-state:slo:success_rate >= 99%',
      name: 'steady state holds success_rate >= 99%',
      passed: true,
      message: 'success_rate >= 99% over the steady-state window: measured 100%',
      measured: 1,
    });
    expect(broken).to.include({
      passed: false,
      message: 'success_rate >= 99% over the steady-state window: measured 50%',
    });
    expect(broken).to.not.have.property('inconclusive');
    expect(unsure).to.include({
      id: 'steady-state:slo:p(95) < 250ms',
      passed: false,
      inconclusive: true,
      message:
        'INCONCLUSIVE — p(95) < 250ms over the steady-state window: measured 400ms; instrument degraded in 3 of 3 s',
    });
  });

  it('steady state: a signal that stayed quiet passes; one that fired is a false positive and fails', () => {
    expect(quietAssertion(SIGNAL, undefined)).to.deep.equal({
      id: 'steady-state:quiet:errors-visible',
      name: 'signal errors-visible stays quiet before the fault',
      passed: true,
      message: 'no false positive',
    });
    expect(quietAssertion(SIGNAL, 'x{} 3')).to.deep.equal({
      id: 'steady-state:quiet:errors-visible',
      name: 'signal errors-visible stays quiet before the fault',
      passed: false,
      message: 'FALSE POSITIVE before any fault: x{} 3',
    });
    expect(quietAssertion({ ...SIGNAL, informational: true }, 'x{} 3')).to.include({
      passed: false,
      informational: true,
    });
  });

  it('during the fault: passes an SLO that held, fails a breach and a window without data', () => {
    const window = 'the during-fault window (5s from injection to the runbook)';
    const [ok, broken, empty] = duringFaultAssertions(
      [SUCCESS, SUCCESS, SUCCESS],
      [held, breached, { source: SUCCESS.source, measured: Number.NaN, passed: false }],
      5000,
    );
    expect(ok).to.include({
      id: 'during-fault:slo:success_rate >= 99%',
      name: 'SLO holds during the fault: success_rate >= 99%',
      passed: true,
      message: `success_rate >= 99% over ${window}: measured 100%`,
    });
    expect(broken).to.include({ passed: false, message: `success_rate >= 99% over ${window}: measured 50%` });
    expect(empty).to.include({
      passed: false,
      message: `success_rate >= 99%: no load data over ${window}, so it cannot show the SLO held`,
    });
  });
});

describe('engine/phases/judge: efficacy and detection', () => {
  it('a check that fired in time passes, with the time it took as measured', () => {
    expect(
      watchedAssertion('efficacy', SIGNAL, { fired: true, afterMs: 1500, evidence: 'x{} 1' }),
    ).to.deep.equal({
      id: 'efficacy:errors-visible',
      name: 'the fault bit: errors-visible',
      passed: true,
      message: 'fired after 1.5s (budget 30s): x{} 1',
      measured: 1500,
      limit: 30_000,
    });
  });

  it('a fault that did not bite fails its efficacy check', () => {
    expect(watchedAssertion('efficacy', SIGNAL, { fired: false, evidence: 'x{} 0' })).to.include({
      id: 'efficacy:errors-visible',
      passed: false,
      message: 'did not fire within 30s; last observation: x{} 0',
    });
  });

  it('a signal that never fired fails, with its last observation', () => {
    expect(watchedAssertion('signal', SIGNAL, { fired: false, evidence: 'no samples' })).to.deep.equal({
      id: 'detect:errors-visible',
      name: 'signal errors-visible fires within 30s',
      passed: false,
      message: 'did not fire within 30s; last observation: no samples',
      limit: 30_000,
    });
  });

  it('an informational signal is measured, not judged', () => {
    const a = watchedAssertion(
      'signal',
      { ...SIGNAL, informational: true },
      { fired: false, evidence: 'none' },
    );
    expect(a).to.include({ passed: false, informational: true });
    expect(countAssertion({ failed: false, inconclusive: false }, a).failed).to.equal(false);
  });
});

describe('engine/phases/judge: a signal required silent in the variant', () => {
  it('passes when it did not fire within its budget, saying what held it back', () => {
    const a = silentAssertion(SIGNAL, { fired: false, evidence: 'ErrorBudgetBurnSustained inhibited' });
    expect(a).to.deep.equal({
      id: 'detect:errors-visible',
      name: 'signal errors-visible stays silent for 30s (silent in this variant)',
      passed: true,
      message: 'stayed silent as expected: ErrorBudgetBurnSustained inhibited',
      limit: 30_000,
    });
    expect(countAssertion({ failed: false, inconclusive: false }, a).failed).to.equal(false);
  });

  it('negative control: when it fires, the assertion fails and so does the variant', () => {
    const a = silentAssertion(SIGNAL, { fired: true, afterMs: 4200, evidence: 'delivered to team-pager' });
    expect(a).to.include({
      id: 'detect:errors-visible',
      passed: false,
      message: 'fired though it must stay silent in this variant: delivered to team-pager',
      measured: 4200,
    });
    expect(a).to.not.have.property('informational');
    const tally = countAssertion({ failed: false, inconclusive: false }, a);
    expect(tally.failed).to.equal(true);
    expect(finalOutcome('passed', tally, true)).to.equal('failed');
  });

  it('leaves the judging of signals that are not silent as it was', () => {
    const outcome = { fired: true, afterMs: 1000, evidence: 'x{} 1' };
    expect(watchedAssertion('signal', SIGNAL, outcome).passed).to.equal(true);
    expect(silentAssertion(SIGNAL, outcome).passed).to.equal(false);
  });
});

describe('engine/phases/judge: the recovery assertion', () => {
  it('expect recovery: passes when recovered within budget, fails when not', () => {
    expect(recoveryAssertion('recovery', judgement())).to.deep.equal({
      id: 'recover',
      name: 'the runbook restores the SLOs within budget',
      passed: true,
      message: 'SLOs held for 2s from 1s after the runbook started',
      measured: 1000,
      limit: 60_000,
    });
    const failed = recoveryAssertion(
      'recovery',
      judgement({ recoveredAt: undefined, hasConditions: true, how: 'never' }),
    );
    expect(failed).to.deep.equal({
      id: 'recover',
      name: 'the runbook restores the SLOs and the recovery conditions within budget',
      passed: false,
      message: 'never',
      limit: 60_000,
    });
  });

  it('expect no-recovery (a negative control): passes without recovery, fails when the variant recovered', () => {
    expect(recoveryAssertion('no-recovery', judgement({ recoveredAt: undefined, how: 'never' }))).to.include({
      id: 'recover:negative-control',
      name: 'negative control: no recovery without the real fix',
      passed: true,
      message: 'as expected, no recovery: never',
    });
    expect(recoveryAssertion('no-recovery', judgement({ hasConditions: true }))).to.include({
      id: 'recover:negative-control',
      passed: false,
      message:
        "NEGATIVE CONTROL RECOVERED — the recovery assertion cannot fail as configured (SLOs held for 2s from 1s after the runbook started); fix the scenario's SLOs, recovery conditions, fault or budget",
      measured: 1000,
    });
  });

  it('a second look that recovers makes either expectation inconclusive, never passed', () => {
    const unsure = judgement({
      recoveredAt: undefined,
      how: 'never',
      secondLook: 'with the instrument aside: held',
    });
    const message = 'INCONCLUSIVE — never; but with the instrument aside: held';
    expect(recoveryAssertion('recovery', unsure)).to.include({ passed: false, inconclusive: true, message });
    expect(recoveryAssertion('no-recovery', unsure)).to.include({
      passed: false,
      inconclusive: true,
      message,
    });
  });

  it('expect measure: reported, not asserted', () => {
    expect(recoveryAssertion('measure', judgement({ recoveredAt: undefined, how: 'never' }))).to.deep.equal({
      id: 'recover',
      name: 'recovery (measured, not asserted)',
      passed: false,
      informational: true,
      message: 'never',
      limit: 60_000,
    });
  });

  it('describeSecondLook says what the instrument went through, then what recovery shows', () => {
    const text = describeSecondLook([SUCCESS], [second(0), second(1000)], 0, 'SLOs held');
    expect(text).to.match(/^with the instrument's part taken off the seconds it explains \(.*\): SLOs held$/);
  });
});

describe('engine/phases/judge: the recovery record and the after-step windows', () => {
  const steps = [step(0, 10_000, 500), step(1, 12_000, 500)];

  it('credits the step after which an SLO came back, but no step for an SLO that held through the fault', () => {
    const outcome: RecoveryOutcome = {
      recovered: true,
      at: 13_000,
      fromInjectionMs: 8000,
      results: [],
      restoredBy: [
        { source: SUCCESS.source, step: 1, at: 13_000 },
        { source: LATENCY.source, step: 1, at: 13_000 },
      ],
    };
    expect(
      recoveryRecord(outcome, 'held', 10_000, [breached, { ...held, source: LATENCY.source }], steps),
    ).to.deep.equal({
      recovered: true,
      fromInjectionMs: 8000,
      fromRunbookStartMs: 3000,
      restoredBy: [
        { source: SUCCESS.source, step: 1 },
        { source: LATENCY.source, step: null },
      ],
    });
  });

  it('gives the reason when the variant did not recover', () => {
    const outcome: RecoveryOutcome = {
      recovered: false,
      reason: 'never-within-budget',
      slosHeld: false,
      blockedBy: [],
      restoredBy: [{ source: SUCCESS.source, step: null, at: null }],
    };
    expect(recoveryRecord(outcome, 'SLOs never held', 10_000, [breached], steps)).to.deep.equal({
      recovered: false,
      restoredBy: [{ source: SUCCESS.source, step: null }],
      reason: 'SLOs never held',
    });
  });

  it('judges each step over the last five seconds it settled into, before the next step or the decision', () => {
    // Broken until 12 s (second 11 is the first after step 0 ends at 10.5 s), healthy from 12 s on.
    const samples = Array.from({ length: 12 }, (_, i) =>
      second(6000 + i * 1000, 6000 + i * 1000 < 12_000 ? 0 : 20),
    );
    const windows = stepWindows(
      [SUCCESS],
      samples,
      [steps[1] as RunbookStepResult, steps[0] as RunbookStepResult],
      18_000,
    );
    expect(windows.map(({ step: index, from, to }) => ({ index, from, to }))).to.deep.equal([
      { index: 0, from: 10_000, to: 12_000 },
      { index: 1, from: 13_000, to: 18_000 },
    ]);
    expect(windows.map((w) => w.results[0]?.passed)).to.deep.equal([false, true]);
  });

  it('has no window for a step with no second after it', () => {
    expect(stepWindows([SUCCESS], [second(1000)], [step(0, 5000, 100)], 6000)).to.deep.equal([]);
  });
});

describe('engine/phases/judge: the outcome', () => {
  it('a StopScenario is a failed verdict without an error; a timeout or error keeps its message', () => {
    expect(outcomeOfAbort(new StopScenario('steady state did not hold'), false)).to.deep.equal({
      outcome: 'failed',
    });
    expect(outcomeOfAbort(new PhaseTimeout('recover', 100), false)).to.deep.equal({
      outcome: 'timed-out',
      error: 'phase "recover" did not finish within its deadline of 100 ms (raise timeouts.recover)',
    });
    expect(outcomeOfAbort(new Error('boom'), false)).to.deep.equal({ outcome: 'error', error: 'boom' });
  });

  it('an interrupt wins over whatever the phase threw', () => {
    expect(outcomeOfAbort(new Interrupted(), false).outcome).to.equal('interrupted');
    expect(outcomeOfAbort(new Error('boom'), true)).to.deep.equal({ outcome: 'interrupted', error: 'boom' });
    expect(outcomeOfAbort(new StopScenario('x'), true)).to.deep.equal({ outcome: 'interrupted' });
  });

  it('a clean run takes the tally; a failed cleanup overrides passed and failed, not the rest', () => {
    const clean = { failed: false, inconclusive: false };
    expect(finalOutcome('passed', clean, true)).to.equal('passed');
    expect(finalOutcome('passed', { failed: true, inconclusive: true }, true)).to.equal('failed');
    expect(finalOutcome('passed', { failed: false, inconclusive: true }, true)).to.equal('inconclusive');
    expect(finalOutcome('passed', clean, false)).to.equal('cleanup-failed');
    expect(finalOutcome('failed', clean, false)).to.equal('cleanup-failed');
    expect(finalOutcome('passed', { failed: false, inconclusive: true }, false)).to.equal('inconclusive');
    expect(finalOutcome('timed-out', { failed: true, inconclusive: false }, false)).to.equal('timed-out');
  });
});
