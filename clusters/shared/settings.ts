// Reads `--target-opt key=value` settings strictly: every problem (unknown key, bad value) is collected and
// reported at once as an invalid-input error, with the valid keys listed.

import { MeshdrillError } from '../../harness/model/index.js';
import { parseDuration } from '../../harness/util/duration.js';

export interface SettingDoc {
  key: string;
  description: string;
  default?: string;
}

export class SettingsReader {
  private readonly problems: string[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly target: string,
    private readonly settings: Record<string, string>,
    private readonly docs: readonly SettingDoc[],
  ) {}

  private raw(key: string): string | undefined {
    this.seen.add(key);
    const value = this.settings[key];
    return value === undefined ? undefined : value.trim();
  }

  private fail(key: string, expected: string, got: string): void {
    this.problems.push(`--target-opt ${key}: expected ${expected}, got "${got}"`);
  }

  string(key: string, fallback: string): string;
  string(key: string): string | undefined;
  string(key: string, fallback?: string): string | undefined {
    const value = this.raw(key);
    return value === undefined || value === '' ? fallback : value;
  }

  /** A name that must be DNS-label-safe (cluster names, revisions). */
  name(key: string, fallback: string): string;
  name(key: string): string | undefined;
  name(key: string, fallback?: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return fallback;
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) {
      this.fail(key, 'a DNS label (lower-case letters, digits and "-", at most 63 characters)', value);
      return fallback;
    }
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined || value === '') return fallback;
    if (/^(true|yes|1|on)$/i.test(value)) return true;
    if (/^(false|no|0|off)$/i.test(value)) return false;
    this.fail(key, 'true or false', value);
    return fallback;
  }

  int(key: string, fallback: number, min: number, max: number): number {
    const value = this.raw(key);
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(key, `a whole number from ${min} to ${max}`, value);
      return fallback;
    }
    return n;
  }

  /** A duration such as "5s" or "2m", in milliseconds. */
  duration(key: string, fallback: number): number;
  duration(key: string): number | undefined;
  duration(key: string, fallback?: number): number | undefined {
    const value = this.raw(key);
    if (value === undefined || value === '') return fallback;
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      this.fail(key, 'a duration like "5s" or "2m"', value);
      return fallback;
    }
    return ms;
  }

  oneOf<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const value = this.raw(key);
    if (value === undefined || value === '') return fallback;
    if (!(choices as readonly string[]).includes(value)) {
      this.fail(key, `one of ${choices.join(', ')}`, value);
      return fallback;
    }
    return value as T;
  }

  /** A comma-separated list (empty entries dropped). */
  list(key: string, fallback: readonly string[] = []): string[] {
    const value = this.raw(key);
    if (value === undefined) return [...fallback];
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /** Records a problem found by a rule across settings. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws every problem at once, including keys nobody asked for (typos). */
  finish(): void {
    const known = new Set(this.docs.map((d) => d.key));
    for (const key of Object.keys(this.settings)) {
      if (!known.has(key)) {
        this.problems.push(`--target-opt ${key}: not a setting of the ${this.target} target`);
      }
    }
    for (const key of this.seen) {
      if (!known.has(key)) throw new Error(`internal: setting "${key}" is read but not documented`);
    }
    if (this.problems.length > 0) {
      throw new MeshdrillError(
        'invalid-input',
        `${this.problems.length} problem${this.problems.length === 1 ? '' : 's'} with the ${this.target} target's settings:\n${this.problems.map((p) => `  - ${p}`).join('\n')}`,
        { hint: `valid settings: ${[...known].sort().join(', ')} (see docs/targets.md)` },
      );
    }
  }
}
