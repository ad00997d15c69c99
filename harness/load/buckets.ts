// Per-second accounting of a load run. Every request belongs to the second of its INTENDED start, so a stall
// shows up in the seconds whose requests it delayed. A second closes once it has ended and its last request has
// finished (or, at the latest, one request timeout after it ended), and closed seconds are emitted in order as
// LoadSamples. The stream therefore lags real time by at most the request timeout when the server stalls.

import { type InstrumentSecond, LATE_SEND_MS } from '../model/index.js';
import type { LoadSample, LoadSummary } from '../model/index.js';
import { createHistogram, type LatencyHistogram } from '../slo/index.js';

export type ClientErrorKind = 'refused' | 'reset' | 'timeout' | 'other';

/** How one request ended. `aborted`: cut off by stop()/abort — neither completed nor counted as failed. */
export type RequestOutcome =
  | { kind: 'response'; status: number; flags?: string }
  | { kind: 'error'; error: ClientErrorKind }
  | { kind: 'aborted' };

interface Bucket {
  index: number;
  scheduled: number;
  completed: number;
  succeeded: number;
  dropped: number;
  inFlight: number;
  sendLagMaxMs: number;
  lateSends: number;
  byStatus: Record<string, number>;
  byFlag: Record<string, number>;
  byError: Record<string, number>;
  histogram: LatencyHistogram;
}

const BUCKET_MS = 1000;

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function emptyBucket(index: number): Bucket {
  return {
    index,
    scheduled: 0,
    completed: 0,
    succeeded: 0,
    dropped: 0,
    inFlight: 0,
    sendLagMaxMs: 0,
    lateSends: 0,
    byStatus: {},
    byFlag: {},
    byError: {},
    histogram: createHistogram(),
  };
}

function percentileOr0(histogram: LatencyHistogram, p: number): number {
  // Empty seconds carry 0 rather than NaN (JSON has no NaN); `completed` says there was nothing to measure.
  return histogram.count === 0 ? 0 : histogram.percentile(p);
}

/** Whether a status counts as success: [200, 400). */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 400;
}

/** Splits an Envoy response-flags value ("UF,URX") into flags; "-" means none. */
export function splitResponseFlags(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '' && f !== '-');
}

/** The generator's health over second `index` of the run, apart from what the buckets see themselves. */
export type InstrumentSource = (index: number) => Omit<InstrumentSecond, 'sendLagMaxMs' | 'lateSends'>;

export class LoadBuckets {
  readonly startedAt: number;
  private readonly closeGraceMs: number;
  private readonly open = new Map<number, Bucket>();
  /** Index of the next second to emit; all before it are emitted. */
  private nextToEmit = 0;
  private readonly totals: Omit<Bucket, 'index' | 'inFlight'>;
  private readonly instrument: InstrumentSource | undefined;

  /**
   * `closeGraceMs`: how long after its end a second waits for its last requests (the request timeout).
   * `instrument`: the generator's health per second index; with it, each sample carries `instrument`.
   */
  constructor(startedAt: number, closeGraceMs: number, instrument?: InstrumentSource) {
    this.startedAt = startedAt;
    this.closeGraceMs = closeGraceMs;
    this.totals = emptyBucket(-1);
    this.instrument = instrument;
  }

  private bucketFor(intendedAt: number): Bucket {
    const index = Math.max(0, Math.floor((intendedAt - this.startedAt) / BUCKET_MS));
    let bucket = this.open.get(index);
    if (bucket === undefined) {
      // A second already emitted cannot change: a late event folds into the oldest open second instead.
      const target = Math.max(index, this.nextToEmit);
      bucket = this.open.get(target) ?? emptyBucket(target);
      this.open.set(target, bucket);
    }
    return bucket;
  }

  /**
   * A request meant to start at `intendedAt` was sent at `sentAt` (default: on time). Returns a handle to record
   * its outcome.
   */
  start(intendedAt: number, sentAt = intendedAt): (outcome: RequestOutcome, latencyMs: number) => void {
    const bucket = this.bucketFor(intendedAt);
    const lag = sentAt - intendedAt;
    if (lag > bucket.sendLagMaxMs) bucket.sendLagMaxMs = lag;
    if (lag >= LATE_SEND_MS) bucket.lateSends += 1;
    bucket.scheduled += 1;
    bucket.inFlight += 1;
    this.totals.scheduled += 1;
    return (outcome, latencyMs) => {
      bucket.inFlight -= 1;
      if (outcome.kind === 'aborted') return;
      bucket.completed += 1;
      this.totals.completed += 1;
      bucket.histogram.record(latencyMs);
      this.totals.histogram.record(latencyMs);
      if (outcome.kind === 'error') {
        increment(bucket.byError, outcome.error);
        increment(this.totals.byError, outcome.error);
        return;
      }
      const status = String(outcome.status);
      increment(bucket.byStatus, status);
      increment(this.totals.byStatus, status);
      for (const flag of splitResponseFlags(outcome.flags)) {
        increment(bucket.byFlag, flag);
        increment(this.totals.byFlag, flag);
      }
      if (isSuccessStatus(outcome.status)) {
        bucket.succeeded += 1;
        this.totals.succeeded += 1;
      }
    };
  }

