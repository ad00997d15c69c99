// Runbook steps as parsed from Markdown, the placeholders in them, and what running one produced.

/** Runbook step kinds (a tagged union with a runner per kind: run.ts). */
export type StepKind = 'command' | 'apply';

/** A word the scenario must bind before the step can run: `<namespace>`, `$POD_NAME`, `${POD_NAME}`. */
export interface Placeholder {
  /** The variable name to bind: `namespace`, `POD_NAME`. */
  name: string;
  /** As written in the runbook. */
  token: string;
  form: 'angle' | 'variable';
  /** Line in the Markdown file (1-based). */
  line: number;
  /** Offsets of the token in the step's body. */
  start: number;
  end: number;
}

export interface RunbookStep {
  /** 0-based position in the runbook. */
  index: number;
  /** The nearest heading above the block (`Step 3` when there is none). */
  title: string;
  kind: StepKind;
  /** The script (command) or the YAML documents (apply), as written or, after bindRunbook, bound. */
  body: string;
  /** The Markdown file. */
  file: string;
  /** Line of the opening fence. */
  line: number;
  /** Placeholders still unbound in `body`. */
  placeholders: Placeholder[];
}

/** One executed step: the model's record (the journal's `runbook-step` event carries the same fields). */
export type { RunbookStepRecord as StepResult } from '../model/journal.js';
