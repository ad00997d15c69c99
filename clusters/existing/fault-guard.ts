// The safety guard of shared clusters: faults only where the user allowed this exact context, by setting
// (`allow-faults=CONTEXT`) or by a line in ~/.config/meshdrill/allowed-contexts. Naming the context (not `true`)
// means a copied command line cannot aim faults at whatever context it happens to select.

import { readFile } from 'node:fs/promises';

export interface FaultDecision {
  allowed: boolean;
  /** Why, in a sentence the user sees. */
  reason: string;
}

/** Context names from an allow-list file: one a line, `#` comments, blanks ignored (pure). */
export function parseAllowList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

export function decideFaultsAllowed(input: {
  context: string;
  allowSetting: string | undefined;
  allowList: readonly string[];
  allowListPath: string;
}): FaultDecision {
  const { context, allowSetting, allowList, allowListPath } = input;
  if (allowSetting !== undefined && allowSetting === context) {
    return { allowed: true, reason: `context "${context}" allowed by --target-opt allow-faults=${context}` };
  }
  if (allowList.includes(context)) {
    return { allowed: true, reason: `context "${context}" allowed by ${allowListPath}` };
  }
  const mismatch =
    allowSetting !== undefined
      ? ` (--target-opt allow-faults=${allowSetting} names another context, or is not a context name)`
      : '';
  return {
    allowed: false,
    reason:
      `faults are refused on context "${context}": it is not explicitly allowed${mismatch}. ` +
      `To allow it, pass --target-opt allow-faults=${context} or add the line "${context}" to ${allowListPath}`,
  };
}

export async function readAllowList(path: string): Promise<string[]> {
  try {
    return parseAllowList(await readFile(path, 'utf8'));
  } catch {
    return [];
  }
}