  /** One Envoy response flag seen on a request of the second of `at` (for drivers that report flags apart). */
  countFlag(at: number, flag: string, count = 1): void {
    const bucket = this.bucketFor(at);
    bucket.byFlag[flag] = (bucket.byFlag[flag] ?? 0) + count;
    this.totals.byFlag[flag] = (this.totals.byFlag[flag] ?? 0) + count;
  }

  /** Several scheduled requests dropped at once (k6 reports dropped iterations as a counter). */
  dropMany(intendedAt: number, count: number): void {
    for (let i = 0; i < count; i++) this.drop(intendedAt);
  }

  /** A scheduled request was dropped because the in-flight cap was reached. */
  drop(intendedAt: number): void {
    const bucket = this.bucketFor(intendedAt);
    bucket.scheduled += 1;
    bucket.dropped += 1;
    this.totals.scheduled += 1;
    this.totals.dropped += 1;
  }

  /** The start of the next second to close, for the scheduler's wake-ups. */
  nextCloseAt(): number {
    return this.startedAt + (this.nextToEmit + 1) * BUCKET_MS;
  }

  /** Emits, in order, every second that can close at `now`: it has ended and its requests are done (or overdue). */
  flush(now: number): LoadSample[] {
    const out: LoadSample[] = [];
    while (true) {
      const index = this.nextToEmit;
      const end = this.startedAt + (index + 1) * BUCKET_MS;
      if (now < end) break;
      const bucket = this.open.get(index);
      if (bucket !== undefined && bucket.inFlight > 0 && now < end + this.closeGraceMs) break;
      out.push(this.emit(index));
    }
    return out;
  }

  /**
   * Emits every remaining second that starts before `endAt` (the partial last second included), and any second
   * still holding data, whatever is in flight: the run is over.
   */
  flushAll(endAt: number): LoadSample[] {
    const out: LoadSample[] = [];
    const highestOpen = Math.max(-1, ...this.open.keys());
    const lastIndex = Math.max(highestOpen, Math.ceil((endAt - this.startedAt) / BUCKET_MS) - 1);
    while (this.nextToEmit <= lastIndex) out.push(this.emit(this.nextToEmit));
    return out;
  }

  private emit(index: number): LoadSample {
    const sample = this.toSample(this.open.get(index) ?? emptyBucket(index));
    this.open.delete(index);
    this.nextToEmit += 1;
    return sample;
  }

  private toSample(bucket: Bucket): LoadSample {
    const h = bucket.histogram;
    const sample: LoadSample = {
      t: this.startedAt + bucket.index * BUCKET_MS,
      scheduled: bucket.scheduled,
      completed: bucket.completed,
      succeeded: bucket.succeeded,
      dropped: bucket.dropped,
      byStatus: bucket.byStatus,
      byFlag: bucket.byFlag,
      byError: bucket.byError,
      histogram: h.count === 0 ? '' : h.encode(),
      p50: percentileOr0(h, 50),
      p95: percentileOr0(h, 95),
      p99: percentileOr0(h, 99),
    };
    if (this.instrument !== undefined) {
      sample.instrument = {
        sendLagMaxMs: Math.round(bucket.sendLagMaxMs * 10) / 10,
        lateSends: bucket.lateSends,
        ...this.instrument(bucket.index),
      };
    }
    return sample;
  }

  summarize(endedAt: number): LoadSummary {
    const t = this.totals;
    return {
      startedAt: this.startedAt,
      endedAt,
      scheduled: t.scheduled,
      completed: t.completed,
      succeeded: t.succeeded,
      dropped: t.dropped,
      byStatus: { ...t.byStatus },
      byFlag: { ...t.byFlag },
      byError: { ...t.byError },
      histogram: t.histogram.count === 0 ? '' : t.histogram.encode(),
      p50: percentileOr0(t.histogram, 50),
      p95: percentileOr0(t.histogram, 95),
      p99: percentileOr0(t.histogram, 99),
    };
  }
}
