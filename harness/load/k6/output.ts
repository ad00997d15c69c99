// Parses k6's NDJSON output (`k6 run --out json=…`) into the same per-second LoadSamples and HDR histograms as
// the built-in driver. Pure: lines in, samples out; the k6 driver feeds it as the file grows.
//
// Each line is {"type":"Metric"|"Point","metric":name,"data":{…}}. Used points:
//   http_req_duration  one per request: value = ms; tags.status ("0" when no response) and tags.error_code.
//                      Its `time` is when the request ended, so the request is placed in the second of
//                      time − duration, its start (k6 starts arrival-rate iterations on schedule).
//   dropped_iterations counter: iterations k6 could not start because every VU was busy (drops).
//   meshdrill_envoy_flags counter from the generated script, tag `flag`.
// Everything else (vus, http_reqs, checks, the timing breakdown) is ignored.

import type { LoadSample, LoadSummary } from '../../model/load.js';
import { type ClientErrorKind, LoadBuckets, type RequestOutcome } from '../buckets.js';
import { K6_FLAG_METRIC } from './script.js';

/** k6 error codes (docs "Error codes") mapped to meshdrill's client error kinds. */
export function classifyK6ErrorCode(code: string | undefined): ClientErrorKind {
  switch (code) {
    case '1050': // request timeout
    case '1211': // dial timeout
      return 'timeout';
    case '1212': // connection refused
      return 'refused';
    case '1201': // broken pipe
    case '1220': // connection reset by peer
      return 'reset';
    default:
      return 'other';
  }
}

/** A k6 RFC 3339 timestamp with nanoseconds, as epoch ms keeping the sub-millisecond part. */
export function parseK6Time(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return Number.NaN;
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? '';
  return fraction.length > 3 ? ms + Number(`0.${fraction.slice(3)}`) : ms;
}

interface K6Point {
  metric: string;
  time: number;
  value: number;
  tags: Record<string, string>;
}

/** One NDJSON line as a point, or undefined (metric declarations, other types, blank lines). Throws on bad JSON. */
export function parseK6Line(line: string): K6Point | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  const parsed: unknown = JSON.parse(trimmed);
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as { type?: unknown; metric?: unknown; data?: unknown };
  if (record.type !== 'Point' || typeof record.metric !== 'string') return undefined;
  const data = record.data as { time?: unknown; value?: unknown; tags?: unknown } | undefined;
  if (typeof data?.time !== 'string' || typeof data.value !== 'number') return undefined;
  const tags: Record<string, string> = {};
  if (typeof data.tags === 'object' && data.tags !== null) {
    for (const [k, v] of Object.entries(data.tags)) if (typeof v === 'string') tags[k] = v;
  }
  return { metric: record.metric, time: parseK6Time(data.time), value: data.value, tags };
}

/** The outcome of one k6 request from its http_req_duration tags. */
function outcomeOf(tags: Record<string, string>): RequestOutcome {
  const status = Number(tags.status ?? '0');
  if (status > 0) return { kind: 'response', status };
  return { kind: 'error', error: classifyK6ErrorCode(tags.error_code) };
}

export interface K6OutputParserOptions {
  /** Start of the first second (epoch ms); defaults to the start of the first request seen. */
  startedAt?: number;
  /** How long after its end a second may still receive requests (k6 reports a request when it ends). */
  lateMs?: number;
}

/** An incremental parser: push lines as they arrive, take the seconds that have closed, then finish. */
export class K6OutputParser {
  private buckets: LoadBuckets | undefined;
  private readonly startedAt: number | undefined;
  private readonly lateMs: number;
  private pending = '';
  /** End time of the latest request seen: the stream's clock for closing seconds. */
  private latestTime = Number.NEGATIVE_INFINITY;
  /** The last request's end time and start, so a flag counted at its end lands in the second it started in. */
  private lastRequest = { time: Number.NaN, start: Number.NaN };
  /** Lines that were not JSON (k6 killed mid-write leaves half a line), counted rather than fatal. */
  badLines = 0;

  constructor(options: K6OutputParserOptions = {}) {
    this.startedAt = options.startedAt;
    this.lateMs = options.lateMs ?? 10_000;
  }

  private bucketsFor(at: number): LoadBuckets {
    this.buckets ??= new LoadBuckets(Math.floor(this.startedAt ?? at), 0);
    return this.buckets;
  }

  /** Adds a chunk of the file (may end mid-line) and returns the seconds that can no longer change. */
  push(chunk: string): LoadSample[] {
    const text = this.pending + chunk;
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.addLine(line);
    return this.buckets === undefined ? [] : this.buckets.flush(this.latestTime - this.lateMs);
  }

  private addLine(line: string): void {
    let point: K6Point | undefined;
    try {
      point = parseK6Line(line);
    } catch {
      this.badLines += 1;
      return;
    }
    if (point === undefined || Number.isNaN(point.time)) return;
    switch (point.metric) {
      case 'http_req_duration': {
        // Only requests move the clock: the other points of a request (http_reqs…) may come before this one,
        // and closing a second on them would push this request into the next second.
        if (point.time > this.latestTime) this.latestTime = point.time;
        const start = point.time - point.value;
        this.lastRequest = { time: point.time, start };
        this.bucketsFor(start).start(start)(outcomeOf(point.tags), point.value);
        return;
      }
      case 'dropped_iterations':
        this.bucketsFor(point.time).dropMany(point.time, point.value);
        return;
      case K6_FLAG_METRIC: {
        if (!point.tags.flag) return;
        const at = point.time === this.lastRequest.time ? this.lastRequest.start : point.time;
        this.bucketsFor(at).countFlag(at, point.tags.flag, point.value);
        return;
      }
      default:
        return;
    }
  }

  /** Ends the stream: every remaining second, and the summary. */
  finish(): { samples: LoadSample[]; summary: LoadSummary } {
    if (this.pending !== '') {
      this.addLine(this.pending);
      this.pending = '';
    }
    const buckets = this.buckets ?? new LoadBuckets(Math.floor(this.startedAt ?? 0), 0);
    const end = Number.isFinite(this.latestTime) ? this.latestTime : buckets.startedAt;
    // Up to the last second holding data: k6's graceful stop adds idle time that is not load.
    const samples = buckets.flushAll(buckets.startedAt);
    return { samples, summary: buckets.summarize(Math.round(end)) };
  }
}

/** Parses a whole k6 NDJSON output at once. */
export function parseK6Output(
  ndjson: string,
  options: K6OutputParserOptions = {},
): { samples: LoadSample[]; summary: LoadSummary; badLines: number } {
  const parser = new K6OutputParser(options);
  const early = parser.push(ndjson);
  const rest = parser.finish();
  return { samples: [...early, ...rest.samples], summary: rest.summary, badLines: parser.badLines };
}
