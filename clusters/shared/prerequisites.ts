// Checks the host tools a real-cluster target needs before anything starts, and names every missing one at
// once with how to get it (a half-created cluster because helm was missing is the worst outcome).

import { describeFailure } from '../../harness/exec/index.js';
import { MeshdrillError } from '../../harness/model/index.js';
import { installHintOf } from './install-hints.js';
import type { ToolRunner } from './tool-runner.js';

export { installHintOf } from './install-hints.js';

/** One need: any one of the tools will do; with `probe`, the tool must also answer that command (a running daemon). */
export interface Requirement {
  /** Key of the chosen tool in the report (default: the first name in `anyOf`). */
  id?: string;
  anyOf: string[];
  purpose: string;
  probe?: string[];
}

export interface MissingRequirement {
  requirement: Requirement;
  /** Per tool: why it does not qualify (not on PATH, or the probe's failure). */
  reasons: { tool: string; reason: string }[];
}

export interface PrerequisiteReport {
  /** The tool chosen for each requirement, keyed by its id. */
  chosen: Record<string, string>;
  missing: MissingRequirement[];
}

/** Renders every missing requirement as one message (pure). */
export function describeMissing(missing: readonly MissingRequirement[]): string {
  const lines = missing.map(({ requirement, reasons }) => {
    const what = requirement.anyOf.map((t) => `\`${t}\``).join(' or ');
    const why = reasons
      .map((r) => `    ${r.tool}: ${r.reason}\n      fix: ${installHintOf(r.tool)}`)
      .join('\n');
    return `  - ${what} (${requirement.purpose}):\n${why}`;
  });
  return `${missing.length} prerequisite${missing.length === 1 ? ' is' : 's are'} missing:\n${lines.join('\n')}`;
}

/** Looks for every requirement (never stopping at the first gap) and reports what was found and what was not. */
export async function findPrerequisites(
  requirements: readonly Requirement[],
  runner: ToolRunner,
): Promise<PrerequisiteReport> {
  const chosen: Record<string, string> = {};
  const missing: MissingRequirement[] = [];
  for (const requirement of requirements) {
    const reasons: MissingRequirement['reasons'] = [];
    for (const tool of requirement.anyOf) {
      const path = await runner.which(tool);
      if (!path) {
        reasons.push({ tool, reason: 'not found on PATH' });
        continue;
      }
      if (requirement.probe) {
        const result = await runner.run(path, requirement.probe, { timeoutMs: 20_000 });
        if (result.exitCode !== 0) {
          reasons.push({
            tool,
            reason: `installed, but ${describeFailure(result).replaceAll('\n', '\n      ')}`,
          });
          continue;
        }
      }
      chosen[requirement.id ?? (requirement.anyOf[0] as string)] = tool;
      break;
    }
    if (chosen[requirement.id ?? (requirement.anyOf[0] as string)] === undefined)
      missing.push({ requirement, reasons });
  }
  return { chosen, missing };
}

/** Throws one environment error naming every missing tool; returns the chosen tools otherwise. */
export async function checkPrerequisites(
  requirements: readonly Requirement[],
  runner: ToolRunner,
): Promise<Record<string, string>> {
  const report = await findPrerequisites(requirements, runner);
  if (report.missing.length > 0) {
    throw new MeshdrillError('environment', describeMissing(report.missing), {
      hint: 'install the tools above (or put them first on PATH), then run again; nothing was created',
    });
  }
  return report.chosen;
}
