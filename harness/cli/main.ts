// meshdrill's command line: dispatch, and the one place errors become messages and exit codes (STYLE.md §8).

import { closeLifeline } from '../exec/index.js';
import { EXIT_CODES, MeshdrillError, exitCodeOf } from '../model/errors.js';
import { parseCliArgs } from './args.js';
import { cleanupCommand } from './commands/cleanup.js';
import { clusterCommand } from './commands/cluster.js';
import { compareCommand } from './commands/compare.js';
import { doctorCommand } from './commands/doctor.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { USAGE } from './usage.js';
import { MESHDRILL_VERSION } from './version.js';

async function main(argv: string[]): Promise<number> {
  const args = parseCliArgs(argv);
  if (args.version) {
    console.log(MESHDRILL_VERSION);
    return EXIT_CODES.passed;
  }
  if (args.help || args.command === undefined || args.command === 'help') {
    console.log(USAGE);
    return args.command === undefined && !args.help ? EXIT_CODES.invalidInput : EXIT_CODES.passed;
  }
  switch (args.command) {
    case 'run':
      return runCommand(args, argv);
    case 'validate':
      return validateCommand(args);
    case 'report':
      return reportCommand(args);
    case 'compare':
      return compareCommand(args);
    case 'cleanup':
      return cleanupCommand(args);
    case 'cluster':
      return clusterCommand(args);
    case 'doctor':
      return doctorCommand(args);
    default:
      throw new MeshdrillError('invalid-input', `unknown command "${args.command}"`, {
        hint: 'commands: run, validate, report, compare, cleanup, cluster, doctor (meshdrill --help)',
      });
  }
}

// The process ends with an explicit exit once the command is done (its target torn down, its reports written,
// stdout and stderr written synchronously as they are on Linux). Left to end by itself, Node 20 sometimes spins
// at 100 % CPU in its exit-time handle cleanup after all work is over (seen here on the pack run: 3 min after its
// run-end, until killed; nodejs/node#47748) — a CI job waiting for it would wait until its own time limit.
let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof MeshdrillError) {
    console.error(`meshdrill: ${error.message}`);
    if (error.hint) console.error(`  hint: ${error.hint}`);
  } else {
    console.error(
      `meshdrill: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
  code = exitCodeOf(error);
}
// The watcher that ends what a killed meshdrill leaves (harness/exec/lifeline.ts) ends before meshdrill does.
await closeLifeline();
process.exit(code);
