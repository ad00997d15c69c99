// The runbook format (docs/runbook-format.md): Markdown → steps, placeholders, binding, and the runner.
export { bindRunbookSteps, describeUnbound } from './load.js';
export { FENCE_KINDS, parseRunbook, SKIP_WORD } from './parse.js';
export {
  bindRunbook,
  findDefinitions,
  findUnboundPlaceholders,
  scanPlaceholders,
  type UnboundPlaceholder,
} from './placeholders.js';
export { buildStepEnv, describeStep, type RunRunbookOptions, runRunbook, STEP_RUNNERS } from './run.js';
export type { Placeholder, RunbookStep, StepKind, StepResult } from './types.js';
