// The inconclusive rule on hand-made seconds: a clean breach fails; a breach the degraded instrument explains is
// inconclusive with its evidence; a breach beyond it, or one in clean seconds too, fails; rates forgive the
// timeouts of a starved machine but never the mesh's statuses; samples without instrument data judge as before.

import { expect } from 'chai';
import type { InstrumentSecond, LoadSample, SloThreshold } from '../../harness/model/index.js';
import { createHistogram, decodeHistogram } from '../../harness/slo/histogram.js';
import {
  correctSecond,
  describeDegradation,
  explainedSeconds,
  judgeSlos,
} from '../../harness/slo/instrument.js';

const T0 = 1_800_000_000_000;
const P95: SloThreshold = { source: 'p(95) < 250ms', metric: 'latency', percentile: 95, op: '<', value: 250 };
const SUCCESS: SloThreshold = {
  source: 'success_rate >= 99%',
  metric: 'success_rate',
  op: '>=',
  value: 0.99,
};

interface SecondSpec {
  latencyMs?: number;
  /** Failed requests of the second's 100, and how they failed. */
  failures?: { count: number; as: 'timeout' | '503' };
  /** The instrument's control-path latency; undefined: a driver without instrument data (k6). */
  controlMs?: number;
  sendLagMs?: number;
  /** Linux PSI "some" share of the second. */
  cpuPressure?: number;
}

function second(index: number, spec: SecondSpec): LoadSample {
  const histogram = createHistogram();
  histogram.recordMany(spec.latencyMs ?? 10, 100);
  const failed = spec.failures?.count ?? 0;
  const instrument: InstrumentSecond | undefined =
    spec.controlMs === undefined
      ? undefined
      : {
          sendLagMaxMs: spec.sendLagMs ?? 1,
          lateSends: 0,
          loopDelayMaxMs: 1,
          control: Array.from({ length: 10 }, () => spec.controlMs as number),
          cpuBusy: 0.99,
          ...(spec.cpuPressure === undefined ? {} : { cpuPressure: spec.cpuPressure }),
        };
  return {
    t: T0 + index * 1000,
    scheduled: 100,
    completed: 100,
    succeeded: 100 - failed,
    dropped: 0,
    byStatus: spec.failures?.as === '503' ? { '200': 100 - failed, '503': failed } : { '200': 100 - failed },
    byFlag: {},
    byError: spec.failures?.as === 'timeout' ? { timeout: failed } : {},
    histogram: histogram.encode(),
    p50: spec.latencyMs ?? 10,
    p95: spec.latencyMs ?? 10,
    p99: spec.latencyMs ?? 10,
    ...(instrument === undefined ? {} : { instrument }),
  };
}

const seconds = (specs: SecondSpec[]) => specs.map((spec, i) => second(i, spec));
const judge = (slo: SloThreshold, samples: LoadSample[]) =>
  judgeSlos([slo], samples, T0, T0 + samples.length * 1000)[0];

