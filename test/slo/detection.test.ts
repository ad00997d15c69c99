// Tests of time-to-detect and of the detection floor computed from Prometheus rule files.

import { expect } from 'chai';
import {
  computeDetectionFloor,
  computeDetectionFloors,
  largestRangeMs,
  measureTimeToDetect,
  parsePromDuration,
  parseRuleFile,
} from '../../harness/slo/detection.js';

const RULES = `
groups:
  - name: mesh-slo
    rules:
      - record: job:istio_requests:rate5m
        expr: sum(rate(istio_requests_total[5m]))
      - alert: Istio5xxHigh
        expr: |
          sum(rate(istio_requests_total{response_code=~"5.."}[1m]))
            / sum(rate(istio_requests_total[1m])) > 0.05
        for: 30s
      - alert: IstiodDown
        expr: absent(up{job="istiod"} == 1)
  - name: slow
    interval: 1m
    rules:
      - alert: LatencyBurn
        expr: histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket[5m]))) > 300
        for: 2m
      - alert: Istio5xxHigh
        expr: max_over_time(x[30m:1m]) > 1
        for: 10m
`;

const TIMING = { scrapeIntervalMs: 5000, evaluationIntervalMs: 5000 };

describe('slo/detection', () => {
  it('parses Prometheus durations, including compound ones', () => {
    expect(parsePromDuration('5m')).to.equal(300_000);
    expect(parsePromDuration('1h30m')).to.equal(5_400_000);
    expect(parsePromDuration('250ms')).to.equal(250);
    expect(parsePromDuration('1w')).to.equal(604_800_000);
    expect(parsePromDuration('5 minutes')).to.equal(undefined);
  });

  it('finds the largest range window, counting subqueries and ignoring string literals', () => {
    expect(largestRangeMs('rate(a[1m]) / rate(b[5m])')).to.equal(300_000);
    expect(largestRangeMs('max_over_time(rate(a[1m])[30m:15s])')).to.equal(1_800_000);
    expect(largestRangeMs('up{path="[10m]"} == 0')).to.equal(0);
    expect(largestRangeMs('absent(up == 1)')).to.equal(0);
  });

  it('computes the floor of each alert (scrape + evaluation + for) and its look-back (range + scrape + evaluation)', () => {
    const parsed = parseRuleFile(RULES, 'rules.yaml');
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    expect(parsed.rules.map((r) => r.alert)).to.deep.equal([
      'Istio5xxHigh',
      'IstiodDown',
      'LatencyBurn',
      'Istio5xxHigh',
    ]);
    const floors = computeDetectionFloors(parsed.rules, TIMING);
    expect(floors.get('Istio5xxHigh')?.floorMs).to.equal(5000 + 5000 + 30_000);
    expect(floors.get('Istio5xxHigh')?.lookbackMs).to.equal(60_000 + 5000 + 5000);
    expect(floors.get('IstiodDown')?.floorMs).to.equal(10_000);
    // The group's own interval replaces the global evaluation interval.
    expect(floors.get('LatencyBurn')?.parts).to.deep.equal({
      scrapeMs: 5000,
      evaluationMs: 60_000,
      forMs: 120_000,
      rangeMs: 300_000,
    });
    expect(floors.get('LatencyBurn')?.floorMs).to.equal(185_000);
  });

  it('reports every malformed rule at once, with its path', () => {
    const bad = `
groups:
  - name: g
    interval: soon
    rules:
      - alert: A
        expr: up == 0
        for: 5 minutes
      - alert: 42
        expr: up
      - "just text"
`;
    const parsed = parseRuleFile(bad, 'bad.yaml');
    expect(parsed.ok).to.equal(false);
    if (parsed.ok) return;
    expect(parsed.errors).to.deep.equal([
      'bad.yaml: groups[0].interval: expected a duration like "30s", got "soon"',
      'bad.yaml: groups[0].rules[0].for: expected a duration like "1m", got "5 minutes"',
      'bad.yaml: groups[0].rules[1]: expected "alert" and "expr" as strings, got alert=42',
      'bad.yaml: groups[0].rules[2]: expected a mapping with "alert" or "record"',
    ]);
    expect(parseRuleFile('a: [', 'x.yaml')).to.have.property('ok', false);
    expect(parseRuleFile('rules: []', 'x.yaml')).to.deep.equal({
      ok: false,
      errors: ['x.yaml: expected a Prometheus rule file with a top-level "groups" list'],
    });
  });

  it('measures time-to-detect from injection, ignoring firings before it', () => {
    const obs = [
      { t: 900, fired: true },
      { t: 1500, fired: false },
      { t: 4000, fired: true },
      { t: 5000, fired: true },
    ];
    expect(measureTimeToDetect(1000, obs, 5000)).to.deep.equal({
      fired: true,
      ttdMs: 3000,
      withinBudget: true,
    });
    expect(measureTimeToDetect(1000, obs, 2000, 2500)).to.deep.equal({
      fired: true,
      ttdMs: 3000,
      withinBudget: false,
      budgetBelowFloor: true,
    });
    expect(measureTimeToDetect(6000, obs, 5000)).to.deep.equal({ fired: false, withinBudget: false });
  });

  it('keeps the computed floor for one rule consistent with the map', () => {
    const floor = computeDetectionFloor(
      { alert: 'X', expr: 'rate(a[2m]) > 0', forMs: 0, group: 'g' },
      TIMING,
    );
    expect(floor.floorMs).to.equal(10_000);
    expect(floor.lookbackMs).to.equal(130_000);
  });
});
