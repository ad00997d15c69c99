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

import type { LoadSample, LoadSummary } from '../../model/index.js';
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
  /** Start of the first second (epoch ms); defaults to the start of the earliest request seen. */
  startedAt?: number;
  /** How long after its end a second may still receive requests (k6 reports a request when it ends). */
  lateMs?: number;
  /**
   * How many outputs feed this parser: the runners of one k6-operator TestRun, each a stream of its own. A
   * second closes only once every stream still running has passed it, so a runner whose log is read later than
   * the others still lands its requests in the seconds they started in; the first second waits for each stream's
   * first request (or its end). Default 1.
   */
  streams?: number;
}

/** One output's reading state: its unfinished line, its own clock, and the request its flags belong to. */
interface StreamState {
  pending: string;
  /** End time of the latest request of this stream: its clock for closing seconds. */
  latestTime: number;
  /** The last request's end time and start, so a flag counted at its end lands in the second it started in. */
  lastRequest: { time: number; start: number };
  ended: boolean;
}

/** A parsed point waiting for the buckets: its time and how it is counted. */
type Counting = (buckets: LoadBuckets) => void;

/**
 * An incremental parser over one or several k6 outputs: push lines as they arrive (per stream), take the seconds
 * that have closed, then finish. Several runners' points merge into the same per-second buckets — counts add up
 * and latencies go into one HDR histogram per second, so percentiles are of all requests, never averaged.
 */
export class K6OutputParser {
  private buckets: LoadBuckets | undefined;
  private readonly startedAt: number | undefined;
  private readonly lateMs: number;
  private readonly expectedStreams: number;
  private readonly streams = new Map<string, StreamState>();
  /** Points seen before the first second is known (until every stream has sent a request or ended). */
  private held: { at: number; count: Counting }[] = [];
  /** The earliest time among the held points. */
  private earliestHeld = Number.POSITIVE_INFINITY;
  /** Lines that were not JSON (k6 killed mid-write leaves half a line), counted rather than fatal. */
  badLines = 0;

  constructor(options: K6OutputParserOptions = {}) {
    this.startedAt = options.startedAt;
    this.lateMs = options.lateMs ?? 10_000;
    this.expectedStreams = Math.max(1, options.streams ?? 1);
  }

  private stream(name: string): StreamState {
    let state = this.streams.get(name);
    if (state === undefined) {
      state = {
        pending: '',
        latestTime: Number.NEGATIVE_INFINITY,
        lastRequest: { time: Number.NaN, start: Number.NaN },
        ended: false,
      };
      this.streams.set(name, state);
    }
    return state;
  }

  /** Adds a chunk of a stream's output (may end mid-line) and returns the seconds that can no longer change. */
  push(chunk: string, stream = 'k6'): LoadSample[] {
    const state = this.stream(stream);
    const lines = (state.pending + chunk).split('\n');
    state.pending = lines.pop() ?? '';
    for (const line of lines) this.addLine(state, line);
    return this.flushClosed();
  }

  /** A stream has ended (its runner exited): it no longer holds seconds open. */
  endStream(stream = 'k6'): LoadSample[] {
    const state = this.stream(stream);
    if (state.pending !== '') {
      this.addLine(state, state.pending);
      state.pending = '';
    }
    state.ended = true;
    return this.flushClosed();
  }

  /**
   * Whether the first second is known: given, or no request can still come that started before the earliest one
   * held — every expected stream has ended or moved the late margin past it (a request ends within its timeout,
   * and points arrive in the order requests end). Deciding on the first request seen instead would make the first
   * second depend on the order logs are read in: a slow first request ends after quicker later ones.
   */
  private ready(): boolean {
    if (this.startedAt !== undefined) return true;
    if (this.streams.size < this.expectedStreams || this.held.length === 0) return false;
    const closedAt = this.earliestHeld + this.lateMs;
    return [...this.streams.values()].every((s) => s.ended || s.latestTime >= closedAt);
  }

  /** The buckets, made once the first second is known (or `force`d at the end) and fed what was held. */
  private openBuckets(force = false): LoadBuckets | undefined {
    if (this.buckets !== undefined) return this.buckets;
    if (!(force || this.ready()) || (this.startedAt === undefined && this.held.length === 0))
      return undefined;
    const first = this.startedAt ?? this.earliestHeld;
    const buckets = new LoadBuckets(Math.floor(first), 0);
    for (const h of this.held) h.count(buckets);
    this.held = [];
    this.buckets = buckets;
    return buckets;
  }

  private count(at: number, counting: Counting): void {
    const buckets = this.openBuckets();
    if (buckets === undefined) {
      this.held.push({ at, count: counting });
      this.earliestHeld = Math.min(this.earliestHeld, at);
    } else counting(buckets);
  }

  /** Seconds every running stream has moved past (by the late margin); none while a stream is unheard of. */
  private flushClosed(): LoadSample[] {
    const buckets = this.openBuckets();
    if (buckets === undefined || this.streams.size < this.expectedStreams) return [];
    const running = [...this.streams.values()].filter((s) => !s.ended);
    const clock = running.length === 0 ? this.latestTime() : Math.min(...running.map((s) => s.latestTime));
    return buckets.flush(clock - this.lateMs);
  }

  private latestTime(): number {
    return Math.max(Number.NEGATIVE_INFINITY, ...[...this.streams.values()].map((s) => s.latestTime));
  }

  private addLine(state: StreamState, line: string): void {
    let point: K6Point | undefined;
    try {
      point = parseK6Line(line);
    } catch {
      this.badLines += 1;
      return;
    }
    if (point === undefined || Number.isNaN(point.time)) return;
    const { time, value, tags } = point;
    switch (point.metric) {
      case 'http_req_duration': {
        // Only requests move the clock: the other points of a request (http_reqs…) may come before this one,
        // and closing a second on them would push this request into the next second.
        if (time > state.latestTime) state.latestTime = time;
        const start = time - value;
        state.lastRequest = { time, start };
        this.count(start, (b) => b.start(start)(outcomeOf(tags), value));
        return;
      }
      case 'dropped_iterations':
        this.count(time, (b) => b.dropMany(time, value));
        return;
      case K6_FLAG_METRIC: {
        const flag = tags.flag;
        if (!flag) return;
        const at = time === state.lastRequest.time ? state.lastRequest.start : time;
        this.count(at, (b) => b.countFlag(at, flag, value));
        return;
      }
      default:
        return;
    }
  }

  /** Ends every stream: every remaining second, and the summary. */
  finish(): { samples: LoadSample[]; summary: LoadSummary } {
    const closed: LoadSample[] = [];
    for (const [name, state] of this.streams) if (!state.ended) closed.push(...this.endStream(name));
    // A stream that never said a word does not hold the first second back any longer.
    const buckets = this.openBuckets(true) ?? new LoadBuckets(Math.floor(this.startedAt ?? 0), 0);
    const latest = this.latestTime();
    const end = Number.isFinite(latest) ? latest : buckets.startedAt;
    // Up to the last second holding data: k6's graceful stop adds idle time that is not load.
    const samples = [...closed, ...buckets.flushAll(buckets.startedAt)];
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