describe("slo/instrument: when a breach may be the instrument's", () => {
  it('a breach in clean seconds fails, with no inconclusive evidence', () => {
    const verdict = judge(P95, seconds(Array.from({ length: 10 }, () => ({ latencyMs: 400, controlMs: 1 }))));
    expect(verdict).to.include({ passed: false });
    expect(verdict?.inconclusive).to.equal(undefined);
  });

  it('a breach the degraded instrument explains is inconclusive, and says why', () => {
    const samples = seconds([
      ...Array.from({ length: 7 }, () => ({ latencyMs: 10, controlMs: 1 })),
      ...Array.from({ length: 3 }, () => ({ latencyMs: 400, controlMs: 120, sendLagMs: 90 })),
    ]);
    const verdict = judge(P95, samples);
    expect(verdict?.passed).to.equal(false);
    expect(verdict?.inconclusive).to.match(
      /^instrument degraded in 3 of 10 s; generator sent up to 90 ms late in 3 s; control path up to 120 ms \(p95 120 ms\); CPU ≥ 95 % busy in 10 s; with the instrument's part taken off those seconds p\(95\) < 250ms measures \d+ms and holds$/,
    );
  });

  it('a breach far beyond what the degradation explains fails', () => {
    const samples = seconds(Array.from({ length: 10 }, () => ({ latencyMs: 3000, controlMs: 120 })));
    expect(explainedSeconds([P95], samples)).to.deep.equal([]);
    expect(judge(P95, samples)?.inconclusive).to.equal(undefined);
  });

  it("a saturated machine explains a degraded second's latency whatever its size, never its 503s", () => {
    const calm = Array.from({ length: 12 }, () => ({ latencyMs: 20, controlMs: 3, cpuPressure: 0.5 }));
    // As measured on 2 cores: p95 1.4 s while the control path took 150 ms and tasks waited for a CPU 97 % of the time.
    const saturated = seconds([
      ...calm,
      ...Array.from({ length: 3 }, () => ({ latencyMs: 1500, controlMs: 150, cpuPressure: 0.97 })),
    ]);
    const p95 = { ...P95, value: 500 };
    expect(judge(p95, saturated)?.inconclusive).to.match(
      /saturated \(tasks waiting for a CPU ≥ 90 % of the time\) in 3 s/,
    );
    // The same seconds without the pressure: 1.5 s is far beyond 3 × 150 ms, so it fails.
    const unsaturated = seconds([
      ...calm,
      ...Array.from({ length: 3 }, () => ({ latencyMs: 1500, controlMs: 150, cpuPressure: 0.5 })),
    ]);
    expect(judge(p95, unsaturated)?.inconclusive).to.equal(undefined);
    // Saturation without a degraded instrument is no excuse: the control path answered in 3 ms.
    const busyButOnTime = seconds([
      ...calm,
      ...Array.from({ length: 3 }, () => ({ latencyMs: 1500, controlMs: 3, cpuPressure: 0.97 })),
    ]);
    expect(judge(p95, busyButOnTime)?.inconclusive).to.equal(undefined);
    const errors = seconds([
      ...calm,
      ...Array.from({ length: 3 }, () => ({
        failures: { count: 30, as: '503' as const },
        controlMs: 150,
        cpuPressure: 0.97,
      })),
    ]);
    expect(judge(SUCCESS, errors)?.inconclusive).to.equal(undefined);
  });

  it('a breach that the clean seconds show as well fails, even beside explained ones', () => {
    const samples = seconds([
      ...Array.from({ length: 7 }, () => ({ latencyMs: 300, controlMs: 1 })),
      ...Array.from({ length: 3 }, () => ({ latencyMs: 400, controlMs: 120 })),
    ]);
    expect(explainedSeconds([P95], samples)).to.have.length(3);
    expect(judge(P95, samples)?.inconclusive).to.equal(undefined);
  });

  it("rates: timeouts in degraded seconds are explained, the mesh's 503s never are", () => {
    const starved = seconds([
      ...Array.from({ length: 8 }, () => ({ controlMs: 1 })),
      ...Array.from({ length: 2 }, () => ({
        failures: { count: 20, as: 'timeout' as const },
        controlMs: 200,
      })),
    ]);
    expect(judge(SUCCESS, starved)?.inconclusive).to.be.a('string');
    const broken = seconds([
      ...Array.from({ length: 8 }, () => ({ controlMs: 1 })),
      ...Array.from({ length: 2 }, () => ({ failures: { count: 20, as: '503' as const }, controlMs: 200 })),
    ]);
    expect(judge(SUCCESS, broken)).to.include({ passed: false });
    expect(judge(SUCCESS, broken)?.inconclusive).to.equal(undefined);
  });

  it('samples without instrument data (k6) are judged as before', () => {
    const verdict = judge(P95, seconds(Array.from({ length: 5 }, () => ({ latencyMs: 400 }))));
    expect(verdict).to.include({ passed: false });
    expect(verdict?.inconclusive).to.equal(undefined);
  });

  it('a window that holds is passed whatever the instrument went through', () => {
    const verdict = judge(P95, seconds(Array.from({ length: 5 }, () => ({ latencyMs: 20, controlMs: 300 }))));
    expect(verdict).to.include({ passed: true });
    expect(verdict?.inconclusive).to.equal(undefined);
  });

  it('correctSecond takes three times the delay off each latency and leaves timeouts out', () => {
    const corrected = correctSecond(
      second(0, { latencyMs: 400, failures: { count: 10, as: 'timeout' }, controlMs: 100 }),
      100,
    );
    expect(corrected.completed).to.equal(90);
    expect(corrected.byError).to.deep.equal({});
    expect(corrected.instrument).to.equal(undefined);
    expect(decodeHistogram(corrected.histogram).percentile(95)).to.be.within(99, 101);
  });

  it('describes a degradation without a late generator or a busy CPU in fewer words', () => {
    const samples = seconds([{ controlMs: 60 }]).map((s) => ({
      ...s,
      instrument: { ...(s.instrument as InstrumentSecond), cpuBusy: 0.5 },
    }));
    expect(describeDegradation(samples, samples)).to.equal(
      'instrument degraded in 1 of 1 s; control path up to 60 ms (p95 60 ms)',
    );
  });
});
