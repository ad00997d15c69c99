// Latency histograms: a thin wrapper over hdr-histogram-js (the pure-JS build) that records milliseconds,
// merges, reads percentiles and round-trips through the compressed base64 form stored in LoadSample.histogram.
//
// Values are stored as integer MICROseconds inside the HDR histogram (1 µs .. 1 h, 3 significant digits): a
// loopback request takes a fraction of a millisecond, and integer milliseconds would round it to 0. Everything
// this module hands back is in milliseconds; decode encoded histograms through decodeHistogram, not directly.

import * as hdr from 'hdr-histogram-js';

const MICROS_PER_MS = 1000;
/** One hour in microseconds: longer latencies are clamped (a request timeout is always far below). */
const HIGHEST_MICROS = 3_600_000_000;
const SIGNIFICANT_DIGITS = 3;

/** A latency histogram in milliseconds. */
export interface LatencyHistogram {
  /** Records one latency in ms (negative values count as 0; values beyond 1 h as 1 h). */
  record(ms: number): void;
  /** Records the same latency `count` times. */
  recordMany(ms: number, count: number): void;
  /** Adds every value of `other` into this histogram. */
  merge(other: LatencyHistogram): void;
  /** The latency (ms) at or below which `percentile` percent of values fall; NaN when empty. */
  percentile(percentile: number): number;
  readonly count: number;
  /** How many values are at or below `ms` (to the histogram's 0.1 % resolution). */
  countAtOrBelow(ms: number): number;
  /** Largest value recorded (ms); NaN when empty. */
  readonly max: number;
  /** Mean of recorded values (ms); NaN when empty. */
  readonly mean: number;
  /** The compressed base64 form (hdr-histogram-js `encodeIntoCompressedBase64`, values in µs). */
  encode(): string;
  /** The underlying hdr-histogram-js object, for merging without copies. */
  readonly raw: hdr.Histogram;
}

function toMicros(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(HIGHEST_MICROS, Math.round(ms * MICROS_PER_MS));
}

function wrap(raw: hdr.Histogram): LatencyHistogram {
  return {
    raw,
    record(ms: number): void {
      raw.recordValue(toMicros(ms));
    },
    recordMany(ms: number, count: number): void {
      if (count > 0) raw.recordValueWithCount(toMicros(ms), count);
    },
    merge(other: LatencyHistogram): void {
      raw.add(other.raw);
    },
    percentile(percentile: number): number {
      if (raw.totalCount === 0) return Number.NaN;
      return raw.getValueAtPercentile(percentile) / MICROS_PER_MS;
    },
    get count(): number {
      return raw.totalCount;
    },
    countAtOrBelow(ms: number): number {
      const limit = toMicros(ms);
      if (!(raw instanceof hdr.JsHistogram)) {
        throw new Error('countAtOrBelow needs the pure-JS histogram build; got a WebAssembly one');
      }
      // Walk the counts array: hdr-histogram-js has no public count-between for the JS build.
      let total = 0;
      for (let i = 0; i < raw.countsArrayLength; i++) {
        const count = raw.getCountAtIndex(i);
        if (count === 0) continue;
        if (raw.valueFromIndex(i) > limit) break;
        total += count;
      }
      return total;
    },
    get max(): number {
      return raw.totalCount === 0 ? Number.NaN : raw.maxValue / MICROS_PER_MS;
    },
    get mean(): number {
      return raw.totalCount === 0 ? Number.NaN : raw.mean / MICROS_PER_MS;
    },
    encode(): string {
      return hdr.encodeIntoCompressedBase64(raw);
    },
  };
}

/** An empty latency histogram (1 µs .. 1 h, 3 significant digits). */
export function createHistogram(): LatencyHistogram {
  return wrap(
    hdr.build({
      bitBucketSize: 32,
      autoResize: false,
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_MICROS,
      numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
      useWebAssembly: false,
    }),
  );
}

/** Decodes LoadSample.histogram; an empty string is an empty histogram (a second with no completions). */
export function decodeHistogram(encoded: string): LatencyHistogram {
  if (encoded === '') return createHistogram();
  try {
    const raw = hdr.decodeFromCompressedBase64(encoded, 32, false);
    // A decoded histogram must be able to absorb any later merge; the encoded range may be narrower.
    const target = createHistogram();
    target.raw.add(raw);
    return target;
  } catch (error) {
    throw new Error(
      `cannot decode latency histogram: expected compressed base64 from encodeHistogram, got ${JSON.stringify(
        encoded.slice(0, 24),
      )}… (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** Encodes a histogram for LoadSample.histogram / LoadSummary.histogram. */
export function encodeHistogram(histogram: LatencyHistogram): string {
  return histogram.encode();
}

/** Merges encoded histograms into a fresh one (the inputs are left alone). */
export function mergeEncoded(encoded: readonly string[]): LatencyHistogram {
  const merged = createHistogram();
  for (const item of encoded) {
    if (item !== '') merged.merge(decodeHistogram(item));
  }
  return merged;
}

/** p50, p95 and p99 in ms (NaN when empty): the fields a LoadSample and LoadSummary carry. */
export function summarizeLatency(histogram: LatencyHistogram): { p50: number; p95: number; p99: number } {
  return { p50: histogram.percentile(50), p95: histogram.percentile(95), p99: histogram.percentile(99) };
}
