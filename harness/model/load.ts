// The load profile the engine hands a load driver, and the samples a driver streams back.

import type { InstrumentSecond } from './instrument.js';

export interface RequestSpec {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Relative weight in the mix. */
  weight: number;
}

export interface LoadStage {
  durationMs: number;
  /** Arrival rate (requests per second) reached at the end of the stage. */
  target: number;
}

export interface LoadProfile {
  driver: 'builtin' | 'k6';
  executor: 'constant-arrival-rate' | 'ramping-arrival-rate';
  /** Requests per second (constant), or the starting rate (ramping). */
  rate: number;
  stages: LoadStage[];
  /** Upper bound of the run; the engine normally stops load earlier, at cleanup. */
  maxDurationMs: number;
  /** In-flight cap: when reached, a scheduled request is dropped and counted, never queued. */
  maxInFlight: number;
  requestTimeoutMs: number;
  /** Hard cap on requests started, whatever the schedule says. */
  maxRequests: number;
  /** Host header sent to the ingress gateway. */
  host?: string;
  requests: RequestSpec[];
}

/** Counts and latency of some requests: one second of them (a sample) or a whole run (a summary). */
export interface LoadCounts {
  /** Requests that completed (by intended start time). */
  completed: number;
  /** Completed with a status in [200, 400). */
  succeeded: number;
  /** Not started because maxInFlight was reached. */
  dropped: number;
  byStatus: Record<string, number>;
  /** By Envoy response flag (`x-envoy-response-flags`), when the gateway sends one back. */
  byFlag: Record<string, number>;
  /** By client error kind: refused, reset, timeout, other. */
  byError: Record<string, number>;
  /**
   * Latency from the intended start, as a compressed base64 HDR histogram (hdr-histogram-js) holding integer
   * microseconds; read it with harness/slo decodeHistogram, which returns milliseconds.
   */
  histogram: string;
  p50: number;
  p95: number;
  p99: number;
}

/** One second of load, as streamed by a driver while running. */
export interface LoadSample extends LoadCounts {
  /** Start of the one-second bucket, epoch ms. */
  t: number;
  /** Requests scheduled in this second (started + dropped). */
  scheduled: number;
  /** The generator's own health in this second (the built-in driver; absent for k6). */
  instrument?: InstrumentSecond;
}

export interface LoadSummary extends LoadCounts {
  startedAt: number;
  endedAt: number;
  scheduled: number;
}

/** A running load: stop() ends it early and resolves with the summary; done resolves when it ends by itself. */
export interface LoadRun {
  readonly done: Promise<LoadSummary>;
  stop(): Promise<LoadSummary>;
}

export interface LoadDriver {
  readonly name: string;
  start(
    profile: LoadProfile,
    baseUrl: string,
    onSample: (sample: LoadSample) => void,
    signal?: AbortSignal,
  ): Promise<LoadRun>;
}
