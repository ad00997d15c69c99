// When the instrument, not the mesh, may have broken an SLO. The built-in generator records its own health per
// second (model/instrument.ts): how late it sent, its loop's delay, a control path that bypasses the mesh. A
// second is DEGRADED when that delay reaches DEGRADED_DELAY_MS. A breached window is INCONCLUSIVE — neither
// passed nor failed — only when (1) some of its degraded seconds explain their own breach (latency: it would
// hold with EXPLAIN_FACTOR × the delay taken off; rates: it would hold without the timeouts and drops, the
// failures a starved machine causes — statuses, refusals and resets stay the mesh's) and (2) the window, with
// those seconds corrected that way and every other second as measured, holds. A clean window is judged as
// before, and a breach the degradation cannot explain still fails. docs/load.md gives the rule for users.

import type { LoadSample } from '../model/index.js';
import type { SloThreshold } from '../model/index.js';
import { createHistogram, summarizeLatency } from './histogram.js';
import {
  aggregateWindow,
  evaluateWindow,
  latencyPercentile,
  type SloResult,
  sampleHistogram,
} from './sli.js';
import { formatMeasured, thresholdHolds } from './threshold.js';

/** A second whose instrument delay reaches this is degraded (a loopback control answers in about 1 ms). */
export const DEGRADED_DELAY_MS = 50;
/**
 * How many times the instrument's delay a degraded second's latency may be off by and still count as explained:
 * a request through the local mesh wakes about three processes (gateway, sidecar, app), each as late as the
 * control echo on a starved machine.
 */
export const EXPLAIN_FACTOR = 3;
/** A second this busy is named in the evidence. */
const BUSY_CPU = 0.95;
/**
 * A degraded second in which some task waited for a CPU for at least this share of the time (Linux PSI) was
 * SATURATED: requests queue in every process of the local mesh, and latency grows without a bound the
 * instrument's own delay could give (measured on 2 cores: 1.4–1.6 s at p95 with a 65–180 ms control path, against
 * 15–30 ms in the same drill's unsaturated seconds). Its latency breach is explained whatever its size; its
 * statuses, refusals and resets are still the mesh's.
 */
export const SATURATED_CPU_PRESSURE = 0.9;

/** An SLO's verdict over a window; `inconclusive` carries why the breach may be the instrument's. */
export interface SloVerdict extends SloResult {
  inconclusive?: string;
}

/** The instrument's own delay in a second (ms): its worst send lag, loop delay or control probe. */
export function instrumentDelayMs(sample: LoadSample): number | undefined {
  const health = sample.instrument;
  if (health === undefined) return undefined;
  return Math.max(health.sendLagMaxMs, health.loopDelayMaxMs, ...health.control);
}

export function isDegraded(sample: LoadSample): boolean {
  return (instrumentDelayMs(sample) ?? 0) >= DEGRADED_DELAY_MS;
}

/** Whether a degraded second was also saturated (SATURATED_CPU_PRESSURE). */
export function isSaturated(sample: LoadSample): boolean {
  return isDegraded(sample) && (sample.instrument?.cpuPressure ?? 0) >= SATURATED_CPU_PRESSURE;
}

/** Whether the SLO holds over one second, or its breach there is explained by the instrument's delay. */
function secondExplained(slo: SloThreshold, sample: LoadSample, delayMs: number): boolean {
  const one = aggregateWindow([sample], sample.t, sample.t + 1000);
  if (slo.metric === 'latency') {
    if (isSaturated(sample)) return true;
    const measured = latencyPercentile(one, slo.percentile ?? 99);
    return Number.isNaN(measured) || thresholdHolds(slo, Math.max(0, measured - EXPLAIN_FACTOR * delayMs));
  }
  // Timeouts and drops are what a starved machine causes; every other failure stays counted.
  const judged = sample.completed - (sample.byError.timeout ?? 0);
  if (judged <= 0) return true;
  const success = sample.succeeded / judged;
  return thresholdHolds(slo, slo.metric === 'success_rate' ? success : 1 - success);
}

/** The degraded seconds among `samples` whose breach of every given SLO the instrument explains. */
export function explainedSeconds(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
): LoadSample[] {
  return samples.filter((s) => {
    const delay = instrumentDelayMs(s);
    return (
      delay !== undefined && delay >= DEGRADED_DELAY_MS && slos.every((slo) => secondExplained(slo, s, delay))
    );
  });
}

