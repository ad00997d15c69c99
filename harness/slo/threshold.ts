// The SLO threshold grammar (docs/scenario-format.md#slos), after k6's thresholds: small strings, parsed and
// type-checked before anything runs.
//
//   threshold  := metric SP op SP value
//   metric     := "success_rate" | "error_rate" | "p(" number ")"
//   op         := "<" | "<=" | ">" | ">="
//   value      := number "%"            (rates; also a bare ratio in [0, 1])
//              |  number ("ms" | "s")   (latency)

import type { SloThreshold } from '../model/index.js';

export type ThresholdParse = { ok: true; threshold: SloThreshold } | { ok: false; expected: string };

const SHAPE =
  /^\s*(success_rate|error_rate|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(%|ms|s)?\s*$/;

export const THRESHOLD_EXAMPLES = [
  'success_rate >= 99.5%',
  'error_rate < 1%',
  'p(95) < 300ms',
  'p(99) <= 1s',
];

export function parseThreshold(source: string): ThresholdParse {
  const m = SHAPE.exec(source);
  if (!m) {
    return {
      ok: false,
      expected: `a threshold like ${THRESHOLD_EXAMPLES.map((e) => `"${e}"`).join(', ')}`,
    };
  }
  const [, metricText = '', percentileText, op = '<', numberText = '0', unit] = m;
  const number = Number(numberText);
  const cmp = op as SloThreshold['op'];
  if (metricText.startsWith('p(')) {
    const percentile = Number(percentileText);
    if (!(percentile > 0 && percentile < 100)) {
      return { ok: false, expected: 'a percentile strictly between 0 and 100, e.g. p(95)' };
    }
    if (unit !== 'ms' && unit !== 's') {
      return { ok: false, expected: `a latency with a unit, e.g. "${metricText} ${op} 300ms"` };
    }
    const value = unit === 's' ? number * 1000 : number;
    return { ok: true, threshold: { source: source.trim(), metric: 'latency', percentile, op: cmp, value } };
  }
  const metric = metricText as 'success_rate' | 'error_rate';
  if (unit === 'ms' || unit === 's') {
    return { ok: false, expected: `a rate as a percentage, e.g. "${metric} ${op} 99.5%"` };
  }
  const ratio = unit === '%' ? number / 100 : number;
  if (ratio < 0 || ratio > 1) {
    return { ok: false, expected: 'a rate between 0% and 100% (or a ratio between 0 and 1)' };
  }
  return { ok: true, threshold: { source: source.trim(), metric, op: cmp, value: ratio } };
}

/** Whether a measured value satisfies the threshold (rates as ratios, latency in ms). */
export function thresholdHolds(threshold: SloThreshold, measured: number): boolean {
  if (Number.isNaN(measured)) return false;
  switch (threshold.op) {
    case '<':
      return measured < threshold.value;
    case '<=':
      return measured <= threshold.value;
    case '>':
      return measured > threshold.value;
    case '>=':
      return measured >= threshold.value;
  }
}

/** A measured value in the threshold's own units, for messages: "99.12%" or "412ms". */
export function formatMeasured(threshold: SloThreshold, measured: number): string {
  if (threshold.metric === 'latency') return `${Math.round(measured)}ms`;
  return `${(measured * 100).toFixed(2).replace(/\.?0+$/, '')}%`;
}
