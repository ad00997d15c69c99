// The model: types shared by every layer (scenario, load, journal, errors). No I/O here.
export * from './errors.js';
export * from './journal.js';
export * from './kube-object.js';
export * from './instrument.js';
export * from './load.js';
export * from './scenario.js';
export * from './plan.js';
export * from './outcome.js';
