import { expect } from 'chai';
import { formatMeasured, parseThreshold, thresholdHolds } from './threshold.js';

describe('SLO threshold grammar', () => {
  const good: [string, object][] = [
    ['success_rate >= 99.5%', { metric: 'success_rate', op: '>=', value: 0.995 }],
    ['error_rate < 1%', { metric: 'error_rate', op: '<', value: 0.01 }],
    ['error_rate<0.02', { metric: 'error_rate', op: '<', value: 0.02 }],
    ['p(95) < 300ms', { metric: 'latency', percentile: 95, op: '<', value: 300 }],
    ['p(99.9) <= 1.5s', { metric: 'latency', percentile: 99.9, op: '<=', value: 1500 }],
  ];
  for (const [text, fields] of good) {
    it(`parses "${text}"`, () => {
      const parsed = parseThreshold(text);
      expect(parsed.ok).to.equal(true);
      if (parsed.ok) expect(parsed.threshold).to.include(fields);
    });
  }

  const bad: [string, RegExp][] = [
    ['success_rate => 99%', /a threshold like/],
    ['latency < 300ms', /a threshold like/],
    ['p(95) < 300', /latency with a unit/],
    ['p(100) < 3s', /strictly between 0 and 100/],
    ['error_rate < 5s', /rate as a percentage/],
    ['success_rate >= 120%', /between 0% and 100%/],
  ];
  for (const [text, message] of bad) {
    it(`rejects "${text}"`, () => {
      const parsed = parseThreshold(text);
      expect(parsed.ok).to.equal(false);
      if (!parsed.ok) expect(parsed.expected).to.match(message);
    });
  }

  it('evaluates each operator, and NaN never holds', () => {
    const t = (s: string) => {
      const p = parseThreshold(s);
      if (!p.ok) throw new Error(p.expected);
      return p.threshold;
    };
    expect(thresholdHolds(t('success_rate >= 99%'), 0.99)).to.equal(true);
    expect(thresholdHolds(t('success_rate >= 99%'), 0.989)).to.equal(false);
    expect(thresholdHolds(t('p(95) < 300ms'), 300)).to.equal(false);
    expect(thresholdHolds(t('p(95) <= 300ms'), 300)).to.equal(true);
    expect(thresholdHolds(t('error_rate > 1%'), 0.5)).to.equal(true);
    expect(thresholdHolds(t('success_rate >= 99%'), Number.NaN)).to.equal(false);
    expect(formatMeasured(t('success_rate >= 99%'), 0.98765)).to.equal('98.77%');
    expect(formatMeasured(t('p(95) < 1s'), 412.4)).to.equal('412ms');
  });
});
