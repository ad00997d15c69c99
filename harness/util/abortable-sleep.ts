// One abortable pause for every loop that waits on a signal. The abort listener goes when the pause ends: a watch
// polls hundreds of times on one signal (a held fault), and a listener per poll would pile up.

/**
 * Resolves after `ms`, or rejects with `reason()` when the signal aborts first (or already has). The default
 * reason is the signal's own.
 */
export function abortableSleep(
  ms: number,
  signal?: AbortSignal,
  reason: () => unknown = () => signal?.reason ?? new Error('aborted'),
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(reason());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(reason());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
