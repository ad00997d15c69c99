// SIGINT/SIGTERM handling: the first signal aborts the run so every teardown still runs (faults removed,
// objects deleted); a second one abandons cleanup, loudly, with the command that finishes it later.

import { setMaxListeners } from 'node:events';
import { SHARED_SIGNAL_LISTENERS } from '../engine/phase-runner.js';

export interface InterruptHandle {
  readonly signal: AbortSignal;
  dispose(): void;
}

export function installInterruptHandlers(options: {
  onFirst?: (signal: NodeJS.Signals) => void;
  onSecond?: (signal: NodeJS.Signals) => void;
}): InterruptHandle {
  const controller = new AbortController();
  // Each phase of each drill running side by side listens to the run's interrupt while it runs.
  setMaxListeners(SHARED_SIGNAL_LISTENERS, controller.signal);
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      options.onFirst?.(signal);
      controller.abort(new Error(`received ${signal}`));
    } else {
      options.onSecond?.(signal);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Resolves on the first SIGINT or SIGTERM (or at once if `signal` is already aborted): a foreground hold. */
export function untilStopped(signal?: AbortSignal): Promise<NodeJS.Signals | 'aborted'> {
  return new Promise((resolve) => {
    const done = (why: NodeJS.Signals | 'aborted'): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(why);
    };
    const onSignal = (sig: NodeJS.Signals): void => done(sig);
    if (signal?.aborted) return done('aborted');
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    signal?.addEventListener('abort', () => done('aborted'), { once: true });
  });
}
