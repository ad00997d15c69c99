// Builders of LoadSamples for the SLO maths tests: one second of load with given counts and latencies.

import type { LoadSample } from '../../harness/model/load.js';
import { createHistogram, summarizeLatency } from '../../harness/slo/histogram.js';

export interface SecondSpec {
  /** Requests completed with a 2xx. */
  ok?: number;
  /** Requests completed with a 5xx. */
  failed?: number;
  dropped?: number;
  /** Latency of every completed request, ms. */
  latencyMs?: number;
}

/** A LoadSample for the second starting at `t`. */
export function makeSample(t: number, spec: SecondSpec): LoadSample {
  const ok = spec.ok ?? 0;
  const failed = spec.failed ?? 0;
  const dropped = spec.dropped ?? 0;
  const histogram = createHistogram();
  histogram.recordMany(spec.latencyMs ?? 10, ok + failed);
  const latency = summarizeLatency(histogram);
  return {
    t,
    scheduled: ok + failed + dropped,
    completed: ok + failed,
    succeeded: ok,
    dropped,
    byStatus: { ...(ok > 0 ? { '200': ok } : {}), ...(failed > 0 ? { '503': failed } : {}) },
    byFlag: {},
    byError: {},
    histogram: histogram.count > 0 ? histogram.encode() : '',
    p50: histogram.count > 0 ? latency.p50 : 0,
    p95: histogram.count > 0 ? latency.p95 : 0,
    p99: histogram.count > 0 ? latency.p99 : 0,
  };
}

/** Consecutive seconds from `start`, one spec each. */
export function makeSeconds(start: number, specs: readonly SecondSpec[]): LoadSample[] {
  return specs.map((spec, i) => makeSample(start + i * 1000, spec));
}

/** `count` copies of the same second. */
export function repeat(spec: SecondSpec, count: number): SecondSpec[] {
  return Array.from({ length: count }, () => spec);
}
