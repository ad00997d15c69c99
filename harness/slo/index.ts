// The SLO maths, pure: thresholds, latency histograms, SLIs over load samples, detection floors and
// time-to-recover. No I/O anywhere in this folder.
export * from './detection.js';
export * from './histogram.js';
export * from './recovery.js';
export * from './sli.js';
export * from './threshold.js';
export * from './instrument.js';
