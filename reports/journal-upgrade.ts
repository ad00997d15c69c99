// Older journals read as the current version, so every report folds one shape. Version 1 named no execution on
// its scoped events (scenario and variant only) and put the suite's provisioning under scenario and variant '*';
// its readers gave each scoped event to the latest execution of its scenario variant started before it. That rule
// is applied here, once, so a version-1 journal gives the results and report it always gave.

import type { JournalEvent, PhaseName } from '../harness/model/index.js';

/** A version-1 event as read: no iteration on scoped events, the suite's phases under `'*'`. */
type Unversioned = Record<string, unknown> & { type: string; t: number };

const V1_SUITE = '*';

/** True for an event the current version would write as it is (nothing to upgrade). */
function isCurrent(e: Unversioned): boolean {
  if (e.scope === 'suite') return true;
  return typeof e.scenario !== 'string' || typeof e.variant !== 'string' || typeof e.iteration === 'number';
}

/**
 * Events of any supported version as the current version writes them. Idempotent: current events pass through.
 * A version-1 scoped event before any execution of its scenario variant started belonged to none (its readers
 * dropped it) and is dropped here too.
 */
export function upgradeEvents(events: readonly unknown[]): JournalEvent[] {
  // The iteration of the latest execution started for each scenario variant: version 1's attribution rule.
  const latest = new Map<string, number>();
  const out: JournalEvent[] = [];
  for (const raw of events) {
    const e = raw as Unversioned;
    const key = `${String(e.scenario)}\u0000${String(e.variant)}`;
    if (e.type === 'scenario-start' && typeof e.iteration === 'number') latest.set(key, e.iteration);
    if (isCurrent(e)) {
      out.push(e as unknown as JournalEvent);
      continue;
    }
    const upgraded = upgradeEvent(e, latest.get(key));
    if (upgraded) out.push(upgraded);
  }
  return out;
}

function upgradeEvent(e: Unversioned, iteration: number | undefined): JournalEvent | undefined {
  const { scenario, variant, ...rest } = e;
  if (scenario === V1_SUITE && variant === V1_SUITE && (e.type === 'phase-start' || e.type === 'phase-end')) {
    return { ...rest, phase: e.phase as PhaseName, scope: 'suite' } as JournalEvent;
  }
  if (e.type === 'log') {
    // Left as written without an execution to name: the results file it by scenario (and variant) as before.
    return (iteration === undefined ? e : { ...e, iteration }) as unknown as JournalEvent;
  }
  if (iteration === undefined) return undefined;
  return { ...e, iteration } as unknown as JournalEvent;
}
