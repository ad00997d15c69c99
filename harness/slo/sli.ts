// Service-level indicators measured from the client side: success rate, error rate and latency percentiles over
// a window of per-second LoadSamples, and the verdict of each SLO threshold over that window.
//
// Success rate = succeeded / (completed + dropped). A dropped request was scheduled by the open-model load but
// never sent because the in-flight cap was reached — usually because the server had stalled. Leaving drops out
// would let a stalled mesh look healthy (fewer, faster requests), which is exactly the coordinated-omission
// trap; counting them as failures keeps the SLI honest about what users scheduled and did not get.
// Requests still in flight when load stops are neither completed nor dropped, and are not counted.

import type { LoadSample } from '../model/index.js';
import type { SloThreshold } from '../model/index.js';
import { createHistogram, decodeHistogram, type LatencyHistogram } from './histogram.js';
import { thresholdHolds } from './threshold.js';

/** The samples of a window added up. */
export interface WindowAggregate {
  from: number;
  to: number;
  /** Samples whose bucket start lies in [from, to). */
  samples: number;
  scheduled: number;
  completed: number;
  succeeded: number;
  dropped: number;
  /** Latencies of every completed request (successes and failures alike), merged. */
  histogram: LatencyHistogram;
}

export interface SloResult {
  source: string;
  /** In the threshold's units (ratio or ms); NaN when the window holds no data. */
  measured: number;
  passed: boolean;
}

// Decoding is the costly part of aggregating; samples are immutable once streamed, so decode each once.
const decoded = new WeakMap<LoadSample, LatencyHistogram>();

/** The latency histogram of one sample (decoded once, then cached; do not mutate the result). */
export function sampleHistogram(sample: LoadSample): LatencyHistogram {
  let histogram = decoded.get(sample);
  if (histogram === undefined) {
    histogram = decodeHistogram(sample.histogram);
    decoded.set(sample, histogram);
  }
  return histogram;
}

/** Adds up the samples of [from, to), merging their histograms. */
export function aggregateWindow(samples: readonly LoadSample[], from: number, to: number): WindowAggregate {
  const histogram = createHistogram();
  const total: WindowAggregate = {
    from,
    to,
    samples: 0,
    scheduled: 0,
    completed: 0,
    succeeded: 0,
    dropped: 0,
    histogram,
  };
  for (const sample of samples) {
    if (sample.t < from || sample.t >= to) continue;
    total.samples += 1;
    total.scheduled += sample.scheduled;
    total.completed += sample.completed;
    total.succeeded += sample.succeeded;
    total.dropped += sample.dropped;
    if (sample.histogram !== '') histogram.merge(sampleHistogram(sample));
  }
  return total;
}

/** succeeded / (completed + dropped); NaN when nothing was completed or dropped. */
export function successRate(window: Pick<WindowAggregate, 'succeeded' | 'completed' | 'dropped'>): number {
  const denominator = window.completed + window.dropped;
  return denominator === 0 ? Number.NaN : window.succeeded / denominator;
}

/** 1 − success rate (drops count as errors); NaN when there is no data. */
export function errorRate(window: Pick<WindowAggregate, 'succeeded' | 'completed' | 'dropped'>): number {
  return 1 - successRate(window);
}

/** The latency (ms) at a percentile of the window's merged histogram; NaN when nothing completed. */
export function latencyPercentile(window: Pick<WindowAggregate, 'histogram'>, percentile: number): number {
  return window.histogram.percentile(percentile);
}

/** The value an SLO threshold is compared against, measured over an aggregated window. */
export function measureSli(slo: SloThreshold, window: WindowAggregate): number {
  switch (slo.metric) {
    case 'success_rate':
      return successRate(window);
    case 'error_rate':
      return errorRate(window);
    case 'latency':
      if (slo.percentile === undefined) {
        throw new Error(
          `SLO "${slo.source}": a latency threshold needs a percentile such as p(95); got none`,
        );
      }
      return latencyPercentile(window, slo.percentile);
  }
}

/** Judges each SLO over the same aggregated window. No data (NaN) never passes. */
export function evaluateWindow(slos: readonly SloThreshold[], window: WindowAggregate): SloResult[] {
  return slos.map((slo) => {
    const measured = measureSli(slo, window);
    return { source: slo.source, measured, passed: !Number.isNaN(measured) && thresholdHolds(slo, measured) };
  });
}

/** Judges each SLO over the samples of [from, to). */
export function evaluateSlos(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
  from: number,
  to: number,
): SloResult[] {
  return evaluateWindow(slos, aggregateWindow(samples, from, to));
}
