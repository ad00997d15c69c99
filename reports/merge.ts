// Merging the journals of one suite's shards (`meshdrill run --shard i/n` on n machines) into the journal of one
// run, which the usual reports then render (`meshdrill report --merge`). Pure: journals in, one journal out — or
// every reason the shards are not one suite, all at once.

import {
  type EventOf,
  formatExecutionId,
  JOURNAL_VERSION,
  type JournalEvent,
  MeshdrillError,
  type Outcome,
} from '../harness/model/index.js';

/** One shard's run directory, read. */
export interface ShardJournal {
  /** Where it was read from, to name it in messages. */
  dir: string;
  events: readonly JournalEvent[];
  /** Lines its reader skipped (a torn last line); carried into the merged journal as warnings. */
  problems: readonly { line: number; message: string }[];
}

export interface MergeOptions {
  /** The merged run's id (default: the first shard's, with `-merged`). */
  runId?: string;
  /**
   * How a run's outcome and exit code follow from its parts — the engine's rule for a single run (worstOutcome,
   * exitCodeFor), passed in because reports never import the engine. Applied to the shards' outcomes, which
   * already fold in everything a single run would (drills, cleanup, errors, interrupts).
   */
  decide(outcomes: Outcome[]): { outcome: Outcome; exitCode: number };
}

export interface MergedJournal {
  events: JournalEvent[];
  /** What the user should hear about (also in the journal as warn logs): torn shards, an incomplete merge. */
  warnings: string[];
}

type RunStart = EventOf<'run-start'>;
type ShardRef = { index: number; count: number };

interface ReadShard extends ShardJournal {
  start: RunStart;
  shard: ShardRef;
  end: EventOf<'run-end'> | undefined;
  name: string;
}

const isShardRef = (shard: RunStart['shard']): shard is ShardRef => shard !== undefined && 'index' in shard;

/** "1.29.4 (a, b) and 1.30.3 (c)": the distinct values and where each came from. */
function listValues(byValue: Map<string, string[]>): string {
  return [...byValue].map(([value, dirs]) => `${value} (${dirs.join(', ')})`).join(' and ');
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | undefined, dirOf: (item: T) => string) {
  const byValue = new Map<string, string[]>();
  for (const item of items) {
    const value = keyOf(item);
    if (value === undefined) continue;
    byValue.set(value, [...(byValue.get(value) ?? []), dirOf(item)]);
  }
  return byValue;
}

/** Each journal as a shard, or the reason it is none (no run-start, a whole-suite run, an already merged run). */
function readShards(journals: readonly ShardJournal[], problems: string[]): ReadShard[] {
  const shards: ReadShard[] = [];
  for (const journal of journals) {
    const start = journal.events.find((e): e is RunStart => e.type === 'run-start');
    if (!start) {
      problems.push(`${journal.dir}: its journal has no run-start, so it is no run of meshdrill's`);
      continue;
    }
    if (start.shard === undefined) {
      problems.push(`${journal.dir}: run ${start.runId} is not a shard (it was run without --shard i/n)`);
      continue;
    }
    if (!isShardRef(start.shard)) {
      problems.push(
        `${journal.dir}: run ${start.runId} is already a merged run; merge the shards' own directories`,
      );
      continue;
    }
    const end = journal.events.findLast((e): e is EventOf<'run-end'> => e.type === 'run-end');
    const shard = start.shard;
    shards.push({
      ...journal,
      start,
      shard,
      end,
      name: `shard ${shard.index}/${shard.count} (${journal.dir})`,
    });
  }
  return shards;
}

