import { expect } from 'chai';
import { compareDuration, compareRuns, resolveTolerances } from '../../reports/compare.js';
import { renderComparisonHtml, renderComparisonText } from '../../reports/compare-render.js';
import { buildResults } from '../../reports/results.js';
import { loadFixture } from './fixtures.js';

describe('reports/compare: regressions between two runs', () => {
  it('no regression: Istio 1.29 → 1.30 with small drift inside the tolerances', () => {
    const c = compareRuns(loadFixture('passing').results, loadFixture('passing-istio-1.30').results);
    expect(c.regressions).to.deep.equal([]);
    expect(c.regression).to.equal(false);
    expect(c.a.versions.istio).to.equal('1.29.4');
    expect(c.b.versions.istio).to.equal('1.30.3');
    const upstream = c.scenarios.find((s) => s.scenario === 'upstream-503');
    const ttd = upstream?.detection.find((d) => d.what === 'TTD IstioHigh5xxRate');
    // 14.8s → 15.6s: worse by 0.8s, allowed max(20% of 14.8s, 5s) = 5s.
    expect(ttd).to.deep.include({ a: 14800, b: 15600, delta: 800, allowed: 5000, verdict: 'worse' });
    expect(upstream?.assertions.every((a) => a.verdict === 'same')).to.equal(true);
    const text = renderComparisonText(c);
    expect(text.split('\n')[0]).to.equal('NO REGRESSION: B is within tolerance of A');
    expect(text).to.include(
      'TTD IstioHigh5xxRate: 14.8s → 15.6s (+800ms, allowed 5s)  worse (within tolerance)',
    );
  });

  it('regression: a verdict passed → failed is always a regression, and a signal that stopped firing is named', () => {
    const c = compareRuns(loadFixture('passing').results, loadFixture('failing').results);
    expect(c.regression).to.equal(true);
    expect(c.regressions).to.include(
      'upstream-503/main: IstioHigh5xxRate fires within 30s: verdict passed → failed',
    );
    expect(c.regressions).to.include('upstream-503/main: TTD IstioHigh5xxRate: fired in A, never in B');
    // Scenarios only in A lost coverage; a variant only in B is new, not a regression.
    expect(c.regressions).to.include('sidecar-oom/main: not run in B (coverage lost)');
    const control = c.scenarios.find((s) => s.variant === 'empty-runbook');
    expect(control?.regression).to.equal(false);
    expect(control?.assertions.every((a) => a.verdict === 'new')).to.equal(true);
    const text = renderComparisonText(c);
    expect(text.split('\n')[0]).to.match(/^REGRESSION: \d+ regression\(s\) from A to B$/);
    expect(text).to.include(
      'pass → fail  IstioHigh5xxRate fires within 30s  REGRESSION (verdict passed → failed)',
    );
    expect(renderComparisonText(c, { color: true })).to.include('\u001b[31;1mREGRESSION');
  });

  it('an inconclusive run is neither a regression nor a pass: its assertions and windows are not compared', () => {
    // Run B: the same passing journal, with its steady-state latency breached while the instrument was degraded.
    const { events } = loadFixture('passing');
    const inconclusive = events.map((e) => {
      if (e.type === 'assertion' && e.scenario === 'upstream-503' && e.id === 'steady-state:slo') {
        return {
          ...e,
          passed: false,
          inconclusive: true,
          message: 'INCONCLUSIVE — p(95) measured 410ms; control path up to 150 ms',
        };
      }
      if (e.type === 'slo-window' && e.scenario === 'upstream-503' && e.window === 'steady-state') {
        return {
          ...e,
          results: e.results.map((r) =>
            r.source === 'p(95) < 250ms'
              ? { ...r, measured: 410, passed: false, inconclusive: 'control path up to 150 ms' }
              : r,
          ),
        };
      }
      return e;
    });
    const c = compareRuns(loadFixture('passing').results, buildResults(inconclusive));
    const upstream = c.scenarios.find((s) => s.scenario === 'upstream-503');
    expect(upstream?.assertions.find((a) => a.id === 'steady-state:slo')?.verdict).to.equal('inconclusive');
    expect(upstream?.slis.find((m) => m.what === 'SLI steady-state p(95) < 250ms')?.verdict).to.equal(
      'inconclusive',
    );
    expect(c.regressions).to.deep.equal([]);
    // Negative control of this test: the same breach, decided (failed), is a regression.
    const failed = inconclusive.map((e) =>
      e.type === 'assertion' && e.inconclusive ? { ...e, inconclusive: false } : e,
    );
    expect(compareRuns(loadFixture('passing').results, buildResults(failed)).regression).to.equal(true);
  });

  it('a TTD that grows beyond the tolerance is a regression even when the verdict still passes', () => {
    const a = loadFixture('passing');
    const slower = a.events.map((e) =>
      e.type === 'condition' && e.role === 'signal' && e.name === 'istio-5xx-ratio'
        ? { ...e, afterMs: 11_000 }
        : e,
    );
    const c = compareRuns(a.results, buildResults(slower));
    expect(c.regressions).to.deep.equal(['upstream-503/main: TTD istio-5xx-ratio grew beyond tolerance']);
    // Loosen the tolerance: 4.2s → 11s is +6.8s, within +10s.
    expect(compareRuns(a.results, buildResults(slower), { ttd: { absoluteMs: 10_000 } }).regression).to.equal(
      false,
    );
  });

  it('repeats compare by pass rate: 100% → 67% is a regression, 67% → 100% an improvement', () => {
    const passing = loadFixture('passing').results;
    const repeat = loadFixture('repeat-3').results;
    const worse = compareRuns(passing, repeat);
    expect(worse.regressions).to.include(
      'upstream-503/main: IstioHigh5xxRate fires within 30s: pass rate 100% → 67%',
    );
    const better = compareRuns(repeat, passing);
    const alert = better.scenarios[0]?.assertions.find((a) => a.id === 'detect:IstioHigh5xxRate');
    expect(alert?.verdict).to.equal('better');
  });

  it('tolerance arithmetic: the larger of the relative and absolute allowance', () => {
    const t = resolveTolerances({ ttd: { relative: 0.5 } });
    expect(t.ttd).to.deep.equal({ relative: 0.5, absoluteMs: 5000 });
    expect(compareDuration('x', 20_000, 29_999, t.ttd).verdict).to.equal('worse');
    expect(compareDuration('x', 20_000, 30_001, t.ttd).verdict).to.equal('regression');
    expect(compareDuration('x', 2_000, 7_000, t.ttd).verdict).to.equal('worse');
    expect(compareDuration('x', 2_000, 7_001, t.ttd).verdict).to.equal('regression');
    expect(compareDuration('x', 5_000, 4_000, t.ttd).verdict).to.equal('better');
    expect(compareDuration('x', 5_000, null, t.ttd).verdict).to.equal('missing');
  });

  it('renders a self-contained HTML comparison', () => {
    const html = renderComparisonHtml(
      compareRuns(loadFixture('passing').results, loadFixture('failing').results),
    );
    expect(html).to.include('✗ Regression');
    expect(html).to.include('verdict passed → failed');
    expect(html).to.not.match(/<(link|img|script)\b|\bsrc=/i);
  });
});
