// Reading a runbook file for a run: parse, bind the scenario's variables, refuse if anything stays unbound.

import { readFile } from 'node:fs/promises';
import { invalidInput } from '../model/errors.js';
import type { RunbookRef } from '../model/scenario.js';
import { parseRunbook } from './parse.js';
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
export async function loadBoundRunbook(ref: RunbookRef): Promise<RunbookStep[]> {
  let markdown: string;
  try {
    markdown = await readFile(ref.path, 'utf8');
  } catch (error) {
    throw invalidInput(
      `cannot read runbook ${ref.path}: ${(error as Error).message}`,
      'check runbook.path in the scenario',
    );
  }
  const steps = parseRunbook(markdown, ref.path);
  const unbound = describeUnbound(steps, ref.variables);
  if (unbound.length > 0)
    throw invalidInput(unbound.join('\n'), 'bind each placeholder in runbook.variables');
  return bindRunbook(steps, ref.variables);
}
