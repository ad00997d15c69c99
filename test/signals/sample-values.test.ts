// Prometheus writes sample values as strings, infinities as "+Inf"/"-Inf", which Number() reads as NaN: a ratio
// over a zero denominator must read as +Inf (and say so in evidence), not as NaN.

import { expect } from 'chai';
import { parseResult, parseSampleValue } from '../../harness/signals/index.js';

describe('Prometheus sample values', () => {
  it('reads decimals, NaN and both infinities', () => {
    expect(parseSampleValue('1.25')).to.equal(1.25);
    expect(parseSampleValue('+Inf')).to.equal(Number.POSITIVE_INFINITY);
    expect(parseSampleValue('-Inf')).to.equal(Number.NEGATIVE_INFINITY);
    expect(parseSampleValue('NaN')).to.be.NaN;
  });

  it('keeps them through vector and scalar results', () => {
    expect(parseResult('vector', [{ metric: { job: 'a' }, value: [1, '+Inf'] }])).to.deep.equal([
      { metric: { job: 'a' }, value: Number.POSITIVE_INFINITY },
    ]);
    expect(parseResult('scalar', [1, '-Inf'])).to.deep.equal([
      { metric: {}, value: Number.NEGATIVE_INFINITY },
    ]);
  });
});
