// fortio's echo-server query parameters as its fhttp package interprets them: `status=503:10,429:5`,
// `delay=100ms:50` (capped by -max-echo-delay), `size=1024:20` (capped by -maxpayloadsizekb), `close`, `header`.

export type Random = () => number;

/** Go's time.ParseDuration for the units fortio users write (ns, us, µs, ms, s, m, h, combined). */
export function parseGoDuration(text: string): number | undefined {
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    consumed += m[0].length;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

function percentList<T>(
  text: string,
  parse: (v: string) => T | undefined,
): { value: T; cumulative: number }[] | undefined {
  const out: { value: T; cumulative: number }[] = [];
  let sum = 0;
  for (const entry of text.split(',')) {
    const parts = entry.split(':');
    if (parts.length !== 2) return undefined;
    const value = parse(parts[0] as string);
    const p = Number((parts[1] as string).replace(/%$/, ''));
    if (value === undefined || !Number.isFinite(p) || p < 0 || p > 100) return undefined;
    sum += p;
    if (Math.round(sum * 1e6) / 1e6 > 100) return undefined;
    out.push({ value, cumulative: sum });
  }
  return out;
}

function pick<T>(list: { value: T; cumulative: number }[], fallback: T, random: Random): T {
  const roll = 100 * random();
  for (const e of list) if (roll <= e.cumulative) return e.value;
  return fallback;
}

/** status=503 → 503; status=503:10,404:5 → 10 % 503, 5 % 404, else 200; malformed → 400. */
export function generateStatus(text: string, random: Random = Math.random): number {
  if (!text.includes(':') && !text.includes(',')) {
    const n = Number(text);
    return Number.isInteger(n) ? n : 400;
  }
  const list = percentList(text, (v) => (Number.isInteger(Number(v)) ? Number(v) : undefined));
  return list ? pick(list, 200, random) : 400;
}

/** Milliseconds to sleep, capped at maxMs; -1 when absent or malformed. */
export function generateDelay(text: string, maxMs: number, random: Random = Math.random): number {
  if (text === '') return -1;
  if (!text.includes(':') && !text.includes(',')) {
    const d = parseGoDuration(text);
    return d === undefined ? -1 : Math.min(d, maxMs);
  }
  const list = percentList(text, parseGoDuration);
  return list ? Math.min(pick(list, 0, random), maxMs) : -1;
}

/** Payload bytes, capped at maxBytes; -1 when absent or malformed (then the request body is echoed). */
export function generateSize(text: string, maxBytes: number, random: Random = Math.random): number {
  if (text === '') return -1;
  const intParse = (v: string): number | undefined => (/^\d+$/.test(v) ? Number(v) : undefined);
  if (!text.includes(':') && !text.includes(',')) {
    const n = intParse(text);
    return n === undefined ? -1 : Math.min(n, maxBytes);
  }
  const list = percentList(text, intParse);
  return list ? Math.min(pick(list, -1, random), maxBytes) : -1;
}

/** close=true (or any non-number) always closes; close=5 closes 5 % of responses. */
export function generateClose(text: string, random: Random = Math.random): boolean {
  if (text === '' || text === 'false') return false;
  const p = Number(text.replace(/%$/, ''));
  if (!Number.isFinite(p)) return true;
  return 100 * random() < p;
}

/** `header=Name:Value` entries (repeatable); malformed ones are skipped, as fortio logs and skips them. */
export function parseHeaderParams(values: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const v of values) {
    const colon = v.indexOf(':');
    if (v === '' || colon < 0) continue;
    out.push([v.slice(0, colon), v.slice(colon + 1)]);
  }
  return out;
}
