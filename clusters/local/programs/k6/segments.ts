// k6's execution segments, ported from k6 lib/execution_segment.go: how `--execution-segment` and
// `--execution-segment-sequence` split an arrival-rate executor between instances. Pure.
//
// A sequence of segments covering 0..1 is "striped": of every LCD consecutive iterations (LCD = least common
// denominator of the segments' lengths), each segment owns its numerator's worth, spread as evenly as k6's
// algorithm spreads them (0:1/2 owns 0,2,4…; 1/2:1 owns 1,3,5…). An instance runs only its own iterations, at
// the times the whole test would have run them, and scales integers (maxVUs, preAllocatedVUs) by the same stripes.

/** A non-negative rational number. */
export interface Fraction {
  n: number;
  d: number;
}

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

function fraction(n: number, d: number): Fraction {
  if (d === 0) throw new Error('division by zero in an execution segment');
  const g = gcd(n, d) || 1;
  return { n: n / g, d: d / g };
}

const sub = (a: Fraction, b: Fraction): Fraction => fraction(a.n * b.d - b.n * a.d, a.d * b.d);
const same = (a: Fraction, b: Fraction): boolean => a.n * b.d === b.n * a.d;
const less = (a: Fraction, b: Fraction): boolean => a.n * b.d < b.n * a.d;

/** "1/3", "0.5", "50%", "0", "1", as k6 accepts them. */
export function parseFraction(text: string): Fraction {
  const t = text.trim();
  const ratio = /^(\d+)\/(\d+)$/.exec(t);
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(t);
  const decimal = percent?.[1] ?? (/^\d+(?:\.\d+)?$/.test(t) ? t : undefined);
  let result: Fraction;
  if (ratio) result = fraction(Number(ratio[1]), Number(ratio[2]));
  else if (decimal !== undefined) {
    const [whole = '0', frac = ''] = decimal.split('.');
    const value = fraction(Number(whole + frac), 10 ** frac.length);
    result = percent ? fraction(value.n, value.d * 100) : value;
  } else throw new Error(`"${text}" is not a valid fraction, percentage or decimal`);
  if (less({ n: 1, d: 1 }, result)) throw new Error(`"${text}" is greater than 1`);
  return result;
}

export interface Segment {
  from: Fraction;
  to: Fraction;
}

export const formatFraction = (f: Fraction): string => (f.d === 1 ? String(f.n) : `${f.n}/${f.d}`);
export const formatSegment = (s: Segment): string => `${formatFraction(s.from)}:${formatFraction(s.to)}`;

/** `--execution-segment`: "from:to", or a single value meaning "0:value". */
export function parseSegment(text: string): Segment {
  const parts = text.split(':');
  if (parts.length > 2) throw new Error(`"${text}" is not a valid execution segment`);
  const [a = '', b] = parts;
  const segment =
    b === undefined
      ? { from: fraction(0, 1), to: parseFraction(a) }
      : { from: parseFraction(a), to: parseFraction(b) };
  if (!less(segment.from, segment.to)) {
    throw new Error(`execution segment "${text}": its start must be before its end`);
  }
  return segment;
}

/** `--execution-segment-sequence`: "0,1/3,2/3,1" → the segments between consecutive points. */
export function parseSequence(text: string): Segment[] {
  const points = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map(parseFraction);
  const out: Segment[] = [];
  for (let i = 1; i < points.length; i++) {
    const from = points[i - 1] as Fraction;
    const to = points[i] as Fraction;
    if (!less(from, to)) throw new Error(`execution segment sequence "${text}" must be strictly increasing`);
    out.push({ from, to });
  }
  return out;
}

/** k6's GetFilledExecutionSegmentSequence: the sequence (or the segment alone) padded to cover 0..1. */
export function fillSequence(sequence: readonly Segment[], segment: Segment | undefined): Segment[] {
  const result =
    sequence.length > 0 ? [...sequence] : [segment ?? { from: fraction(0, 1), to: fraction(1, 1) }];
  const first = result[0] as Segment;
  if (first.from.n !== 0) result.unshift({ from: fraction(0, 1), to: first.from });
  const last = result[result.length - 1] as Segment;
  if (!same(last.to, { n: 1, d: 1 })) result.push({ from: last.to, to: fraction(1, 1) });
  return result;
}

/** The striping of a full sequence (k6's ExecutionSegmentSequenceWrapper). */
export interface StripedSequence {
  segments: Segment[];
  lcd: number;
  /** Per segment: [start, offset, offset, …], the last offset wrapping to the next LCD cycle. */
  offsets: number[][];
}

