// The built-in open-model load generator. Requests start on the schedule whatever the server does; when the
// in-flight cap is reached a scheduled request is dropped and counted, never queued (queueing would hide a
// stall: coordinated omission). Latency runs from the INTENDED start, so time a request spent waiting for the
// generator itself — event-loop lag, catch-up after a pause — counts against the server's latency too.

import type { LoadDriver, LoadProfile, LoadRun, LoadSample, LoadSummary } from '../model/index.js';
import { type InstrumentSource, LoadBuckets } from './buckets.js';
import { type LoadClock, systemClock } from './clock.js';
import { createRequestPicker } from './mix.js';
import { assertRunnableProfile } from './profile-check.js';
import { createArrivalSchedule, scheduleDurationMs } from './schedule.js';
import { createUndiciTransport, type LoadTransport } from './transport.js';

export interface BuiltinDriverOptions {
  clock?: LoadClock;
  /** Builds the transport for a run; defaults to an undici keep-alive pool sized to maxInFlight. */
  createTransport?: (baseUrl: string, profile: LoadProfile) => LoadTransport;
  /**
   * Starts sampling the generator's own health for a run that starts at `startedAt`; each sample then carries
   * `instrument`. The isolated driver's worker passes one (isolated/instrument-sampler.ts).
   */
  sampleInstrument?: (startedAt: number) => InstrumentProbe;
}

/** The generator's health per second, and how to stop sampling it. */
export interface InstrumentProbe {
  take: InstrumentSource;
  stop(): Promise<void>;
}

/** Why a run ended. */
export type EndReason = 'schedule' | 'max-requests' | 'stopped';

/** Extra room past the request timeout before an unfinished second is closed anyway. */
const CLOSE_GRACE_MS = 1000;

export function createBuiltinDriver(options: BuiltinDriverOptions = {}): LoadDriver {
  const clock = options.clock ?? systemClock;
  const makeTransport =
    options.createTransport ??
    ((baseUrl: string, profile: LoadProfile) =>
      createUndiciTransport(baseUrl, {
        connections: profile.maxInFlight,
        ...(profile.host === undefined ? {} : { host: profile.host }),
      }));

  return {
    name: 'builtin',
    async start(profile, baseUrl, onSample, signal) {
      assertRunnableProfile(profile);
      return startRun(
        profile,
        makeTransport(baseUrl, profile),
        clock,
        onSample,
        signal,
        options.sampleInstrument,
      );
    },
  };
}

/** One run's state, shared by the scheduler, the requests it launches and the end of the run. */
interface BuiltinRun {
  readonly profile: LoadProfile;
  readonly transport: LoadTransport;
  readonly clock: LoadClock;
  readonly onSample: (sample: LoadSample) => void;
  readonly startedAt: number;
  readonly probe: InstrumentProbe | undefined;
  readonly buckets: LoadBuckets;
  readonly nextOffset: () => number | undefined;
  readonly pick: ReturnType<typeof createRequestPicker>;
  /** Cuts the scheduler's sleep short when the run is stopped. */
  readonly wake: AbortController;
  inFlight: number;
  started: number;
  stopping: boolean;
  lastIntended: number;
  onDrained: (() => void) | undefined;
  detachSignal: () => void;
}

function startRun(
  profile: LoadProfile,
  transport: LoadTransport,
  clock: LoadClock,
  onSample: (sample: LoadSample) => void,
  signal: AbortSignal | undefined,
  sampleInstrument: ((startedAt: number) => InstrumentProbe) | undefined,
): LoadRun {
  const startedAt = Math.floor(clock.now());
  const probe = sampleInstrument?.(startedAt);
  const run: BuiltinRun = {
    profile,
    transport,
    clock,
    onSample,
    startedAt,
    probe,
    buckets: new LoadBuckets(startedAt, profile.requestTimeoutMs + CLOSE_GRACE_MS, probe?.take),
    nextOffset: createArrivalSchedule(profile),
    pick: createRequestPicker(profile.requests),
    wake: new AbortController(),
    inFlight: 0,
    started: 0,
    // Already aborted: end at once (the schedule loop sees `stopping` before its first start).
    stopping: signal?.aborted === true,
    lastIntended: startedAt,
    onDrained: undefined,
    detachSignal: () => {},
  };
  const finished = finishRun(run);
  const stop = (): Promise<LoadSummary> => {
    run.stopping = true;
    run.wake.abort();
    return finished;
  };
  const onAbort = (): void => {
    void stop();
  };
  if (signal !== undefined && !signal.aborted) {
    signal.addEventListener('abort', onAbort, { once: true });
    run.detachSignal = () => signal.removeEventListener('abort', onAbort);
  }
  return { done: finished, stop };
}

