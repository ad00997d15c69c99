// Checks a resolved load profile before a driver runs it: the scenario validator reports these to users with
// line numbers; this guards drivers called directly (the engine, benches, tests) against nonsense.

import { invalidInput } from '../model/index.js';
import type { LoadProfile } from '../model/index.js';

/** Throws an invalid-input error listing every problem when the profile cannot run (drivers call it first). */
export function assertRunnableProfile(profile: LoadProfile): void {
  const problems = checkLoadProfile(profile);
  if (problems.length > 0) {
    throw invalidInput(
      `load profile cannot run:\n  ${problems.join('\n  ')}`,
      'fix the scenario\'s "load" section',
    );
  }
}

/** Every problem with the profile, as "field: expected …, got …"; empty when it can run. */
export function checkLoadProfile(profile: LoadProfile): string[] {
  const problems: string[] = [];
  const positive = (field: string, value: number, allowZero = false): void => {
    const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
    if (!ok)
      problems.push(`${field}: expected a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  };
  if (profile.executor === 'constant-arrival-rate') positive('rate', profile.rate);
  else {
    positive('rate', profile.rate, true);
    if (profile.stages.length === 0)
      problems.push('stages: expected at least one stage for ramping-arrival-rate, got none');
    profile.stages.forEach((stage, i) => {
      positive(`stages[${i}].durationMs`, stage.durationMs, true);
      positive(`stages[${i}].target`, stage.target, true);
    });
  }
  positive('maxDurationMs', profile.maxDurationMs);
  positive('maxInFlight', profile.maxInFlight);
  positive('requestTimeoutMs', profile.requestTimeoutMs);
  positive('maxRequests', profile.maxRequests);
  if (!profile.requests.some((r) => r.weight > 0)) {
    problems.push(
      `requests: expected at least one request with a positive weight, got ${profile.requests.length}`,
    );
  }
  profile.requests.forEach((r, i) => {
    if (!r.path.startsWith('/'))
      problems.push(`requests[${i}].path: expected a path starting with "/", got "${r.path}"`);
  });
  return problems;
}
