// The pod's clock as TimeChaos skews it (clusters/local/chaos-hooks.ts): the real clock plus the offset in the
// file the kubelet names in MESHDRILL_TIME_OFFSET_FILE, re-read when it changes. Certificate checks call this.

import { readFileSync, statSync } from 'node:fs';
import type { TimeOffsetFile } from '../../chaos-hooks.js';

let cache: { file: string; mtimeMs: number; checkedAt: number; offsetMs: number } | undefined;

/** Parses a time-offset file's text: the offset in ms, 0 when malformed. */
export function parseTimeOffset(text: string): number {
  try {
    const parsed = JSON.parse(text) as Partial<TimeOffsetFile> | null;
    return typeof parsed?.offsetMs === 'number' && Number.isFinite(parsed.offsetMs) ? parsed.offsetMs : 0;
  } catch {
    return 0;
  }
}

/** The current offset of this pod's clock (0 without TimeChaos). Checked at most every 100 ms. */
export function readTimeOffsetMs(
  file: string | undefined = process.env.MESHDRILL_TIME_OFFSET_FILE,
  now = Date.now(),
): number {
  if (!file) return 0;
  if (cache && cache.file === file && now - cache.checkedAt < 100) return cache.offsetMs;
  try {
    const { mtimeMs } = statSync(file);
    if (cache && cache.file === file && cache.mtimeMs === mtimeMs) {
      cache.checkedAt = now;
      return cache.offsetMs;
    }
    const offsetMs = parseTimeOffset(readFileSync(file, 'utf8'));
    cache = { file, mtimeMs, checkedAt: now, offsetMs };
    return offsetMs;
  } catch {
    cache = { file, mtimeMs: -1, checkedAt: now, offsetMs: 0 };
    return 0;
  }
}

/** Date.now() as the pod sees it under TimeChaos. */
export function podNow(): number {
  return Date.now() + readTimeOffsetMs();
}
