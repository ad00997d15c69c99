// Small pure statistics for repeats and comparisons: the spread (min / median / max) of a set of values.

import type { Spread } from './results-types.js';

/** The spread of the finite values; null when there are none. */
export function computeSpread(values: readonly (number | null | undefined)[]): Spread | null {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (finite.length === 0) return null;
  const sorted = [...finite].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] as number,
    median: computeMedian(sorted),
    max: sorted.at(-1) as number,
  };
}

/** Median of already sorted values (mean of the two middle ones for an even count). */
export function computeMedian(sorted: readonly number[]): number {
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid] as number;
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
