// Detection signals and checks: evaluate a condition, wait for it, read Prometheus.
export * from './conditions.js';
export * from './notifications.js';
export * from './prometheus.js';
export * from './watch.js';
