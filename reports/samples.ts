// Load samples per scenario execution, keyed like ScenarioResult.key: the charts need the raw seconds. Each
// load-sample names its execution, so the series is read as journaled — no attribution to redo here.

import { formatExecutionId, type JournalEvent, type LoadSample } from '../harness/model/index.js';

export function collectSamples(events: readonly JournalEvent[]): Map<string, LoadSample[]> {
  const byKey = new Map<string, LoadSample[]>();
  for (const e of events) {
    if (e.type !== 'scenario-start' && e.type !== 'load-sample') continue;
    const key = formatExecutionId(e);
    const samples = byKey.get(key) ?? [];
    if (e.type === 'load-sample') samples.push(e.sample);
    byKey.set(key, samples);
  }
  return byKey;
}
