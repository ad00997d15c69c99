// A parsed runbook made ready to run: the scenario's variables bound, refused if anything stays unbound. The
// scenario loader reads and parses each runbook once (harness/scenario/external-files.ts) and binds it here
// for every variant that names it; nothing reads a runbook file at run time.

import { invalidInput } from '../model/index.js';
import { bindRunbook, findUnboundPlaceholders } from './placeholders.js';
import type { RunbookStep } from './types.js';

/** `runbooks/x.md:12 step "Restart istiod": placeholder <namespace> is not bound; …` for each unbound one. */
export function describeUnbound(
  steps: readonly RunbookStep[],
  variables: Readonly<Record<string, string>>,
): string[] {
  return findUnboundPlaceholders(steps, variables).map(
    ({ step, placeholder }) =>
      `${step.file}:${placeholder.line} step "${step.title}": placeholder ${placeholder.token} is not bound; add it to runbook.variables in the scenario`,
  );
}

/** The runbook's steps with the variables bound; throws an invalid-input error listing every unbound one. */
export function bindRunbookSteps(
  steps: readonly RunbookStep[],
  variables: Readonly<Record<string, string>>,
): RunbookStep[] {
  const unbound = describeUnbound(steps, variables);
  if (unbound.length > 0)
    throw invalidInput(unbound.join('\n'), 'bind each placeholder in runbook.variables');
  return bindRunbook(steps, variables);
}
