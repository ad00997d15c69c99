// The built-in generator on a worker thread of its own (load-worker.ts): the driver the CLI uses. The harness
// process also hosts the local target's API servers, controllers and kubelets and the engine of every drill
// running at once; on the main thread their work delayed sends, and a request sent late counts as slow (latency
// runs from the intended start), so the harness showed up as the mesh's latency. On its own thread the
// generator keeps its schedule; samples come back as messages, and the main thread's stalls only delay their
// arrival. The worker ends its run by itself at the schedule's end (plus a watchdog), and dies with the process.

import type { Worker } from 'node:worker_threads';
import type { LoadDriver, LoadProfile, LoadRun, LoadSample, LoadSummary } from '../../model/index.js';
import { mergeEncoded, summarizeLatency } from '../../slo/index.js';
import { startWorkerThread } from '../../util/worker-thread.js';
import { assertRunnableProfile } from '../profile-check.js';
import type { LoadWorkerInput, LoadWorkerMessage } from './load-worker.js';

function startLoadWorker(input: LoadWorkerInput): Worker {
  return startWorkerThread(import.meta.url, 'load-worker', { workerData: input });
}

export function createIsolatedBuiltinDriver(): LoadDriver {
  return {
    name: 'builtin',
    async start(profile, baseUrl, onSample, signal) {
      assertRunnableProfile(profile);
      return runInWorker(profile, baseUrl, onSample, signal);
    },
  };
}

/** Resolves once the worker's run has started (its thread and the TypeScript loader take a moment). */
async function runInWorker(
  profile: LoadProfile,
  baseUrl: string,
  onSample: (sample: LoadSample) => void,
  signal: AbortSignal | undefined,
): Promise<LoadRun> {
  let startedAt = Date.now();
  const samples: LoadSample[] = [];
  const worker = startLoadWorker({ profile, baseUrl });
  let failure: string | undefined;
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });

  const done = new Promise<LoadSummary>((resolve) => {
    let summary: LoadSummary | undefined;
    worker.on('message', (message: LoadWorkerMessage) => {
      if (message.type === 'sample') {
        samples.push(message.sample);
        try {
          onSample(message.sample);
        } catch {
          // A failing consumer (a journal write) must not stop the load mid-fault; the engine sees its own error.
        }
      } else if (message.type === 'started') {
        startedAt = message.startedAt;
        markStarted();
      } else if (message.type === 'done') summary = message.summary;
      else failure = message.message;
    });
    worker.on('error', (error) => {
      failure = error.message;
    });
    // Whatever ended the worker, the run is over: the summary it sent, or one made of the samples it streamed.
    worker.once('exit', () => {
      signal?.removeEventListener('abort', onAbort);
      markStarted();
      resolve(summary ?? summarizeSamples(samples, startedAt, Date.now()));
    });
  });
  const stop = (): Promise<LoadSummary> => {
    worker.postMessage({ type: 'stop' });
    return done;
  };
  const onAbort = (): void => {
    void stop();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  await started;

  return {
    done: done.then((summary) => {
      if (failure !== undefined && summary.scheduled === 0) {
        throw new Error(`the load generator failed before sending anything: ${failure}`);
      }
      return summary;
    }),
    stop,
  };
}

/** A run's summary from its streamed seconds (when the worker ended without sending its own). */
export function summarizeSamples(
  samples: readonly LoadSample[],
  startedAt: number,
  endedAt: number,
): LoadSummary {
  const add = (into: Record<string, number>, from: Record<string, number>): void => {
    for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
  };
  const summary: LoadSummary = {
    startedAt,
    endedAt,
    scheduled: 0,
    completed: 0,
    succeeded: 0,
    dropped: 0,
    byStatus: {},
    byFlag: {},
    byError: {},
    histogram: '',
    p50: 0,
    p95: 0,
    p99: 0,
  };
  for (const s of samples) {
    summary.scheduled += s.scheduled;
    summary.completed += s.completed;
    summary.succeeded += s.succeeded;
    summary.dropped += s.dropped;
    add(summary.byStatus, s.byStatus);
    add(summary.byFlag, s.byFlag);
    add(summary.byError, s.byError);
  }
  const latency = mergeEncoded(samples.map((s) => s.histogram).filter((h) => h !== ''));
  if (latency.count > 0) {
    Object.assign(summary, summarizeLatency(latency), { histogram: latency.encode() });
  }
  return summary;
}
