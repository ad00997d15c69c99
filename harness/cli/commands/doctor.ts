// `meshdrill doctor --target kind|existing`: one line per check — ok, warn or fail — with how to fix it; exit 3
// when anything fails, 0 otherwise. It changes nothing.

import { type DoctorCheck, diagnoseTarget } from '../../../clusters/index.js';
import { EXIT_CODES, invalidInput } from '../../model/errors.js';
import type { CliArgs } from '../args.js';

/** The report as lines (pure): status, what, what was found, and the fix below it. */
export function formatChecks(checks: readonly DoctorCheck[]): string[] {
  const width = Math.max(...checks.map((c) => c.check.length), 5);
  return checks.flatMap((c) => [
    `${c.status.padEnd(4)}  ${c.check.padEnd(width)}  ${c.detail}`,
    ...(c.fix && c.status !== 'ok' ? [`${' '.repeat(width + 8)}fix: ${c.fix}`] : []),
  ]);
}

export async function doctorCommand(args: CliArgs): Promise<number> {
  if (args.target !== 'kind' && args.target !== 'existing') {
    throw invalidInput(
      `doctor: expected --target kind or --target existing, got "${args.target}"`,
      'the local target needs only `make setup` (Prometheus and Alertmanager from Debian)',
    );
  }
  const checks = await diagnoseTarget(args.target, args.targetOpts);
  for (const line of formatChecks(checks)) console.log(line);
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  console.log(`\n${failed} failed, ${warned} warning(s), ${checks.length - failed - warned} ok`);
  return failed > 0 ? EXIT_CODES.environment : EXIT_CODES.passed;
}
