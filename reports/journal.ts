// Reads journal.jsonl tolerantly: a torn last line (the run crashed mid-write) is reported, not fatal;
// a journal written by a newer major version is refused, because guessing at its meaning would mislead; an older
// one is upgraded to the current shape (journal-upgrade.ts), so every report reads one version.

import { readFile } from 'node:fs/promises';
import { JOURNAL_VERSION, type JournalEvent, MeshdrillError } from '../harness/model/index.js';
import { upgradeEvents } from './journal-upgrade.js';

export interface JournalProblem {
  /** 1-based line number in journal.jsonl. */
  line: number;
  message: string;
}

export interface ParsedJournal {
  /** In the current version's shape, whatever version wrote them. */
  events: JournalEvent[];
  /** Lines skipped (torn, not JSON, not an event); reports show them so nothing is lost silently. */
  problems: JournalProblem[];
  /** The version written in run-start (kept as written); undefined when the journal has no run-start. */
  version: number | undefined;
}

const KNOWN_TYPES = new Set<string>([
  'run-start',
  'target-ready',
  'scenario-start',
  'phase-start',
  'phase-end',
  'load-sample',
  'fault-injected',
  'fault-removed',
  'condition',
  'runbook-step',
  'slo-window',
  'recovery',
  'assertion',
  'scenario-end',
  'cleanup',
  'log',
  'run-end',
]);

/**
 * Events that must name their scenario and variant (and, from version 2, their iteration); phase events may
 * instead be the suite's. Checked so one malformed line cannot break a whole report.
 */
const SCOPED = new Set<string>([
  'scenario-start',
  'phase-start',
  'phase-end',
  'load-sample',
  'fault-injected',
  'fault-removed',
  'condition',
  'runbook-step',
  'slo-window',
  'recovery',
  'assertion',
  'scenario-end',
]);

function describeShapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`;
  }
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
    return `expected "type" to be one of ${[...KNOWN_TYPES].join(', ')}, got ${JSON.stringify(type)}`;
  }
  if (typeof record.t !== 'number') return `expected "t" (epoch ms) to be a number on a ${type} event`;
  if (SCOPED.has(type)) return describeScopeProblem(record, type);
  if (type === 'log' && record.iteration !== undefined && typeof record.iteration !== 'number') {
    return `expected "iteration" to be a number on a log event, got ${JSON.stringify(record.iteration)}`;
  }
  return undefined;
}

function describeScopeProblem(record: Record<string, unknown>, type: string): string | undefined {
  const suitePhase = (type === 'phase-start' || type === 'phase-end') && record.scope === 'suite';
  if (!suitePhase && (typeof record.scenario !== 'string' || typeof record.variant !== 'string')) {
    return `expected "scenario" and "variant" strings on a ${type} event`;
  }
  // Absent in version 1 (upgraded on reading); present, it must be a number.
  if (!suitePhase && record.iteration !== undefined && typeof record.iteration !== 'number') {
    return `expected "iteration" to be a number on a ${type} event, got ${JSON.stringify(record.iteration)}`;
  }
  if (type === 'load-sample' && (typeof record.sample !== 'object' || record.sample === null)) {
    return 'expected a "sample" object on a load-sample event';
  }
  return undefined;
}

/**
 * Parses the text of journal.jsonl. Throws a MeshdrillError (invalid-input) only when the journal was written
 * by a newer major version; every other defect becomes a problem and the line is skipped.
 */
export function parseJournal(text: string): ParsedJournal {
  const events: unknown[] = [];
  const problems: JournalProblem[] = [];
  let version: number | undefined;
  const lines = text.split('\n');
  // A file that ends with "\n" yields one empty trailing element; that is the normal case, not a torn line.
  const lastIndex = lines.length - 1;
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      const torn = i === lastIndex || lines.slice(i + 1).every((l) => l.trim() === '');
      problems.push({
        line: i + 1,
        message: torn
          ? `the last line is incomplete (${raw.length} bytes, the run probably stopped while writing it); it was skipped`
          : `not valid JSON (${(error as Error).message}); the line was skipped`,
      });
      continue;
    }
    const shapeProblem = describeShapeProblem(value);
    if (shapeProblem !== undefined) {
      problems.push({ line: i + 1, message: `${shapeProblem}; the line was skipped` });
      continue;
    }
    const event = value as { type: string };
    if (event.type === 'run-start') {
      const written = (value as { version?: unknown }).version;
      if (typeof written === 'number' && Math.floor(written) > JOURNAL_VERSION) {
        throw new MeshdrillError(
          'invalid-input',
          `journal version ${written} is newer than this meshdrill understands (journal version ${JOURNAL_VERSION})`,
          { hint: 'render it with the meshdrill version that wrote it, or upgrade meshdrill' },
        );
      }
      version = typeof written === 'number' ? written : undefined;
    }
    events.push(event);
  }
  return { events: upgradeEvents(events), problems, version };
}

/** Reads and parses a journal file; a missing file is an invalid-input error naming the path. */
export async function readJournal(path: string): Promise<ParsedJournal> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new MeshdrillError(
      'invalid-input',
      `cannot read the journal at ${path}: ${(error as Error).message}`,
      {
        hint: 'pass a run directory that contains journal.jsonl (runs/<run-id>/)',
        cause: error,
      },
    );
  }
  return parseJournal(text);
}
