// `${scaled:5m}` in queries, commands and fault manifests: a drill duration after the target's time scale,
// in Prometheus syntax. Other `${…}` are left alone (runbook variables are expanded only in runbooks).

import { parseDuration } from '../util/duration.js';

const SCALED = /\$\{scaled:([^}]*)\}/g;

/** Prometheus' rate() over a 1 s scrape interval needs at least 3 samples' worth of window. */
export const MIN_SCALED_SECONDS = 3;

/** The scaled duration in whole seconds (at least 3s), e.g. `12s`. */
export function formatScaled(ms: number, timeScale: number): string {
  return `${Math.max(MIN_SCALED_SECONDS, Math.round((ms * timeScale) / 1000))}s`;
}

/** Replaces every valid `${scaled:D}`; invalid ones stay (the `scaled-duration-valid` rule reports them). */
export function expandScaled(text: string, timeScale: number): string {
  return text.replace(SCALED, (whole, inner: string) => {
    const ms = parseDuration(inner);
    return ms === undefined ? whole : formatScaled(ms, timeScale);
  });
}

/** The `${scaled:…}` tokens whose duration does not parse. */
export function findInvalidScaled(text: string): string[] {
  return [...text.matchAll(SCALED)].filter((m) => parseDuration(m[1] ?? '') === undefined).map((m) => m[0]);
}

/** Applies `expandScaled` to every string inside a JSON-like value (fault manifests, patches). */
export function expandScaledDeep<T>(value: T, timeScale: number): T {
  return mapStrings(value, (s) => expandScaled(s, timeScale)) as T;
}

/** Every string inside a JSON-like value, for rules that inspect them. */
export function collectStrings(value: unknown, out: string[] = []): string[] {
  mapStrings(value, (s) => {
    out.push(s);
    return s;
  });
  return out;
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}