export function stripeSequence(segments: readonly Segment[]): StripedSequence {
  const lengths = segments.map((s) => sub(s.to, s.from));
  const lcd = lengths.reduce((acc, l) => (acc * l.d) / gcd(acc, l.d), 1);
  const offsets: number[][] = segments.map(() => []);
  if (segments.length === 1) return { segments: [...segments], lcd: 1, offsets: [[0, 1]] };
  const sorted = lengths
    .map((l, originalIndex) => ({ normNumerator: l.n * (lcd / l.d), originalIndex }))
    // Array.prototype.sort is stable, like sort.SliceStable.
    .sort((a, b) => b.normNumerator - a.normNumerator);
  const prev = segments.map(() => 0);
  const chosenCounts = segments.map(() => 0);
  const saveIndex = (iteration: number, index: number, numerator: number): void => {
    const list = offsets[index] as number[];
    list.push(iteration - (prev[index] as number));
    prev[index] = iteration;
    if (list.length === numerator) list.push((list[0] as number) + lcd - iteration);
  };
  for (let i = 0; i < lcd; i++) {
    for (let sortedIndex = 0; sortedIndex < chosenCounts.length; sortedIndex++) {
      const entry = sorted[sortedIndex] as { normNumerator: number; originalIndex: number };
      const num = (chosenCounts[sortedIndex] as number) * lcd;
      const denom = entry.normNumerator;
      if (denom === 0) continue;
      const q = Math.floor(num / denom);
      if (i > q || (i === q && num % denom === 0)) {
        chosenCounts[sortedIndex] = (chosenCounts[sortedIndex] as number) + 1;
        saveIndex(i, entry.originalIndex, denom);
        break;
      }
    }
  }
  return { segments: [...segments], lcd, offsets };
}

/** One instance's place in a striped sequence (k6's ExecutionTuple). */
export interface ExecutionTuple {
  sequence: StripedSequence;
  index: number;
}

export function executionTuple(segment: Segment | undefined, sequence: readonly Segment[]): ExecutionTuple {
  const filled = fillSequence(sequence, segment);
  const striped = stripeSequence(filled);
  const wanted = segment ?? { from: fraction(0, 1), to: fraction(1, 1) };
  const index = filled.findIndex((s) => same(s.from, wanted.from) && same(s.to, wanted.to));
  if (index < 0) {
    throw new Error(
      `couldn't find segment ${formatSegment(wanted)} in sequence ${filled.map(formatSegment).join(',')}`,
    );
  }
  return { sequence: striped, index };
}

/** The first owned index and the offsets between owned indexes (k6's GetStripedOffsets). */
export function stripedOffsets(tuple: ExecutionTuple): { start: number; offsets: number[] } {
  const own = tuple.sequence.offsets[tuple.index] as number[];
  return { start: own[0] as number, offsets: own.slice(1) };
}

/** This instance's share of an integer (maxVUs, preAllocatedVUs): shares of all instances sum to the value. */
export function scaleInt(tuple: ExecutionTuple, value: number): number {
  if (tuple.sequence.segments.length === 1) return value;
  const { start, offsets } = stripedOffsets(tuple);
  const lcd = tuple.sequence.lcd;
  let result = Math.floor(value / lcd) * offsets.length;
  for (let gi = 0, i = start; i < value % lcd; i += offsets[gi] as number, gi++) result++;
  return result;
}

/**
 * k6's GetNewExecutionTupleFromValue: the arrival-rate executors re-stripe by maxVUs, so each instance's share of
 * the iterations follows its share of the VUs (maxVUs 5 over two halves: 3/5 and 2/5 of the rate).
 */
export function restripeByValue(tuple: ExecutionTuple, value: number): ExecutionTuple {
  if (value < 1) throw new Error(`cannot generate new sequence for value ${value}`);
  if (value % tuple.sequence.lcd === 0) return tuple;
  const segments: Segment[] = [];
  let newIndex = -1;
  let prev = 0;
  tuple.sequence.segments.forEach((_, i) => {
    const share = scaleInt({ sequence: tuple.sequence, index: i }, value);
    if (share === 0) return;
    if (i === tuple.index) newIndex = segments.length;
    segments.push({ from: fraction(prev, value), to: fraction(prev + share, value) });
    prev += share;
  });
  const own = tuple.sequence.segments[tuple.index] as Segment;
  if (newIndex < 0) {
    throw new Error(`segment ${tuple.index} (${formatSegment(own)}) isn't present in the new sequence`);
  }
  return { sequence: stripeSequence(segments), index: newIndex };
}

/** Global (unsegmented) indexes this instance owns, in order: the k6 loop `gi += offsets[li % len]`. */
export function* ownedIndexes(tuple: ExecutionTuple): Generator<number, never, undefined> {
  const { start, offsets } = stripedOffsets(tuple);
  let gi = start;
  for (let li = 0; ; li++) {
    yield gi;
    gi += offsets[li % offsets.length] as number;
  }
}
