// Tests of the k6 NDJSON parser on a recorded-format fixture: per-second samples by request start, drops,
// error kinds from k6 error codes, flags, histograms, incremental feeding and a line cut short by a kill.

import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  classifyK6ErrorCode,
  K6OutputParser,
  parseK6Line,
  parseK6Output,
  parseK6Time,
} from '../../harness/load/k6/output.js';
import { decodeHistogram } from '../../harness/slo/histogram.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/k6/points-basic.ndjson');
const T0 = Date.parse('2024-05-14T10:00:00Z');

describe('load/k6 output parser', () => {
  it('turns the fixture into per-second samples placed by request start', async () => {
    const { samples, summary, badLines } = parseK6Output(await readFile(FIXTURE, 'utf8'));
    expect(badLines, 'the cut-short last line').to.equal(1);
    expect(samples.map((s) => s.t)).to.deep.equal([T0, T0 + 1000, T0 + 2000]);
    const [s0, s1, s2] = samples;
    expect(s0).to.include({ scheduled: 10, completed: 10, succeeded: 10, dropped: 0 });
    expect(s1).to.include({ scheduled: 10, completed: 10, succeeded: 8, dropped: 0 });
    expect(s1?.byStatus).to.deep.equal({ '200': 7, '302': 1, '503': 1 });
    expect(s1?.byError).to.deep.equal({ refused: 1 });
    expect(s1?.byFlag).to.deep.equal({ UF: 1, URX: 1 });
    // The 2.5 s timeout ended in second 4 but started in second 2, where it belongs.
    expect(s2).to.include({ scheduled: 13, completed: 10, succeeded: 8, dropped: 3 });
    expect(s2?.byError).to.deep.equal({ timeout: 1, reset: 1 });
    expect(s2?.p99).to.be.closeTo(2500, 3);
    expect(summary).to.include({ scheduled: 33, completed: 30, succeeded: 26, dropped: 3, startedAt: T0 });
    expect(decodeHistogram(summary.histogram).count).to.equal(30);
    expect(s0?.p50).to.be.within(5, 15);
  });

  it('gives the same samples when fed in small chunks, closing seconds as later points arrive', async () => {
    const text = await readFile(FIXTURE, 'utf8');
    const parser = new K6OutputParser({ lateMs: 1000 });
    const streamed = [];
    for (let i = 0; i < text.length; i += 97) streamed.push(...parser.push(text.slice(i, i + 97)));
    // With 1 s of lateness allowed, seconds 0-2 close before the end (the timeout's point at 4.6 s closes them).
    expect(streamed.map((s) => s.t - T0)).to.deep.equal([0, 1000, 2000]);
    const rest = parser.finish();
    expect(rest.samples).to.deep.equal([]);
    const whole = parseK6Output(text);
    expect(streamed).to.deep.equal(whole.samples);
  });

  it('reads k6 timestamps with nanoseconds and a zone offset', () => {
    expect(parseK6Time('2017-05-09T14:34:45.625742514+02:00')).to.be.closeTo(
      Date.parse('2017-05-09T12:34:45.625Z') + 0.742514,
      1e-6,
    );
    expect(parseK6Time('not a time')).to.be.NaN;
  });

  it('ignores metric declarations and other metrics, and reads tags', () => {
    expect(
      parseK6Line('{"type":"Metric","data":{"type":"trend","contains":"time"},"metric":"http_req_duration"}'),
    ).to.equal(undefined);
    const point = parseK6Line(
      '{"type":"Point","data":{"time":"2017-05-09T14:34:45.239531499+02:00","value":459.865729,"tags":{"status":"200","method":"GET"}},"metric":"http_req_duration"}',
    );
    expect(point?.value).to.equal(459.865729);
    expect(point?.tags).to.deep.equal({ status: '200', method: 'GET' });
    expect(() => parseK6Line('{"type":')).to.throw();
  });

  it('maps k6 error codes to client error kinds', () => {
    expect(
      ['1050', '1211', '1212', '1220', '1201', '1000', undefined].map(classifyK6ErrorCode),
    ).to.deep.equal(['timeout', 'timeout', 'refused', 'reset', 'reset', 'other', 'other']);
  });

  it('returns no samples and an empty summary for output without requests', () => {
    const { samples, summary } = parseK6Output(
      '{"metric":"vus","type":"Point","data":{"time":"2024-05-14T10:00:00Z","value":1,"tags":null}}\n',
    );
    expect(samples).to.deep.equal([]);
    expect(summary).to.include({ scheduled: 0, completed: 0, histogram: '' });
  });
});
