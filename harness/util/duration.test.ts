import { expect } from 'chai';
import { formatDuration, parseDuration, toPromDuration } from './duration.js';

describe('durations', () => {
  it('parses the units users write', () => {
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('30s')).to.equal(30_000);
    expect(parseDuration('1.5s')).to.equal(1500);
    expect(parseDuration('5m')).to.equal(300_000);
    expect(parseDuration('1h30m')).to.equal(5_400_000);
  });
  it('rejects what is not a duration', () => {
    for (const text of ['60', '', 's', '5 minutes', '-5s', '1x'])
      expect(parseDuration(text), text).to.equal(undefined);
  });
  it('formats compactly and to Prometheus syntax', () => {
    expect(formatDuration(850)).to.equal('850ms');
    expect(formatDuration(4200)).to.equal('4.2s');
    expect(formatDuration(185_000)).to.equal('3m05s');
    expect(formatDuration(3_720_000)).to.equal('1h02m');
    expect(toPromDuration(2500)).to.equal('3s');
    expect(toPromDuration(100)).to.equal('1s');
  });
});
