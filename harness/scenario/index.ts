// The scenario format (docs/scenario-format.md): load, validate in three stages, resolve for the engine.
export { renderScenarioJsonSchema } from './json-schema.js';
export { CONDITION_KINDS, FAULT_KINDS } from './kinds.js';
export { type LoadOptions, type LoadResult, loadScenarios, validateScenarioText } from './load-scenarios.js';
export { formatProblem, type Problem, sortProblems } from './problem.js';
export { DEFAULTS, MAIN_VARIANT, namespaceFor, type ResolveContext, resolveScenario } from './resolve.js';
export { RULES, type Rule } from './rules.js';
export { expandScaled, formatScaled } from './scaled.js';
export { type ScenarioSpec, SCENARIO_API_VERSION, scenarioSpecSchema } from './spec.js';
export * from './generate.js';
export {
  DEFAULT_MESH_VARIABLES,
  expandMesh,
  MESH_VARIABLE_DOCS,
  MESH_VARIABLE_NAMES,
  type MeshVariables,
  meshVariablesFor,
} from './mesh-variables.js';
