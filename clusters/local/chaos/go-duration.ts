// Go's time.ParseDuration, which Chaos Mesh uses for `duration`, delay `latency`/`jitter` and `timeOffset`:
// an optional sign, then number+unit pairs ("300ms", "-1.5h", "2h45m"); units ns, us/µs, ms, s, m, h.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const PAIR = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds, or an error text shaped like Go's (`time: invalid duration "x"`). */
export function parseGoDuration(text: string): { ok: true; ms: number } | { ok: false; error: string } {
  const invalid = { ok: false as const, error: `time: invalid duration "${text}"` };
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return { ok: true, ms: 0 };
  if (rest === '') return invalid;
  let total = 0;
  PAIR.lastIndex = 0;
  while (PAIR.lastIndex < rest.length) {
    const at = PAIR.lastIndex;
    const m = PAIR.exec(rest);
    if (!m || m.index !== at) {
      const unit = /^\d*\.?\d*([a-zA-Zµμ]*)/.exec(rest.slice(at))?.[1];
      if (unit === '' || unit === undefined)
        return { ok: false, error: `time: missing unit in duration "${text}"` };
      return { ok: false, error: `time: unknown unit "${unit}" in duration "${text}"` };
    }
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return { ok: true, ms: sign * total };
}
