// The time source of a load run, injectable so tests can drive the scheduler on virtual time.

export interface LoadClock {
  /** Epoch milliseconds, sub-millisecond precision where available. */
  now(): number;
  /** Resolves at (or soon after) epoch ms `at`, or early when the signal aborts. Never rejects. */
  sleepUntil(at: number, signal: AbortSignal): Promise<void>;
}

/** Real time: epoch-anchored `performance.now()` for sub-millisecond latency, timers for sleeping. */
export const systemClock: LoadClock = {
  now: () => performance.timeOrigin + performance.now(),
  sleepUntil(at, signal) {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, at - systemClock.now()),
      );
      signal.addEventListener('abort', onAbort, { once: true });
    });
  },
};
