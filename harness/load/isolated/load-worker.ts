// The worker thread that runs one built-in load run (isolated-driver.ts starts it). The generator, its
// instrument sampler and the control echo live here, on event loops of their own, so nothing the harness's main
// thread does — API servers, controllers, kubelets, the engine of every drill — can delay a send or its timing.

import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadProfile, LoadSample, LoadSummary } from '../../model/index.js';
import { createBuiltinDriver } from '../builtin-driver.js';
import { systemClock } from '../clock.js';
import { scheduleDurationMs } from '../schedule.js';
import { startControlEcho } from './control-echo.js';
import { startInstrumentSampler } from './instrument-sampler.js';

export interface LoadWorkerInput {
  profile: LoadProfile;
  baseUrl: string;
}

export type LoadWorkerMessage =
  | { type: 'started'; startedAt: number }
  | { type: 'sample'; sample: LoadSample }
  | { type: 'done'; summary: LoadSummary }
  | { type: 'failed'; message: string };

/**
 * The generator thread's nice value. On Linux a thread's priority is its own (setpriority with pid 0 sets the
 * calling thread), so only the sender is raised: it needs little CPU and must be on time. The control echo is
 * started before, at the harness's priority — the mesh's processes' — so it keeps sharing their fate.
 */
const GENERATOR_NICE = -5;

/** Past its schedule, its requests' timeout and this, the run ends itself even if something hangs. */
const WATCHDOG_GRACE_MS = 10_000;

async function main(port: NonNullable<typeof parentPort>, input: LoadWorkerInput): Promise<void> {
  const post = (message: LoadWorkerMessage): void => port.postMessage(message);
  const echo = await startControlEcho();
  try {
    raisePriority();
    const driver = createBuiltinDriver({
      sampleInstrument: (startedAt) => startInstrumentSampler(startedAt, echo.url, systemClock.now),
    });
    const run = await driver.start(input.profile, input.baseUrl, (sample) =>
      post({ type: 'sample', sample }),
    );
    post({ type: 'started', startedAt: Date.now() });
    port.on('message', (message: { type?: string }) => {
      if (message.type === 'stop') void run.stop();
    });
    const bound = scheduleDurationMs(input.profile) + input.profile.requestTimeoutMs + WATCHDOG_GRACE_MS;
    const watchdog = setTimeout(() => void run.stop(), bound);
    const summary = await run.done;
    clearTimeout(watchdog);
    post({ type: 'done', summary });
  } finally {
    await echo.stop();
    port.close();
  }
}

/** Raises this thread's priority where allowed (root, CAP_SYS_NICE); elsewhere the thread runs as before. */
function raisePriority(): void {
  try {
    setPriority(0, GENERATOR_NICE);
  } catch {
    // EACCES without the privilege: the instrument's health records whatever lateness follows.
  }
}

if (parentPort !== null) {
  const port = parentPort;
  main(port, workerData as LoadWorkerInput).catch((error: unknown) => {
    port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    port.close();
  });
}
