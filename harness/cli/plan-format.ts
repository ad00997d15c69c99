// The plan as text (pure): each section's steps in order — commands with `$`, applied objects as YAML, actions on
// named objects, notes — then its blast radius.

import { stringify } from 'yaml';
import type { PlanSection, PlanStep } from '../model/plan.js';

const indent = (text: string, by: string): string =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');

function formatStep(step: PlanStep): string {
  switch (step.step) {
    case 'command':
      return `  $ ${indent(step.command, '    ').trimStart()}\n      # ${step.purpose}`;
    case 'apply': {
      const { kind, metadata } = step.object;
      const name = `${kind} ${metadata.namespace ? `${metadata.namespace}/` : ''}${metadata.name ?? ''}`;
      return `  apply ${name}  # ${step.purpose}\n${indent(stringify(step.object), '      ')}`;
    }
    case 'action':
      return `  ${step.action}: ${step.object}  # ${step.purpose}`;
    case 'note':
      return indent(step.text, '  # ').replace(/^ {2}# /, '  # ');
  }
}

export function formatPlan(sections: readonly PlanSection[]): string {
  const out: string[] = [];
  for (const section of sections) {
    out.push(`== ${section.title}`);
    for (const step of section.steps) out.push(formatStep(step));
    if (section.blastRadius.length > 0) {
      out.push('  blast radius (outside what the run creates for itself):');
      for (const entry of section.blastRadius) {
        const state =
          entry.exists === 'unknown' ? 'existence unknown' : entry.exists ? 'exists' : 'does not exist yet';
        out.push(`    - ${entry.object} [${state}]: ${entry.change}`);
      }
    }
    out.push('');
  }
  return out.join('\n');
}
