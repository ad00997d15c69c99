// `meshdrill report RUN_DIR`: re-renders every report from journal.jsonl alone — no cluster needed.

import { invalidInput } from '../../model/errors.js';
import { writeReports } from '../../../reports/index.js';
import type { CliArgs } from '../args.js';

export async function reportCommand(args: CliArgs): Promise<number> {
  const [runDir] = args.positionals;
  if (!runDir) throw invalidInput('report: expected a run directory, e.g. meshdrill report runs/<run-id>');
  const result = await writeReports(runDir);
  for (const problem of result.journalProblems)
    console.error(`warning: journal line ${problem.line}: ${problem.message}`);
  for (const failure of result.failed)
    console.error(`warning: the ${failure.reporter} reporter failed: ${failure.error}`);
  for (const file of result.written) console.log(file);
  return result.failed.length > 0 ? 3 : 0;
}
