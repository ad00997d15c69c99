// Load generation, the public face: one factory over both drivers (built-in open-model generator and k6), the
// k6 script generator, output parser and in-cluster manifests.

import type { LoadDriver } from '../model/index.js';
import { type BuiltinDriverOptions, createBuiltinDriver } from './builtin-driver.js';
import { createK6Driver, type K6DriverOptions } from './k6/driver.js';
import { createK6InClusterDriver, type K6InClusterDriverOptions } from './k6/in-cluster-driver.js';
import { createIsolatedBuiltinDriver } from './isolated/isolated-driver.js';

export type LoadDriverName = 'builtin' | 'k6';
export const LOAD_DRIVERS: readonly LoadDriverName[] = ['builtin', 'k6'];

export interface LoadDriverOptions {
  /**
   * Runs the built-in generator inline, on the calling thread, with these options (an injected clock or
   * transport: tests). Without it the generator runs on a worker thread of its own (isolated/).
   */
  builtin?: BuiltinDriverOptions;
  k6?: K6DriverOptions;
  /** When set, `k6` runs in-cluster (a Job or a k6-operator TestRun) instead of a local binary. */
  k6InCluster?: K6InClusterDriverOptions;
}

// A mapped type: adding a driver name without a factory is a compile error.
const FACTORIES: { [K in LoadDriverName]: (options: LoadDriverOptions) => LoadDriver } = {
  builtin: (options) =>
    options.builtin === undefined ? createIsolatedBuiltinDriver() : createBuiltinDriver(options.builtin),
  k6: (options) =>
    options.k6InCluster === undefined
      ? createK6Driver(options.k6)
      : createK6InClusterDriver(options.k6InCluster),
};

/** The load driver by name (the scenario's `load.driver`, or the CLI's override). */
export function createLoadDriver(name: LoadDriverName, options: LoadDriverOptions = {}): LoadDriver {
  const factory = FACTORIES[name];
  if (factory === undefined) {
    throw new Error(`unknown load driver "${String(name)}": expected one of ${LOAD_DRIVERS.join(', ')}`);
  }
  return factory(options);
}

export {
  type BuiltinDriverOptions,
  createBuiltinDriver,
  type EndReason,
  type InstrumentProbe,
} from './builtin-driver.js';
export { createIsolatedBuiltinDriver, summarizeSamples } from './isolated/isolated-driver.js';
export {
  type ClientErrorKind,
  isSuccessStatus,
  LoadBuckets,
  type RequestOutcome,
  splitResponseFlags,
} from './buckets.js';
export { type LoadClock, systemClock } from './clock.js';
export { createK6Driver, K6_INSTALL_HINT, type K6DriverOptions } from './k6/driver.js';
export {
  createK6InClusterDriver,
  drillTestRunOptions,
  type InClusterLoad,
  K6_OPERATOR_INSTALL_HINT,
  type K6ClusterMode,
  type K6ClusterPlan,
  type K6InClusterDriverOptions,
  planK6ClusterRun,
} from './k6/in-cluster-driver.js';
export { type LogRead, LogCursor } from './k6/log-cursor.js';
export {
  buildK6ConfigMap,
  buildK6Job,
  buildK6TestRun,
  K6_IMAGE,
  K6_POINTS_TO_STDOUT,
  type K6ClusterRun,
  toDnsLabel,
} from './k6/manifests.js';
export { classifyK6ErrorCode, K6OutputParser, parseK6Output } from './k6/output.js';
export {
  buildK6Scenario,
  buildK6Thresholds,
  formatK6Duration,
  generateK6Script,
  K6_ENV,
} from './k6/script.js';
export { createRequestPicker } from './mix.js';
export { checkLoadProfile } from './profile-check.js';
export { createArrivalSchedule, rateAt, rateSegments, scheduleDurationMs } from './schedule.js';
export {
  classifyClientError,
  createUndiciTransport,
  type LoadTransport,
  RESPONSE_FLAGS_HEADER,
} from './transport.js';