function emitSamples(run: BuiltinRun, samples: readonly LoadSample[]): void {
  for (const sample of samples) {
    try {
      run.onSample(sample);
    } catch {
      // A failing consumer (a journal write) must not stop the load mid-fault; the engine sees its own error.
    }
  }
}

function launchRequest(run: BuiltinRun, intended: number, sentAt: number): void {
  run.inFlight += 1;
  run.started += 1;
  const finish = run.buckets.start(intended, sentAt);
  void run.transport.send(run.pick(), run.profile.requestTimeoutMs).then((outcome) => {
    const now = run.clock.now();
    finish(outcome, now - intended);
    run.inFlight -= 1;
    if (!run.stopping) emitSamples(run, run.buckets.flush(now));
    if (run.inFlight === 0) run.onDrained?.();
  });
}

/** Waits until no request is in flight, or `limitMs`. */
async function waitForDrain(run: BuiltinRun, limitMs: number): Promise<void> {
  if (run.inFlight === 0) return;
  const drained = new Promise<void>((resolve) => {
    run.onDrained = resolve;
  });
  const limit = new AbortController();
  await Promise.race([drained, run.clock.sleepUntil(run.clock.now() + limitMs, limit.signal)]);
  limit.abort();
  run.onDrained = undefined;
}

/** Starts (or drops) each request at its intended time until the schedule ends, the cap is hit or the run stops. */
async function runSchedule(run: BuiltinRun): Promise<EndReason> {
  const { profile, clock, buckets } = run;
  let offset = run.nextOffset();
  while (offset !== undefined) {
    if (run.stopping) return 'stopped';
    const intended = run.startedAt + offset;
    const now = clock.now();
    if (intended > now) {
      // Sleep until the next start or the next second to close, whichever is first.
      await clock.sleepUntil(Math.min(intended, buckets.nextCloseAt()), run.wake.signal);
      if (!run.stopping) emitSamples(run, buckets.flush(clock.now()));
      continue;
    }
    if (run.started >= profile.maxRequests) return 'max-requests';
    if (run.inFlight >= profile.maxInFlight) buckets.drop(intended);
    else launchRequest(run, intended, now);
    run.lastIntended = intended;
    offset = run.nextOffset();
  }
  return 'schedule';
}

/** Runs the schedule, lets the last requests end, closes every second and releases what the run holds. */
async function finishRun(run: BuiltinRun): Promise<LoadSummary> {
  const { profile, clock, transport } = run;
  const reason = await runSchedule(run);
  let endAt: number;
  if (reason === 'stopped') {
    endAt = clock.now();
    transport.abortAll();
    await waitForDrain(run, CLOSE_GRACE_MS);
  } else {
    // The schedule is over: let the last requests finish (each is bounded by the request timeout).
    endAt = reason === 'schedule' ? run.startedAt + scheduleDurationMs(profile) : run.lastIntended + 1;
    await waitForDrain(run, profile.requestTimeoutMs + CLOSE_GRACE_MS);
    transport.abortAll();
  }
  emitSamples(run, run.buckets.flushAll(endAt));
  const summary = run.buckets.summarize(clock.now());
  await run.probe?.stop();
  await transport.close().catch(() => undefined);
  run.detachSignal();
  return summary;
}
