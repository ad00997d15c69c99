// Detection signals and checks: evaluate a condition, wait for it, read Prometheus.
export * from './conditions.js';
export * from './prometheus.js';
export * from './watch.js';
