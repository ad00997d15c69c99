// The built-in open-model load generator. Requests start on the schedule whatever the server does; when the
// in-flight cap is reached a scheduled request is dropped and counted, never queued (queueing would hide a
// stall: coordinated omission). Latency runs from the INTENDED start, so time a request spent waiting for the
// generator itself — event-loop lag, catch-up after a pause — counts against the server's latency too.

import type { LoadDriver, LoadProfile, LoadRun, LoadSample, LoadSummary } from '../model/load.js';
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
  const buckets = new LoadBuckets(startedAt, profile.requestTimeoutMs + CLOSE_GRACE_MS, probe?.take);
  const nextOffset = createArrivalSchedule(profile);
  const pick = createRequestPicker(profile.requests);
  const wake = new AbortController();
  let inFlight = 0;
  let started = 0;
  let stopping = false;
  let lastIntended = startedAt;
  let onDrained: (() => void) | undefined;
  let detachSignal = (): void => {};

  const emit = (samples: LoadSample[]): void => {
    for (const sample of samples) {
      try {
        onSample(sample);
      } catch {
        // A failing consumer (a journal write) must not stop the load mid-fault; the engine sees its own error.
      }
    }
  };

  const launch = (intended: number, sentAt: number): void => {
    inFlight += 1;
    started += 1;
    const finish = buckets.start(intended, sentAt);
    void transport.send(pick(), profile.requestTimeoutMs).then((outcome) => {
      const now = clock.now();
      finish(outcome, now - intended);
      inFlight -= 1;
      if (!stopping) emit(buckets.flush(now));
      if (inFlight === 0) onDrained?.();
    });
  };

  const waitForDrain = async (limitMs: number): Promise<void> => {
    if (inFlight === 0) return;
    const drained = new Promise<void>((resolve) => {
      onDrained = resolve;
    });
    const limit = new AbortController();
    await Promise.race([drained, clock.sleepUntil(clock.now() + limitMs, limit.signal)]);
    limit.abort();
    onDrained = undefined;
  };

  const schedule = async (): Promise<EndReason> => {
    let offset = nextOffset();
    while (offset !== undefined) {
      if (stopping) return 'stopped';
      const intended = startedAt + offset;
      const now = clock.now();
      if (intended > now) {
        // Sleep until the next start or the next second to close, whichever is first.
        await clock.sleepUntil(Math.min(intended, buckets.nextCloseAt()), wake.signal);
        if (!stopping) emit(buckets.flush(clock.now()));
        continue;
      }
      if (started >= profile.maxRequests) return 'max-requests';
      if (inFlight >= profile.maxInFlight) buckets.drop(intended);
      else launch(intended, now);
      lastIntended = intended;
      offset = nextOffset();
    }
    return 'schedule';
  };

  // Already aborted: end at once (the schedule loop sees `stopping` before its first start).
  if (signal?.aborted) stopping = true;

  const finished = (async (): Promise<LoadSummary> => {
    const reason = await schedule();
    let endAt: number;
    if (reason === 'stopped') {
      endAt = clock.now();
      transport.abortAll();
      await waitForDrain(CLOSE_GRACE_MS);
    } else {
      // The schedule is over: let the last requests finish (each is bounded by the request timeout).
      endAt = reason === 'schedule' ? startedAt + scheduleDurationMs(profile) : lastIntended + 1;
      await waitForDrain(profile.requestTimeoutMs + CLOSE_GRACE_MS);
      transport.abortAll();
    }
    emit(buckets.flushAll(endAt));
    const summary = buckets.summarize(clock.now());
    await probe?.stop();
    await transport.close().catch(() => undefined);
    detachSignal();
    return summary;
  })();

  const stop = (): Promise<LoadSummary> => {
    stopping = true;
    wake.abort();
    return finished;
  };
  const onAbort = (): void => {
    void stop();
  };
  if (signal !== undefined && !signal.aborted) {
    signal.addEventListener('abort', onAbort, { once: true });
    detachSignal = () => signal.removeEventListener('abort', onAbort);
  }

  return { done: finished, stop };
}
