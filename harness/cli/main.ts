// meshdrill's command line: dispatch, and the one place errors become messages and exit codes (STYLE.md §8).

import { closeLifeline } from '../exec/index.js';
import { EXIT_CODES, MeshdrillError, exitCodeOf } from '../model/errors.js';
import { type CliArgs, parseCliArgs } from './args.js';
import { USAGE } from './usage.js';
import { MESHDRILL_VERSION } from './version.js';

type Command = (args: CliArgs, argv: string[]) => Promise<number>;

/**
 * Each command is loaded when it is run, never before: `meshdrill --help` or `validate` must not pay for the
 * engine, the targets and the Kubernetes client (3.4 s of start-up when every command was imported up front).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  compare: async () => (await import('./commands/compare.js')).compareCommand,
  cleanup: async () => {
    const { cleanupCommand } = await import('./commands/cleanup.js');
    return (args) => cleanupCommand(args);
  },
  cluster: async () => (await import('./commands/cluster.js')).clusterCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
};

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
  const load = COMMANDS[args.command];
  if (!load) {
    throw new MeshdrillError('invalid-input', `unknown command "${args.command}"`, {
      hint: `commands: ${Object.keys(COMMANDS).join(', ')} (meshdrill --help)`,
    });
  }
  return (await load())(args, argv);
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
