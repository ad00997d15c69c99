// Load samples per scenario execution, keyed like ScenarioResult.key: the charts need the raw seconds.

import type { JournalEvent, LoadSample } from '../harness/model/index.js';
import { formatScenarioKey } from './results.js';

/** Scoped events carry no iteration; like buildResults, each belongs to the latest scenario-start of its pair. */
export function collectSamples(events: readonly JournalEvent[]): Map<string, LoadSample[]> {
  const byKey = new Map<string, LoadSample[]>();
  const open = new Map<string, string>();
  for (const e of events) {
    if (e.type === 'scenario-start') {
      const key = formatScenarioKey(e.scenario, e.variant, e.iteration);
      open.set(`${e.scenario}\u0000${e.variant}`, key);
      byKey.set(key, []);
    } else if (e.type === 'load-sample') {
      const key = open.get(`${e.scenario}\u0000${e.variant}`);
      if (key !== undefined) byKey.get(key)?.push(e.sample);
    }
  }
  return byKey;
}
