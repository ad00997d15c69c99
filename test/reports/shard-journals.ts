// Cuts a recorded journal into the journals its shards would have written (`meshdrill run --shard i/n`), for the
// merge tests: each scenario execution goes to the shard the test names, every shard provisions and cleans up,
// and each shard's run-end follows from its own executions by the engine's rule.

import { exitCodeFor, worstOutcome } from '../../harness/model/index.js';
import type { EventOf, JournalEvent, Outcome } from '../../harness/model/index.js';

export interface SplitOptions {
  count: number;
  /** The shard (1-based) of the n-th execution (0-based, in the order the journal started them). */
  shardOf(execution: number): number;
  /**
   * Move each shard's events in time so that its first drill starts when the suite's first did — as when the
   * shards run on n machines at once, and iterations of one variant overlap.
   */
  overlap?: boolean;
}

export function splitJournal(events: readonly JournalEvent[], options: SplitOptions): JournalEvent[][] {
  const start = events.find((e): e is EventOf<'run-start'> => e.type === 'run-start');
  if (!start) throw new Error('no run-start to split');
  const shards: JournalEvent[][] = Array.from({ length: options.count }, () => []);
  const open = new Map<string, number>();
  const executionStarts: number[] = [];
  const owner = events.map((e): number | 'all' | 'first' | 'none' => {
    if (e.type === 'run-start' || e.type === 'run-end') return 'none';
    if (e.type === 'log' && e.scenario === undefined) return 'first';
    if (!('scenario' in e) || !('variant' in e) || e.variant === undefined) return 'all';
    const key = `${e.scenario}\u0000${e.variant}`;
    if (e.type === 'scenario-start') {
      open.set(key, executionStarts.length);
      executionStarts.push(e.t);
    }
    const execution = open.get(key);
    return execution === undefined ? 'all' : options.shardOf(execution);
  });
  const used = new Set(executionStarts.map((_, n) => options.shardOf(n)));
  const firstUsed = Math.min(...used);
  events.forEach((e, i) => {
    const who = owner[i];
    if (typeof who === 'number') shards[who - 1]?.push(e);
    else if (who === 'all') for (const s of used) shards[s - 1]?.push(e);
    else if (who === 'first') shards[firstUsed - 1]?.push(e);
  });
  return shards.map((own, n) => {
    const index = n + 1;
    const firstStart = own.find((e) => e.type === 'scenario-start')?.t;
    const shift = options.overlap && firstStart !== undefined ? firstStart - (executionStarts[0] ?? 0) : 0;
    const outcomes: Outcome[] = own.flatMap((e) => (e.type === 'scenario-end' ? [e.outcome] : []));
    if (own.some((e) => e.type === 'cleanup' && !e.ok)) outcomes.push('cleanup-failed');
    const outcome = worstOutcome(outcomes);
    const last = own.at(-1)?.t ?? start.t;
    const shardStart: JournalEvent = {
      ...start,
      runId: `${start.runId}-s${index}`,
      argv: [...start.argv, '--shard', `${index}/${options.count}`],
      shard: { index, count: options.count },
    };
    const end: JournalEvent = { t: last + 100, type: 'run-end', outcome, exitCode: exitCodeFor(outcome) };
    return [shardStart, ...own, end].map((e) => ({ ...e, t: e.t - shift }));
  });
}

/** An event as journal version 1 wrote it: no iteration but on scenario-start. */
export function toVersion1(event: JournalEvent): JournalEvent {
  if (event.type === 'run-start') return { ...event, version: 1 };
  if (event.type === 'scenario-start' || !('iteration' in event)) return event;
  const { iteration: _iteration, ...rest } = event;
  return rest as JournalEvent;
}

export const toJsonl = (events: readonly JournalEvent[]) =>
  events.map((e) => `${JSON.stringify(e)}\n`).join('');
