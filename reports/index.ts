// The reports folder's public face: writeReports(runDir) turns journal.jsonl into results.json, junit.xml and
// index.html through the reporter multiplexer, plus the pieces the CLI wires (compare, load, render).

import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MeshdrillError } from '../harness/model/index.js';
import { createGithubReporter } from './ci-summary.js';
import { renderHtml } from './html/index.js';
import { readJournal } from './journal.js';
import { renderJunit } from './junit.js';
import { createMultiplexer, type Reporter, type ReporterFailure, type ReportInput } from './reporter.js';
import { buildResults } from './results.js';
import { RESULTS_SCHEMA_VERSION, type Results } from './results-types.js';

export { createGithubReporter, lineOfAssertion, renderAnnotations, renderCiSummary } from './ci-summary.js';
export { compareRuns, DEFAULT_TOLERANCES, resolveTolerances } from './compare.js';
export type { Comparison, Tolerances, TolerancesInput } from './compare.js';
export { renderComparisonHtml, renderComparisonText } from './compare-render.js';
export { renderHtml } from './html/index.js';
export { parseJournal, readJournal } from './journal.js';
export type { ParsedJournal } from './journal.js';
export { renderJunit } from './junit.js';
export { createMultiplexer } from './reporter.js';
export type { Reporter, ReporterFailure, ReportInput } from './reporter.js';
export { mergeShardJournals } from './merge.js';
export type { MergedJournal, MergeOptions, ShardJournal } from './merge.js';
export { buildResults } from './results.js';
export * from './results-types.js';

/** Writes through a temporary file and a rename, so a reader never sees half a report. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, path);
}

function createFileReporter(name: string, file: string, render: (input: ReportInput) => string): Reporter {
  return {
    name,
    async onEnd(input) {
      const path = join(input.runDir, file);
      await writeAtomically(path, render(input));
      return [path];
    },
  };
}

/** The three standard reporters (results.json, junit.xml, index.html), and the job summary on GitHub Actions. */
export function createDefaultReporters(env: NodeJS.ProcessEnv = process.env): Reporter[] {
  const github = createGithubReporter(env);
  return [
    createFileReporter('json', 'results.json', (i) => `${JSON.stringify(i.results, null, 2)}\n`),
    createFileReporter('junit', 'junit.xml', (i) => renderJunit(i.results)),
    createFileReporter('html', 'index.html', (i) => renderHtml(i.results, i.events)),
    ...(github ? [github] : []),
  ];
}

export interface WriteReportsResult {
  written: string[];
  failed: ReporterFailure[];
  results: Results;
  /** Journal lines that could not be read (e.g. torn by a crash); also in results.json. */
  journalProblems: { line: number; message: string }[];
}

/**
 * Reads runDir/journal.jsonl and writes the reports beside it. A reporter that throws is listed in `failed`
 * and the others still run; only an unreadable or too-new journal throws (a MeshdrillError, invalid-input).
 */
export async function writeReports(
  runDir: string,
  options: { reporters?: Reporter[] } = {},
): Promise<WriteReportsResult> {
  const journal = await readJournal(join(runDir, 'journal.jsonl'));
  const results = buildResults(journal.events, { journalProblems: journal.problems });
  const mux = createMultiplexer(options.reporters ?? createDefaultReporters());
  const written = await mux.onEnd({ runDir, events: journal.events, results });
  return { written, failed: [...mux.failures], results, journalProblems: journal.problems };
}

/**
 * The results of a run directory for `meshdrill compare`: rebuilt from journal.jsonl when present (the
 * journal is the source of truth), otherwise read from results.json.
 */
export async function loadRunResults(runDir: string): Promise<Results> {
  const journalPath = join(runDir, 'journal.jsonl');
  if (existsSync(journalPath)) {
    const journal = await readJournal(journalPath);
    return buildResults(journal.events, { journalProblems: journal.problems });
  }
  const path = join(runDir, 'results.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new MeshdrillError(
      'invalid-input',
      `cannot read a run from ${runDir}: no journal.jsonl, and results.json: ${(error as Error).message}`,
      {
        hint: 'pass a run directory written by meshdrill run (runs/<run-id>/)',
        cause: error,
      },
    );
  }
  const version = (parsed as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version !== 'number' || version > RESULTS_SCHEMA_VERSION) {
    throw new MeshdrillError(
      'invalid-input',
      `${path}: expected results schemaVersion ≤ ${RESULTS_SCHEMA_VERSION}, got ${JSON.stringify(version)}`,
      {
        hint: 'compare with the meshdrill version that wrote it, or keep journal.jsonl in the run directory',
      },
    );
  }
  // results.json written before the suite's own events (or the errors per phase) were kept lacks those
  // additive fields.
  const results = parsed as Results;
  return {
    ...results,
    suite: results.suite ?? { phases: [] },
    scenarios: results.scenarios.map((r) => ({ ...r, errorsByPhase: r.errorsByPhase ?? [] })),
  };
}
