// Appends journal events to `journal.jsonl`, one line per event, flushed before append() returns so a crash or
// kill loses nothing already reported. Listeners (live progress, in-memory collectors) see each event too.

import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JournalEvent } from '../model/index.js';

/** Events without a timestamp; the writer stamps them. */
export type UnstampedEvent = JournalEvent extends infer E
  ? E extends JournalEvent
    ? Omit<E, 't'>
    : never
  : never;

export interface Journal {
  append(event: UnstampedEvent): JournalEvent;
  subscribe(listener: (event: JournalEvent) => void): () => void;
  readonly events: readonly JournalEvent[];
}

export interface JournalOptions {
  /** Omit for an in-memory journal (tests). */
  path?: string;
  now?: () => number;
}

export function createJournal(options: JournalOptions = {}): Journal {
  const now = options.now ?? Date.now;
  const events: JournalEvent[] = [];
  const listeners = new Set<(event: JournalEvent) => void>();
  if (options.path) {
    mkdirSync(dirname(options.path), { recursive: true });
    // A journal is one run: an earlier run's journal at the same path (`--out` given again, as `make demo` does)
    // is replaced, or its reports would mix two runs under the first one's id.
    writeFileSync(options.path, '');
  }
  return {
    events,
    append(event) {
      const stamped = { ...event, t: now() } as JournalEvent;
      events.push(stamped);
      // Synchronous append: the line is in the file before anything else happens (no buffering to lose).
      if (options.path) appendFileSync(options.path, `${JSON.stringify(stamped)}\n`);
      for (const listener of listeners) {
        try {
          listener(stamped);
        } catch {
          // A broken listener (e.g. progress rendering) must never stop the run.
        }
      }
      return stamped;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
