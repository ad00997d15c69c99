// Reporters behind one interface, and a multiplexer that catches each reporter's failure (STYLE.md §6):
// a broken reporter is recorded and skipped, never allowed to abort a run or the other reporters.

import type { JournalEvent } from '../harness/model/index.js';
import type { Results } from './results-types.js';

export interface ReportInput {
  runDir: string;
  events: readonly JournalEvent[];
  results: Results;
}

export interface Reporter {
  readonly name: string;
  /** Live hook: called for each journal event as the engine appends it (optional). */
  onEvent?(event: JournalEvent): void;
  /** Writes this reporter's output for the run; returns the paths it wrote. */
  onEnd(input: ReportInput): Promise<string[]> | string[];
}

export interface ReporterFailure {
  reporter: string;
  stage: 'event' | 'end';
  error: string;
}

export interface MultiplexedReporter extends Reporter {
  /** Failures so far, in order; a reporter that failed on an event still gets onEnd. */
  readonly failures: readonly ReporterFailure[];
  onEnd(input: ReportInput): Promise<string[]>;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createMultiplexer(reporters: readonly Reporter[]): MultiplexedReporter {
  const failures: ReporterFailure[] = [];
  // Only the first failure per reporter and stage is recorded: a reporter broken on every event must not
  // flood the list (or memory) during a long run.
  const seen = new Set<string>();
  const record = (reporter: string, stage: ReporterFailure['stage'], error: unknown) => {
    const key = `${reporter}\u0000${stage}`;
    if (seen.has(key)) return;
    seen.add(key);
    failures.push({ reporter, stage, error: describeError(error) });
  };
  return {
    name: 'multiplexer',
    failures,
    onEvent(event) {
      for (const r of reporters) {
        try {
          r.onEvent?.(event);
        } catch (error) {
          record(r.name, 'event', error);
        }
      }
    },
    async onEnd(input) {
      const written: string[] = [];
      for (const r of reporters) {
        try {
          written.push(...(await r.onEnd(input)));
        } catch (error) {
          record(r.name, 'end', error);
        }
      }
      return written;
    },
  };
}
