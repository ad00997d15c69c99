// Repeat statistics (`meshdrill run --repeat N`): per scenario × variant, each assertion's pass rate and the
// spread of time-to-detect and time-to-recover, so a flaky assertion shows as flaky instead of as one verdict.

import type { AssertionStats, RepeatGroup, ScenarioResult } from './results-types.js';
import { computeSpread } from './stats.js';

/** Groups executions by scenario × variant, in first-seen order. */
export function groupExecutions(scenarios: readonly ScenarioResult[]): ScenarioResult[][] {
  const groups = new Map<string, ScenarioResult[]>();
  for (const r of scenarios) {
    const key = `${r.scenario}\u0000${r.variant}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  return [...groups.values()];
}

function buildAssertionStats(runs: readonly ScenarioResult[]): AssertionStats[] {
  const byId = new Map<
    string,
    {
      name: string;
      informational: boolean;
      /** null: inconclusive in that run (neither passed nor failed). */
      results: (boolean | null)[];
      measured: (number | null)[];
    }
  >();
  for (const r of runs) {
    for (const a of r.assertions) {
      const entry = byId.get(a.id) ?? {
        name: a.name,
        informational: a.informational,
        results: [],
        measured: [],
      };
      entry.results.push(a.inconclusive ? null : a.passed);
      entry.measured.push(a.measured);
      byId.set(a.id, entry);
    }
  }
  return [...byId.entries()].map(([id, e]) => {
    const passed = e.results.filter((x) => x === true).length;
    const decided = e.results.filter((x) => x !== null).length;
    return {
      id,
      name: e.name,
      informational: e.informational,
      runs: e.results.length,
      passed,
      inconclusive: e.results.length - decided,
      // Over the runs that decided: an inconclusive run neither lowers nor raises it.
      passRate: decided === 0 ? 0 : passed / decided,
      flaky: passed > 0 && passed < decided,
      measured: computeSpread(e.measured),
    };
  });
}

export function buildRepeats(scenarios: readonly ScenarioResult[]): RepeatGroup[] {
  return groupExecutions(scenarios).map((runs) => {
    const first = runs[0] as ScenarioResult;
    const signals = [...new Set(runs.flatMap((r) => r.detection.map((d) => d.signal)))];
    const passed = runs.filter((r) => r.outcome === 'passed').length;
    return {
      scenario: first.scenario,
      variant: first.variant,
      iterations: runs.length,
      passed,
      passRate: passed / runs.length,
      assertions: buildAssertionStats(runs),
      ttd: signals.map((signal) => {
        const ttds = runs.map((r) => r.detection.find((d) => d.signal === signal)?.ttdMs ?? null);
        return { signal, fired: ttds.filter((t) => t !== null).length, spread: computeSpread(ttds) };
      }),
      ttrFromInjection: computeSpread(runs.map((r) => r.recovery?.ttrFromInjectionMs)),
      ttrFromRunbookStart: computeSpread(runs.map((r) => r.recovery?.ttrFromRunbookStartMs)),
    };
  });
}