/** One suite: one shard count, target, repeat, meshdrill and Istio version; every index once. */
function checkSameSuite(shards: readonly ReadShard[], problems: string[]): void {
  const counts = groupBy(
    shards,
    (s) => String(s.shard.count),
    (s) => s.dir,
  );
  if (counts.size > 1) {
    problems.push(`expected the shards of one suite, got different shard counts: ${listValues(counts)}`);
  }
  const same = (what: string, read: (s: ReadShard) => string | undefined) => {
    const values = groupBy(shards, read, (s) => s.dir);
    if (values.size > 1) problems.push(`expected one ${what}, got ${listValues(values)}`);
  };
  same('target', (s) => s.start.target);
  same('--repeat', (s) => String(s.start.repeat));
  same('meshdrill version', (s) => s.start.meshdrillVersion);
  same('Istio version', (s) => {
    const ready = s.events.findLast((e): e is EventOf<'target-ready'> => e.type === 'target-ready');
    return ready?.versions.istio;
  });
  const byIndex = groupBy(
    shards,
    (s) => String(s.shard.index),
    (s) => s.dir,
  );
  for (const [index, dirs] of byIndex) {
    if (dirs.length > 1) problems.push(`shard ${index} is given ${dirs.length} times: ${dirs.join(', ')}`);
  }
  const count = counts.size === 1 ? shards[0]?.shard.count : undefined;
  if (count === undefined) return;
  const given = [...byIndex.keys()].map(Number).sort((a, b) => a - b);
  for (let index = 1; index <= count; index++) {
    if (!byIndex.has(String(index))) {
      problems.push(
        `shard ${index}/${count} is missing (given: ${given.map((i) => `${i}/${count}`).join(', ')}); pass the run directory of every shard`,
      );
    }
  }
}

/** Shards of one suite never run the same execution. */
function checkNoOverlap(shards: readonly ReadShard[], problems: string[]): void {
  const ranIn = new Map<string, ReadShard>();
  for (const shard of shards) {
    const keys = new Set<string>();
    for (const e of shard.events) {
      if (e.type === 'scenario-start') keys.add(formatExecutionId(e));
    }
    for (const key of keys) {
      const earlier = ranIn.get(key);
      if (earlier) {
        problems.push(
          `${key} ran in ${earlier.name} and in ${shard.name}: shards of one suite never overlap`,
        );
      } else ranIn.set(key, shard);
    }
  }
}

/** Every reason these journals are not the complete, non-overlapping shards of one suite. */
function checkShards(journals: readonly ShardJournal[]): { shards: ReadShard[]; problems: string[] } {
  const problems: string[] = [];
  const shards = readShards(journals, problems);
  checkSameSuite(shards, problems);
  checkNoOverlap(shards, problems);
  return { shards, problems };
}

/** The argv of the suite the shards ran: the first shard's, without its --shard and its own --out. */
function suiteArgv(argv: readonly string[]): string[] {
  const own = ['--shard', '--out'];
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (own.includes(arg)) i++;
    else if (!own.some((flag) => arg.startsWith(`${flag}=`))) out.push(arg);
  }
  return out;
}

/** What the user should hear about the shards before their merged reports: torn journals, missing run-ends. */
function describeShardWarnings(shards: readonly ReadShard[]): string[] {
  const warnings: string[] = [];
  for (const shard of shards) {
    for (const p of shard.problems) warnings.push(`${shard.name}: journal line ${p.line}: ${p.message}`);
    if (!shard.end) {
      warnings.push(
        `${shard.name}: its journal ends before run-end (the machine crashed or the job was cancelled): the merged run is incomplete`,
      );
    }
  }
  return warnings;
}

/**
 * How each shard's own events read in the merged run: its run-start and run-end become info logs, and its cleanup
 * becomes the merged one (every shard's, ok only if all were) at the latest cleanup, or nothing before it.
 */
function createRewrite(shards: readonly ReadShard[], count: number) {
  const cleanups = shards.flatMap((s) =>
    s.events.filter((e): e is EventOf<'cleanup'> => e.type === 'cleanup').map((e) => ({ e, shard: s })),
  );
  const lastCleanup = cleanups.reduce<(typeof cleanups)[number] | undefined>(
    (latest, c) => (latest === undefined || c.e.t >= latest.e.t ? c : latest),
    undefined,
  );
  const mergedCleanup = (t: number): EventOf<'cleanup'> => {
    const restored = cleanups.flatMap((c) => c.e.restored ?? []);
    const errors = cleanups
      .filter((c) => c.e.error)
      .map((c) => `shard ${c.shard.shard.index}/${count}: ${c.e.error}`);
    return {
      t,
      type: 'cleanup',
      ok: cleanups.every((c) => c.e.ok),
      removed: cleanups.flatMap((c) => c.e.removed),
      leftover: cleanups.flatMap((c) => c.e.leftover),
      ...(restored.length > 0 ? { restored } : {}),
      ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    };
  };
  return (event: JournalEvent, shard: ReadShard): JournalEvent | undefined => {
    const label = `shard ${shard.shard.index}/${count}`;
    switch (event.type) {
      case 'run-start':
        return {
          t: event.t,
          type: 'log',
          level: 'info',
          message: `${label}: run ${event.runId} started (meshdrill ${event.argv.join(' ')})`,
        };
      case 'run-end':
        return {
          t: event.t,
          type: 'log',
          level: 'info',
          message: `${label}: run ${shard.start.runId} ended ${event.outcome} (exit ${event.exitCode})`,
        };
      case 'cleanup':
        return event === lastCleanup?.e ? mergedCleanup(event.t) : undefined;
      default:
        return event;
    }
  };
}

