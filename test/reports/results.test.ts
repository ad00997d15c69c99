import { expect } from 'chai';
import { JOURNAL_VERSION, type JournalEvent } from '../../harness/model/index.js';
import { buildResults } from '../../reports/results.js';
import { RESULTS_SCHEMA_VERSION } from '../../reports/results-types.js';
import { computeSpread } from '../../reports/stats.js';
import { loadFixture } from './fixtures.js';

describe('reports/results: the journal folded into results.json', () => {
  it('a passing run: run info, verdict, one result per scenario execution', () => {
    const { results } = loadFixture('passing');
    expect(results.schemaVersion).to.equal(RESULTS_SCHEMA_VERSION);
    expect(results.journalVersion).to.equal(JOURNAL_VERSION);
    expect(results.run).to.include({
      runId: 'r-20261120-0300-pass',
      target: 'local',
      outcome: 'passed',
      exitCode: 0,
      repeat: 1,
    });
    expect(results.run.versions).to.include({ istio: '1.29.4', kubernetes: '1.31.0' });
    expect(results.run.timings['istio-install']).to.equal(1900);
    expect(results.run.durationMs).to.be.greaterThan(60_000);
    expect(results.verdict).to.deep.include({ passed: true, failures: [] });
    expect(results.scenarios.map((s) => s.key)).to.deep.equal(['upstream-503/main#1', 'sidecar-oom/main#1']);
    expect(results.cleanup?.ok).to.equal(true);
  });

  it('a scenario carries detection (TTD vs budget and floor), runbook, SLO windows and recovery', () => {
    const s = loadFixture('passing').results.scenarios[0];
    if (!s) throw new Error('no scenario');
    expect(s.outcome).to.equal('passed');
    expect(s.detection).to.deep.equal([
      {
        signal: 'istio-5xx-ratio',
        kind: 'promql',
        budgetMs: 15000,
        fired: true,
        ttdMs: 4200,
        floorMs: 2000,
        withinBudget: true,
        informational: false,
        silent: false,
        evidence: s.detection[0]?.evidence,
      },
      {
        signal: 'IstioHigh5xxRate',
        kind: 'alert',
        budgetMs: 30000,
        fired: true,
        ttdMs: 14800,
        floorMs: 9500,
        withinBudget: true,
        informational: false,
        silent: false,
        evidence: s.detection[1]?.evidence,
      },
    ]);
    expect(s.efficacy[0]).to.include({ name: 'reviews-pods-not-ready', proven: true, afterMs: 900 });
    expect(s.falsePositives.every((f) => !f.fired)).to.equal(true);
    expect(s.runbook.map((r) => [r.index, r.ok, r.exitCode])).to.deep.equal([
      [0, true, 0],
      [1, true, 0],
    ]);
    // The step that restored success_rate is the second one; the first leaves it broken.
    expect(s.runbook[1]?.restored).to.deep.equal(['success_rate >= 99%']);
    expect(s.runbook[0]?.slisAfter[0]?.passed).to.equal(false);
    expect(s.runbook[1]?.slisAfter[0]).to.deep.equal({
      source: 'success_rate >= 99%',
      measured: 1,
      passed: true,
    });
    expect(s.runbook[0]?.offsetMs).to.be.greaterThan(s.detection[1]?.ttdMs ?? Number.POSITIVE_INFINITY);
    expect(s.sloWindows.map((w) => w.window)).to.deep.equal([
      'steady-state',
      'during-fault',
      'after-recovery',
    ]);
    expect(s.recovery?.recovered).to.equal(true);
    expect(s.recovery?.ttrFromInjectionMs).to.be.greaterThan(
      s.recovery?.ttrFromRunbookStartMs ?? Number.POSITIVE_INFINITY,
    );
    expect(s.fault).to.include({ kind: 'chaos-mesh', removed: true });
    expect(s.phases.map((p) => p.phase)).to.include.members([
      'steady-state',
      'inject',
      'detect',
      'remediate',
      'recover',
    ]);
    expect(s.load.samples).to.equal(45);
    expect(s.load.completed).to.equal(45 * 50);
    expect(s.load.byFlag['UF,URX']).to.be.greaterThan(0);
  });

  it('a failing run lists what failed and reports the negative control as passed (it did not recover)', () => {
    const { results } = loadFixture('failing');
    expect(results.verdict.passed).to.equal(false);
    expect(results.run).to.include({ outcome: 'failed', exitCode: 1 });
    expect(results.verdict.failures[0]).to.deep.equal({
      key: 'upstream-503/main#1',
      what: 'upstream-503/main#1: IstioHigh5xxRate fires within 30s — did not fire within 30s',
    });
    const main = results.scenarios.find((s) => s.key === 'upstream-503/main#1');
    expect(main?.detection[1]).to.include({ fired: false, ttdMs: null, withinBudget: false });
    expect(main?.runbook[0]).to.include({ ok: false, exitCode: 1 });
    const control = results.scenarios.find((s) => s.negativeControl);
    expect(control).to.include({
      key: 'upstream-503/empty-runbook#1',
      expect: 'no-recovery',
      outcome: 'passed',
    });
    expect(control?.recovery?.recovered).to.equal(false);
    expect(control?.runbook).to.deep.equal([]);
    expect(results.logs[0]?.message).to.match(/scrape of the ingress gateway/);
  });

  it("files a log event under the variant it names, else under the scenario's latest execution", () => {
    const { events } = loadFixture('failing');
    const end = events.findIndex((e) => e.type === 'run-end');
    const t = (events[end - 1] as JournalEvent).t;
    const log = (message: string, variant?: string): JournalEvent => ({
      type: 'log',
      level: 'warn',
      message,
      scenario: 'upstream-503',
      ...(variant ? { variant } : {}),
      t,
    });
    const withLogs = [
      ...events.slice(0, end),
      log('about main', 'main'),
      log('about the scenario'),
      ...events.slice(end),
    ];
    const results = buildResults(withLogs);
    const logsOf = (key: string) =>
      results.scenarios.find((s) => s.key === key)?.logs.map((l) => l.message) ?? [];
    expect(logsOf('upstream-503/main#1')).to.include('about main');
    expect(logsOf('upstream-503/main#1')).to.not.include('about the scenario');
    expect(logsOf('upstream-503/empty-runbook#1')).to.include('about the scenario');
    expect(logsOf('upstream-503/empty-runbook#1')).to.not.include('about main');
  });

  it('--repeat 3: pass rate per assertion and the TTD/TTR spread show the flaky alert', () => {
    const { results } = loadFixture('repeat-3');
    expect(results.scenarios.map((s) => s.iteration)).to.deep.equal([1, 2, 3]);
    expect(results.repeats).to.have.length(1);
    const group = results.repeats[0];
    expect(group).to.include({ scenario: 'upstream-503', variant: 'main', iterations: 3, passed: 2 });
    const alert = group?.assertions.find((a) => a.id === 'detect:IstioHigh5xxRate');
    expect(alert).to.deep.include({ runs: 3, passed: 2, flaky: true });
    expect(alert?.passRate).to.be.closeTo(2 / 3, 1e-9);
    expect(alert?.measured).to.deep.equal({ n: 3, min: 14800, median: 16900, max: 31200 });
    expect(group?.assertions.find((a) => a.id === 'detect:istio-5xx-ratio')).to.include({
      flaky: false,
      passRate: 1,
    });
    expect(group?.ttd.find((t) => t.signal === 'istio-5xx-ratio')?.spread).to.deep.equal({
      n: 3,
      min: 3900,
      median: 4200,
      max: 5100,
    });
    expect(group?.ttrFromInjection?.n).to.equal(3);
  });

  it('the coverage matrix says which signal caught which fault, how fast, and marks undeclared pairs', () => {
    const { coverage } = loadFixture('passing').results;
    expect(coverage.signals).to.deep.equal([
      'istio-5xx-ratio',
      'IstioHigh5xxRate',
      'proxy-oomkilled',
      'istio-proxy-restarts',
    ]);
    const upstream = coverage.rows.find((r) => r.scenario === 'upstream-503');
    expect(upstream?.cells[0]).to.deep.include({ declared: true, checked: 1, fired: 1, falsePositives: 0 });
    expect(upstream?.cells[0]?.ttd?.median).to.equal(4200);
    expect(upstream?.cells[2]).to.deep.include({ declared: false, checked: 0 });
  });

  it('counts a steady-state false positive in the coverage matrix', () => {
    const { events } = loadFixture('passing');
    const flipped = events.map((e) =>
      e.type === 'condition' && e.role === 'false-positive-check' && e.name === 'istio-5xx-ratio'
        ? { ...e, fired: true }
        : e,
    );
    const cell = buildResults(flipped).coverage.rows[0]?.cells[0];
    expect(cell?.falsePositives).to.equal(1);
  });

  it('a truncated journal yields an incomplete run with the torn line recorded', () => {
    const { results } = loadFixture('truncated');
    expect(results.run.outcome).to.equal('incomplete');
    expect(results.run.exitCode).to.equal(null);
    expect(results.scenarios[0]?.outcome).to.equal('incomplete');
    expect(results.journalProblems).to.have.length(1);
    expect(results.verdict.failures.map((f) => f.what)).to.include(
      'the journal ends before run-end: the run crashed or was killed',
    );
    expect(results.cleanup).to.equal(null);
  });

  it('is a pure function: the same events give deep-equal results, and JSON round-trips', () => {
    const { events } = loadFixture('failing');
    const a = buildResults(events);
    expect(buildResults(events)).to.deep.equal(a);
    expect(JSON.parse(JSON.stringify(a))).to.deep.equal(a);
  });

  it('keeps recovery-condition observations out of detection and shows during-fault assertions', () => {
    const { events } = loadFixture('passing');
    const start = events.find((e) => e.type === 'scenario-start');
    if (start?.type !== 'scenario-start') throw new Error('no scenario-start');
    const scope = { scenario: start.scenario, variant: start.variant, iteration: start.iteration };
    const extra: JournalEvent[] = [
      {
        t: start.t + 1,
        type: 'condition',
        ...scope,
        role: 'recovery',
        name: 'config-converges',
        kind: 'command',
        fired: false,
        afterMs: 1000,
        observedAt: start.t + 1,
        budgetMs: 60_000,
        evidence: 'exit 1: not yet',
      },
      {
        t: start.t + 2,
        type: 'assertion',
        ...scope,
        id: 'during-fault:slo:success_rate >= 99%',
        name: 'SLO holds during the fault: success_rate >= 99%',
        passed: false,
        message: 'success_rate >= 99% over the during-fault window: measured 40%',
        measured: 0.4,
      },
    ];
    const at = events.indexOf(start) + 1;
    const before = buildResults(events).scenarios[0];
    const after = buildResults([...events.slice(0, at), ...extra, ...events.slice(at)]).scenarios[0];
    expect(after?.detection).to.deep.equal(before?.detection);
    expect(after?.detection.map((d) => d.signal)).to.not.include('config-converges');
    const during = after?.assertions.find((a) => a.id.startsWith('during-fault:'));
    expect(during).to.include({ passed: false, name: 'SLO holds during the fault: success_rate >= 99%' });
    expect(after?.outcome).to.equal(before?.outcome);
  });

  it('computeSpread takes min, median and max of the finite values only', () => {
    expect(computeSpread([3, null, 1, 2, undefined, Number.NaN])).to.deep.equal({
      n: 3,
      min: 1,
      median: 2,
      max: 3,
    });
    expect(computeSpread([4, 1, 3, 2])).to.deep.equal({ n: 4, min: 1, median: 2.5, max: 4 });
    expect(computeSpread([null])).to.equal(null);
  });
});
