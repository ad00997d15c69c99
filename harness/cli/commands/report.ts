// `meshdrill report RUN_DIR`: re-renders every report from journal.jsonl alone — no cluster needed.
// `meshdrill report --merge OUT_DIR RUN_DIR…`: the shards of one suite (run --shard i/n) merged into one run.

import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { mergeShardJournals, readJournal, writeReports } from '../../../reports/index.js';
import { EXIT_CODES, exitCodeFor, invalidInput, MeshdrillError, worstOutcome } from '../../model/index.js';
import type { CliArgs } from '../args.js';

export async function reportCommand(args: CliArgs): Promise<number> {
  if (args.merge !== undefined) return mergeCommand(args.merge, args.positionals);
  const [runDir] = args.positionals;
  if (!runDir) throw invalidInput('report: expected a run directory, e.g. meshdrill report runs/<run-id>');
  const result = await writeReports(runDir);
  for (const problem of result.journalProblems)
    console.error(`warning: journal line ${problem.line}: ${problem.message}`);
  for (const failure of result.failed)
    console.error(`warning: the ${failure.reporter} reporter failed: ${failure.error}`);
  for (const file of result.written) console.log(file);
  return result.failed.length > 0 ? EXIT_CODES.environment : EXIT_CODES.passed;
}

/**
 * Reads every shard's journal (every unreadable one named at once), merges them (reports/merge.ts), writes the
 * merged journal.jsonl into OUT_DIR and renders its reports there through the usual pipeline. Exits with the
 * merged run's exit code, as the suite run on one machine would have — what a CI job fails on.
 */
async function mergeCommand(outDir: string, runDirs: string[]): Promise<number> {
  if (runDirs.length === 0) {
    throw invalidInput(
      'report --merge: expected OUT_DIR then the run directories of the shards, e.g. meshdrill report --merge runs/merged runs/shard-*',
    );
  }
  const out = resolve(outDir);
  const inputs = runDirs.filter((dir) => resolve(dir) === out);
  if (inputs.length > 0) {
    throw invalidInput(
      `report --merge: expected OUT_DIR apart from the shards' directories, got ${outDir} as both`,
      'merge into a new directory, e.g. runs/merged',
    );
  }
  const read = await Promise.all(
    runDirs.map(async (dir) => {
      try {
        const journal = await readJournal(join(dir, 'journal.jsonl'));
        return { dir, events: journal.events, problems: journal.problems };
      } catch (error) {
        return { dir, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const unreadable = read.flatMap((r) => ('error' in r ? [`  - ${r.dir}: ${r.error}`] : []));
  if (unreadable.length > 0) {
    throw new MeshdrillError('invalid-input', `cannot merge:\n${unreadable.join('\n')}`, {
      hint: 'pass run directories written by meshdrill run --shard i/n (each holds journal.jsonl)',
    });
  }
  // The outcome rule of a single run is the engine's; loaded only here, so a plain `report` stays light.
  const merged = mergeShardJournals(
    read.flatMap((r) => ('error' in r ? [] : [r])),
    {
      decide: (outcomes) => {
        const outcome = worstOutcome(outcomes);
        return { outcome, exitCode: exitCodeFor(outcome) };
      },
    },
  );
  for (const warning of merged.warnings) console.error(`warning: ${warning}`);
  await mkdir(out, { recursive: true });
  const journalPath = join(out, 'journal.jsonl');
  const temporary = `${journalPath}.tmp-${process.pid}`;
  await writeFile(temporary, merged.events.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');
  await rename(temporary, journalPath);
  const result = await writeReports(out);
  for (const failure of result.failed)
    console.error(`warning: the ${failure.reporter} reporter failed: ${failure.error}`);
  for (const file of [journalPath, ...result.written]) console.log(file);
  const { run, verdict } = result.results;
  const exitCode = run.exitCode ?? EXIT_CODES.environment;
  console.log(
    `\nmerged ${runDirs.length} shard(s) into run ${run.runId}: ${verdict.outcome.toUpperCase()} (exit ${exitCode}) — ${verdict.counts.scenarios} drill run(s), ${verdict.counts.failed} failed`,
  );
  if (result.failed.length > 0 && exitCode === EXIT_CODES.passed) return EXIT_CODES.environment;
  return exitCode;
}
