// `meshdrill validate PATH…`: all three validation stages on every file; prints every problem; runs nothing.

import { invalidInput, EXIT_CODES } from '../../model/errors.js';
import { controlPlaneOf } from '../../../clusters/index.js';
import { formatProblem, loadScenarios, meshVariablesFor } from '../../scenario/index.js';
import { formatDuration } from '../../util/duration.js';
import type { CliArgs } from '../args.js';

export async function validateCommand(args: CliArgs): Promise<number> {
  if (args.positionals.length === 0)
    throw invalidInput('validate: expected at least one scenario file or directory');
  const { scenarios, problems, warnings } = await loadScenarios(args.positionals, {
    target: args.target,
    mesh: meshVariablesFor(controlPlaneOf(args.targetOpts)),
  });
  for (const warning of warnings) console.error(formatProblem(warning));
  if (problems.length > 0) {
    for (const problem of problems) console.error(formatProblem(problem));
    console.error(`\n${problems.length} problem${problems.length === 1 ? '' : 's'} found; nothing was run.`);
    return EXIT_CODES.invalidInput;
  }
  for (const s of scenarios) {
    console.log(`✓ ${s.name} (${s.file}): ${s.signals.length} signal(s), ${s.variants.length} variant(s)`);
    for (const v of s.variants) {
      if (v.ownRecovery === undefined) continue;
      const { conditions, budgetMs, verifyMs } = v.ownRecovery.recovery;
      const names = conditions.map((c) => c.name).join(', ') || 'no conditions';
      console.log(
        `  variant ${v.name} is judged against its own recovery: ${names} (budget ${formatDuration(budgetMs)}, verify ${formatDuration(verifyMs)})`,
      );
    }
  }
  console.log(`${scenarios.length} scenario${scenarios.length === 1 ? '' : 's'} valid`);
  return EXIT_CODES.passed;
}
