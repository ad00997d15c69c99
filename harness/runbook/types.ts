// Runbook steps as parsed from Markdown, the placeholders in them, and what running one produced: the model's
// types (harness/model/scenario.ts, harness/model/journal.ts), under the names this module uses.

export type {
  RunbookPlaceholder as Placeholder,
  RunbookStep,
  RunbookStepKind as StepKind,
} from '../model/index.js';

/** One executed step: the model's record (the journal's `runbook-step` event carries the same fields). */
export type { RunbookStepRecord as StepResult } from '../model/index.js';