/**
 * A second as it would have measured without the instrument's part: EXPLAIN_FACTOR × its delay taken off each
 * latency (rebuilt from the second's percentiles in 1 % steps), its timeouts and drops left out.
 */
export function correctSecond(sample: LoadSample, delayMs: number): LoadSample {
  const measured = sampleHistogram(sample);
  const corrected = createHistogram();
  const count = measured.count;
  // A saturated second's latency has no bound to take off: it counts as if every request had been instant.
  const offMs = isSaturated(sample) ? Number.POSITIVE_INFINITY : EXPLAIN_FACTOR * delayMs;
  for (let q = 1; q <= 100 && count > 0; q++) {
    const n = Math.floor((count * q) / 100) - Math.floor((count * (q - 1)) / 100);
    if (n > 0) corrected.recordMany(Math.max(0, measured.percentile(q) - offMs), n);
  }
  const timeouts = sample.byError.timeout ?? 0;
  const { timeout: _timeout, ...byError } = sample.byError;
  const { instrument: _instrument, ...rest } = sample;
  return {
    ...rest,
    completed: sample.completed - timeouts,
    dropped: 0,
    byError,
    histogram: corrected.count === 0 ? '' : corrected.encode(),
    ...summarizeLatency(corrected),
  };
}

/** The samples with every second whose breach of the SLOs the instrument explains corrected (correctSecond). */
export function correctExplainedSeconds(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
): LoadSample[] {
  const explained = new Set(explainedSeconds(slos, samples));
  return samples.map((s) => (explained.has(s) ? correctSecond(s, instrumentDelayMs(s) ?? 0) : s));
}

/** What the instrument went through over some seconds, in words. */
export function describeDegradation(window: readonly LoadSample[], aside: readonly LoadSample[]): string {
  const health = window.flatMap((s) => (s.instrument === undefined ? [] : [s.instrument]));
  const late = health.filter((h) => h.sendLagMaxMs >= DEGRADED_DELAY_MS);
  const control = health.flatMap((h) => h.control).sort((a, b) => a - b);
  const busy = health.filter((h) => (h.cpuBusy ?? 0) >= BUSY_CPU).length;
  const saturated = window.filter(isSaturated).length;
  const parts = [`instrument degraded in ${aside.length} of ${window.length} s`];
  if (late.length > 0) {
    const worst = Math.max(...late.map((h) => h.sendLagMaxMs));
    parts.push(`generator sent up to ${Math.round(worst)} ms late in ${late.length} s`);
  }
  if (control.length > 0) {
    const p95 = control[Math.min(control.length - 1, Math.floor(control.length * 0.95))] ?? 0;
    parts.push(
      `control path up to ${Math.round(control[control.length - 1] ?? 0)} ms (p95 ${Math.round(p95)} ms)`,
    );
  }
  if (busy > 0) parts.push(`CPU ≥ ${BUSY_CPU * 100} % busy in ${busy} s`);
  if (saturated > 0)
    parts.push(
      `saturated (tasks waiting for a CPU ≥ ${SATURATED_CPU_PRESSURE * 100} % of the time) in ${saturated} s`,
    );
  return parts.join('; ');
}

/**
 * Judges each SLO over [from, to) like evaluateSlos, except that a breach is inconclusive when the window,
 * with the seconds whose breach the instrument explains corrected, would hold (see the file's head).
 */
export function judgeSlos(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
  from: number,
  to: number,
): SloVerdict[] {
  const window = samples.filter((s) => s.t >= from && s.t < to);
  const strict = evaluateWindow(slos, aggregateWindow(window, from, to));
  return strict.map((result, i) => {
    const slo = slos[i];
    if (result.passed || slo === undefined || Number.isNaN(result.measured)) return result;
    const explained = explainedSeconds([slo], window);
    if (explained.length === 0) return result;
    const corrected = correctExplainedSeconds([slo], window);
    const [second] = evaluateWindow([slo], aggregateWindow(corrected, from, to));
    if (second === undefined || !second.passed) return result;
    const without = `with the instrument's part taken off those seconds ${slo.source} measures ${formatMeasured(slo, second.measured)} and holds`;
    return { ...result, inconclusive: `${describeDegradation(window, explained)}; ${without}` };
  });
}
