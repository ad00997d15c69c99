// The store's event log and fan-out: a bounded history window (so a watch can resume from a resourceVersion,
// like the API server's watch cache) and per-watcher queues delivered in order, off the writer's stack.

import { cloneJson } from './json.js';
import { type FieldRequirement, type LabelRequirement, matchesFields, matchesLabels } from './selectors.js';
import { StoreError, type StoredObject, type WatchEvent, type WatchEventType } from './types.js';

export interface LogEntry {
  rv: number;
  storage: string;
  type: WatchEventType;
  object: StoredObject;
  /** The object before a MODIFIED, so selector transitions become ADDED/DELETED for the watcher. */
  old?: StoredObject;
}

export interface WatchFilter {
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

interface Watcher {
  storage: string;
  filter: WatchFilter;
  onEvent: (event: WatchEvent) => void;
  queue: WatchEvent[];
  scheduled: boolean;
  stopped: boolean;
}

export function matchesFilter(filter: WatchFilter, object: StoredObject): boolean {
  if (filter.namespace !== undefined && object.metadata.namespace !== filter.namespace) return false;
  return matchesLabels(filter.labels, object.metadata.labels) && matchesFields(filter.fields, object);
}

/** What a watcher sees of one log entry, after its selectors (undefined: nothing). */
function translate(entry: LogEntry, filter: WatchFilter): WatchEvent | undefined {
  const now = matchesFilter(filter, entry.object);
  if (entry.type !== 'MODIFIED' || entry.old === undefined) {
    return now ? { type: entry.type, object: entry.object } : undefined;
  }
  const before = matchesFilter(filter, entry.old);
  if (now && before) return { type: 'MODIFIED', object: entry.object };
  if (now) return { type: 'ADDED', object: entry.object };
  if (before) return { type: 'DELETED', object: entry.object };
  return undefined;
}

export class WatchHub {
  private readonly log: LogEntry[] = [];
  /** The highest resourceVersion that fell out of the window (0: nothing dropped yet). */
  private droppedThrough = 0;
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly window: number) {}

  get watcherCount(): number {
    return this.watchers.size;
  }

  record(entry: LogEntry): void {
    this.log.push(entry);
    // Trim in batches so the window costs O(1) amortised per write.
    if (this.log.length > this.window + Math.max(16, this.window >> 4)) {
      const excess = this.log.splice(0, this.log.length - this.window);
      const last = excess[excess.length - 1];
      if (last) this.droppedThrough = last.rv;
    }
    for (const w of this.watchers) {
      if (w.storage !== entry.storage) continue;
      const event = translate(entry, w.filter);
      if (event) this.enqueue(w, event);
    }
  }

  /**
   * Registers a watcher. With `since`, replays the window's entries newer than it first; a `since` older than
   * the window throws 410 Expired (the client must list again), as a real server answers.
   */
  add(
    storage: string,
    filter: WatchFilter,
    onEvent: (event: WatchEvent) => void,
    since?: number,
  ): () => void {
    if (since !== undefined && since < this.droppedThrough) {
      throw new StoreError(
        410,
        'Expired',
        `too old resource version: ${since} (${this.droppedThrough + 1}): events before it are no longer kept; list again and watch from the list's resourceVersion`,
      );
    }
    const watcher: Watcher = { storage, filter, onEvent, queue: [], scheduled: false, stopped: false };
    if (since !== undefined) {
      for (const entry of this.log) {
        if (entry.rv <= since || entry.storage !== storage) continue;
        const event = translate(entry, filter);
        if (event) this.enqueue(watcher, event);
      }
    }
    this.watchers.add(watcher);
    return () => {
      watcher.stopped = true;
      watcher.queue.length = 0;
      this.watchers.delete(watcher);
    };
  }

  private enqueue(watcher: Watcher, event: WatchEvent): void {
    watcher.queue.push(event);
    if (watcher.scheduled) return;
    watcher.scheduled = true;
    queueMicrotask(() => this.flush(watcher));
  }

  private flush(watcher: Watcher): void {
    watcher.scheduled = false;
    while (!watcher.stopped && watcher.queue.length > 0) {
      const event = watcher.queue.shift();
      if (!event) break;
      try {
        watcher.onEvent({ type: event.type, object: cloneJson(event.object) });
      } catch {
        // A failing consumer must not starve the others or the writer; it sees its own bug in its own code.
      }
    }
  }
}
