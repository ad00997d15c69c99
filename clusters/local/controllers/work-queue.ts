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

/** One loop's queue state; the functions below work on it. */
interface LoopState {
  readonly options: ControllerLoopOptions;
  readonly pending: Set<string>;
  readonly failures: Map<string, number>;
  readonly timers: Set<NodeJS.Timeout>;
  readonly idleWaiters: (() => void)[];
  running: boolean;
  stopped: boolean;
}

function settleIdle(state: LoopState): void {
  if (state.running || state.pending.size > 0) return;
  for (const resolve of state.idleWaiters.splice(0)) resolve();
}

/** Reconciles one key; a failure re-queues it after a back-off that doubles per consecutive failure. */
async function runKey(state: LoopState, key: string): Promise<'next' | 'stop'> {
  try {
    await state.options.reconcile(key);
    state.failures.delete(key);
  } catch (error) {
    if (state.stopped) return 'stop';
    state.options.onError?.(key, error);
    const n = (state.failures.get(key) ?? 0) + 1;
    state.failures.set(key, n);
    enqueue(state, key, Math.min(MAX_RETRY_DELAY_MS, BASE_RETRY_DELAY_MS * 2 ** n));
  }
  return 'next';
}

/** Drains the queue one key at a time; only one pump runs per loop. */
async function pump(state: LoopState): Promise<void> {
  if (state.running || state.stopped) return;
  state.running = true;
  try {
    while (state.pending.size > 0 && !state.stopped) {
      const key = state.pending.values().next().value as string;
      state.pending.delete(key);
      if ((await runKey(state, key)) === 'stop') break;
    }
  } finally {
    state.running = false;
    settleIdle(state);
  }
}

function enqueue(state: LoopState, key: string, delayMs = 0): void {
  if (state.stopped) return;
  if (delayMs > 0) {
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      enqueue(state, key);
    }, delayMs);
    timer.unref();
    state.timers.add(timer);
    return;
  }
  state.pending.add(key);
  // A microtask hop lets a burst of watch events collapse into one reconcile per key.
  queueMicrotask(() => void pump(state));
}

function enqueueInitialKeys(state: LoopState): void {
  for (const k of state.options.initialKeys?.() ?? []) enqueue(state, k);
}

export function startControllerLoop(options: ControllerLoopOptions): ControllerLoop {
  const state: LoopState = {
    options,
    pending: new Set(),
    failures: new Map(),
    timers: new Set(),
    idleWaiters: [],
    running: false,
    stopped: false,
  };
  const watches = options.sources.map((source) =>
    options.store.watch(
      source.key,
      { sinceResourceVersion: options.store.currentResourceVersion() },
      (event) => {
        for (const k of source.toKeys(event)) enqueue(state, k);
      },
    ),
  );
  enqueueInitialKeys(state);
  const resync =
    options.resyncMs === undefined
      ? undefined
      : setInterval(() => enqueueInitialKeys(state), options.resyncMs);
  resync?.unref();

  return {
    enqueue: (key, delayMs) => enqueue(state, key, delayMs),
    stop(): void {
      state.stopped = true;
      for (const w of watches) w.stop();
      for (const t of state.timers) clearTimeout(t);
      if (resync) clearInterval(resync);
      state.pending.clear();
      settleIdle(state);
    },
    whenIdle(): Promise<void> {
      if (!state.running && state.pending.size === 0) return Promise.resolve();
      return new Promise((resolve) => state.idleWaiters.push(resolve));
    },
  };
}
