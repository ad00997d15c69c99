// When the instrument, not the mesh, may have broken an SLO. The built-in generator records its own health per
// second (model/instrument.ts): how late it sent, its loop's delay, a control path that bypasses the mesh. A
// second is DEGRADED when that delay reaches DEGRADED_DELAY_MS. A breached window is INCONCLUSIVE — neither
// passed nor failed — only when (1) some of its degraded seconds explain their own breach (latency: it would
// hold with EXPLAIN_FACTOR × the delay taken off; rates: it would hold without the timeouts and drops, the
// failures a starved machine causes — statuses, refusals and resets stay the mesh's) and (2) the window's other
// seconds, judged alone, do not breach. A clean window is judged as before, and a breach the degradation cannot
// explain still fails. docs/load.md gives the rule for users.

import type { LoadSample } from '../model/load.js';
import type { SloThreshold } from '../model/scenario.js';
import { aggregateWindow, evaluateWindow, latencyPercentile, type SloResult } from './sli.js';
import { formatMeasured, thresholdHolds } from './threshold.js';

/** A second whose instrument delay reaches this is degraded (a loopback control answers in about 1 ms). */
export const DEGRADED_DELAY_MS = 50;
/**
 * How many times the instrument's delay a degraded second's latency may be off by and still count as explained:
 * a request through the local mesh wakes about three processes (gateway, sidecar, app), each as late as the
 * control echo on a starved machine.
 */
export const EXPLAIN_FACTOR = 3;
/** A second this busy is named in the evidence (CPU is evidence, not a rule: its effect is in the delays). */
const BUSY_CPU = 0.95;

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

/** Whether the SLO holds over one second, or its breach there is explained by the instrument's delay. */
function secondExplained(slo: SloThreshold, sample: LoadSample, delayMs: number): boolean {
  const one = aggregateWindow([sample], sample.t, sample.t + 1000);
  if (slo.metric === 'latency') {
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

/** The samples with the seconds the instrument explains set aside (for a second look at recovery). */
export function withoutExplainedSeconds(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
): LoadSample[] {
  const aside = new Set(explainedSeconds(slos, samples));
  return samples.filter((s) => !aside.has(s));
}

/** What the instrument went through over some seconds, in words. */
export function describeDegradation(window: readonly LoadSample[], aside: readonly LoadSample[]): string {
  const health = window.flatMap((s) => (s.instrument === undefined ? [] : [s.instrument]));
  const late = health.filter((h) => h.sendLagMaxMs >= DEGRADED_DELAY_MS);
  const control = health.flatMap((h) => h.control).sort((a, b) => a - b);
  const busy = health.filter((h) => (h.cpuBusy ?? 0) >= BUSY_CPU).length;
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
  return parts.join('; ');
}

/**
 * Judges each SLO over [from, to) like evaluateSlos, except that a breach the instrument's degradation explains
 * (see the file's head) is inconclusive, with the evidence.
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
    const aside = explainedSeconds([slo], window);
    if (aside.length === 0) return result;
    const rest = window.filter((s) => !aside.includes(s));
    const [restResult] = evaluateWindow([slo], aggregateWindow(rest, from, to));
    const restHasData = restResult !== undefined && !Number.isNaN(restResult.measured);
    if (restHasData && !restResult.passed) return result;
    const without = restHasData
      ? `without those seconds ${slo.source} measures ${formatMeasured(slo, restResult.measured)} and holds`
      : 'no other second to judge it by';
    return { ...result, inconclusive: `${describeDegradation(window, aside)}; ${without}` };
  });
}