/**
 * Every shard's events in time order, each shard's own order kept (equal times: the lower shard first). Events
 * name their execution, so executions of one scenario variant in different shards may interleave freely.
 */
function interleave(shards: readonly ReadShard[], rewrite: ReturnType<typeof createRewrite>): JournalEvent[] {
  const positions = shards.map(() => 0);
  const stream: JournalEvent[] = [];
  for (;;) {
    let next: number | undefined;
    shards.forEach((shard, n) => {
      const head = shard.events[positions[n] as number];
      const best = next === undefined ? undefined : shards[next]?.events[positions[next] as number];
      if (head && (best === undefined || head.t < best.t)) next = n;
    });
    if (next === undefined) return stream;
    const shard = shards[next] as ReadShard;
    const event = shard.events[positions[next] as number] as JournalEvent;
    positions[next] = (positions[next] as number) + 1;
    const out = rewrite(event, shard);
    if (out) stream.push(out);
  }
}

/** The merged run's run-start: the first shard's command without --shard and --out; `shard.merged` lists all. */
function createMergedStart(shards: readonly ReadShard[], runId: string | undefined): RunStart {
  const first = shards[0] as ReadShard;
  const parallels = shards.map((s) => s.start.parallel).filter((p): p is number => p !== undefined);
  return {
    t: Math.min(...shards.map((s) => s.start.t)),
    type: 'run-start',
    version: JOURNAL_VERSION,
    runId: runId ?? `${first.start.runId}-merged`,
    meshdrillVersion: first.start.meshdrillVersion,
    argv: suiteArgv(first.start.argv),
    target: first.start.target,
    repeat: first.start.repeat,
    ...(parallels.length > 0 ? { parallel: Math.max(...parallels) } : {}),
    shard: {
      count: first.shard.count,
      merged: shards.map((s) => ({
        index: s.shard.index,
        runId: s.start.runId,
        outcome: s.end?.outcome ?? null,
        exitCode: s.end?.exitCode ?? null,
      })),
    },
  };
}

/**
 * Merges the journals of every shard of one suite into the journal of one run, or throws (invalid-input) naming
 * every reason they are not: a missing shard, one given twice, different shard counts, runs in two shards,
 * different targets, repeats, meshdrill or Istio versions, a journal that is no shard's.
 *
 * The merged journal (the current version; older shards' journals are upgraded as they are read) holds every
 * event of every shard in time order, except: one run-start for the merged run and one run-end whose outcome and
 * exit code follow from the shards' by `decide` — none when a shard has no run-end, so the merged run is
 * incomplete as that shard was; each shard's run-start and run-end become info logs; the shards' cleanups become
 * one (ok only if every shard's was).
 */
export function mergeShardJournals(journals: readonly ShardJournal[], options: MergeOptions): MergedJournal {
  if (journals.length === 0)
    throw new MeshdrillError('invalid-input', 'merge: expected the run directories of shards');
  const { shards: unordered, problems } = checkShards(journals);
  if (problems.length > 0) {
    throw new MeshdrillError(
      'invalid-input',
      `cannot merge these run directories into one run:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { hint: 'pass the run directory of every shard of one suite: the same command with --shard 1/n … n/n' },
    );
  }
  const shards = [...unordered].sort((a, b) => a.shard.index - b.shard.index);
  const warnings = describeShardWarnings(shards);
  const stream = interleave(shards, createRewrite(shards, (shards[0] as ReadShard).shard.count));
  const start = createMergedStart(shards, options.runId);
  const notes = warnings.map(
    (message): JournalEvent => ({ t: start.t, type: 'log', level: 'warn', message }),
  );
  const ends = shards.map((s) => s.end).filter((e) => e !== undefined);
  const events: JournalEvent[] = [start, ...notes, ...stream];
  if (ends.length === shards.length) {
    const { outcome, exitCode } = options.decide(ends.map((e) => e.outcome));
    events.push({ t: Math.max(...ends.map((e) => e.t)), type: 'run-end', outcome, exitCode });
  }
  return { events, warnings };
}
