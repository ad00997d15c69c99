// A controller's loop: informer-like watches feed keys into a de-duplicating queue, one reconcile at a time,
// failed keys retried with capped exponential back-off (as client-go's rate-limited work queue does).

import type { ObjectStore, ResourceKey, StoredObject, WatchEvent } from '../store/types.js';

export interface WatchSource {
  key: ResourceKey;
  /** Maps a changed object to the queue keys it affects (usually "namespace/name" of the owner). */
  toKeys(event: WatchEvent): string[];
}

export interface ControllerLoop {
  enqueue(key: string, delayMs?: number): void;
  stop(): void;
  /** Resolves when the queue is empty and nothing is running (tests, orderly shutdown). */
  whenIdle(): Promise<void>;
}

export interface ControllerLoopOptions {
  name: string;
  store: ObjectStore;
  sources: WatchSource[];
  reconcile(key: string): Promise<void>;
  onError?(key: string, error: unknown): void;
  /** Re-run every known key this often, like an informer resync (catches time-based transitions). */
  resyncMs?: number;
  /** Keys to reconcile at start (usually every existing object). */
  initialKeys?(): string[];
}

const MAX_RETRY_DELAY_MS = 10_000;
const BASE_RETRY_DELAY_MS = 50;

export function objectKey(object: StoredObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  const namespace = key.slice(0, slash);
  return { namespace: namespace === '' ? undefined : namespace, name: key.slice(slash + 1) };
}

export function startControllerLoop(options: ControllerLoopOptions): ControllerLoop {
  const pending = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const idleWaiters: (() => void)[] = [];
  let running = false;
  let stopped = false;

  const settleIdle = (): void => {
    if (running || pending.size > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };

  const pump = async (): Promise<void> => {
    if (running || stopped) return;
    running = true;
    try {
      while (pending.size > 0 && !stopped) {
        const key = pending.values().next().value as string;
        pending.delete(key);
        try {
          await options.reconcile(key);
          failures.delete(key);
        } catch (error) {
          if (stopped) break;
          options.onError?.(key, error);
          const n = (failures.get(key) ?? 0) + 1;
          failures.set(key, n);
          enqueue(key, Math.min(MAX_RETRY_DELAY_MS, BASE_RETRY_DELAY_MS * 2 ** n));
        }
      }
    } finally {
      running = false;
      settleIdle();
    }
  };

  const enqueue = (key: string, delayMs = 0): void => {
    if (stopped) return;
    if (delayMs > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        enqueue(key);
      }, delayMs);
      timer.unref();
      timers.add(timer);
      return;
    }
    pending.add(key);
    // A microtask hop lets a burst of watch events collapse into one reconcile per key.
    queueMicrotask(() => void pump());
  };

  const watches = options.sources.map((source) =>
    options.store.watch(
      source.key,
      { sinceResourceVersion: options.store.currentResourceVersion() },
      (event) => {
        for (const k of source.toKeys(event)) enqueue(k);
      },
    ),
  );
  for (const k of options.initialKeys?.() ?? []) enqueue(k);

  const resync =
    options.resyncMs === undefined
      ? undefined
      : setInterval(() => {
          for (const k of options.initialKeys?.() ?? []) enqueue(k);
        }, options.resyncMs);
  resync?.unref();

  return {
    enqueue,
    stop(): void {
      stopped = true;
      for (const w of watches) w.stop();
      for (const t of timers) clearTimeout(t);
      if (resync) clearInterval(resync);
      pending.clear();
      settleIdle();
    },
    whenIdle(): Promise<void> {
      if (!running && pending.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
