// The suite's fault × signal coverage matrix: which signal caught which fault, how fast, and which signals
// fired during steady state without any fault (false positives).

import type { CoverageMatrix, CoverageRow, ScenarioResult } from './results-types.js';
import { computeSpread } from './stats.js';

export function buildCoverage(scenarios: readonly ScenarioResult[]): CoverageMatrix {
  const signals: string[] = [];
  const seen = new Set<string>();
  const note = (name: string): void => {
    if (!seen.has(name)) {
      seen.add(name);
      signals.push(name);
    }
  };
  for (const r of scenarios) {
    for (const d of r.detection) note(d.signal);
    for (const f of r.falsePositives) note(f.signal);
  }
  const byScenario = new Map<string, ScenarioResult[]>();
  for (const r of scenarios) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  const rows: CoverageRow[] = [...byScenario.values()].map((runs) => {
    const first = runs[0] as ScenarioResult;
    return {
      scenario: first.scenario,
      title: first.title,
      faultKind: first.faultKind,
      cells: signals.map((signal) => {
        // Only executions that actually injected count: a run that died in deploy says nothing about detection.
        const rowsFor = runs
          .filter((r) => r.fault !== null)
          .flatMap((r) => r.detection.filter((d) => d.signal === signal && !d.silent));
        const declared = runs.some((r) => r.detection.some((d) => d.signal === signal));
        const fired = rowsFor.filter((d) => d.fired);
        return {
          signal,
          declared,
          checked: rowsFor.length,
          fired: fired.length,
          ttd: computeSpread(fired.map((d) => d.ttdMs)),
          budgetMs: rowsFor[0]?.budgetMs ?? null,
          falsePositives: runs.flatMap((r) => r.falsePositives).filter((f) => f.signal === signal && f.fired)
            .length,
        };
      }),
    };
  });
  return { signals, rows };
}
