// The engine: phases, one variant run, a suite run. Depends only on ports (EngineContext) and the Target seam.
export { type SuiteOptions, type SuiteResult, runSuite } from './run-suite.js';
export { runVariant, type VariantResult } from './run-variant.js';
export * from './ports.js';
export { PhaseRunner, sleep, Interrupted, PhaseTimeout, StopScenario } from './phase-runner.js';
export { type DrillClaims, findSideBySideClashes, runScheduled } from './schedule.js';
export {
  chooseParallelism,
  DRILL_CPU_COSTS,
  type DrillCost,
  decideParallelism,
  estimateTurnCosts,
  MAX_PARALLEL,
  type ParallelismChoice,
} from './parallelism.js';
export * from './limits.js';
export * from './shard.js';
export * from './plan.js';
export { describeSuiteShard, suiteShard } from './run-suite.js';
export { SHARED_SIGNAL_LISTENERS } from './phase-runner.js';
