// Benchmark: render time and file size of the reports for a synthetic 10-scenario, 10-minute run
// (goal: HTML under 1 s and under 2 MB). Run: npx tsx bench/report.bench.ts

import { performance } from 'node:perf_hooks';
import { JOURNAL_VERSION, type JournalEvent, type LoadSample } from '../harness/model/index.js';
import { renderHtml } from '../reports/html/index.js';
import { parseJournal } from '../reports/journal.js';
import { renderJunit } from '../reports/junit.js';
import { buildResults } from '../reports/results.js';

const SCENARIOS = 10;
const SECONDS = 600;
// A realistic compressed HDR histogram is ~100–300 bytes of base64; the reports never decode it, but the
// journal carries it, so parsing pays for it.
const HISTOGRAM =
  'HISTFAAAAEV4nJNpmSzMwMDAxQABzFCaEUzOmNZg/wEi0NzEBBEVZWZSYWZiQpZkYmBiYmZmYmFhYGJhYWNjY2dnYODk4uLi5ubh4+Pj4BcQEBQUEhYREREVFRMTl5CQAAA';

function makeSample(t: number, bad: boolean, i: number): LoadSample {
  const completed = 100;
  const succeeded = bad ? 60 + (i % 7) : 100;
  return {
    t,
    scheduled: completed,
    completed,
    succeeded,
    dropped: 0,
    byStatus: bad ? { '200': succeeded, '503': completed - succeeded } : { '200': completed },
    byFlag: bad ? { 'UF,URX': completed - succeeded } : {},
    byError: {},
    histogram: HISTOGRAM,
    p50: bad ? 40 + (i % 9) : 8 + (i % 3),
    p95: bad ? 180 + (i % 40) : 20 + (i % 5),
    p99: bad ? 380 + (i % 90) : 35 + (i % 11),
  };
}

/** One scenario's identity on its events, and the instants its synthetic drill is laid out on. */
interface ScenarioFrame {
  v: { scenario: string; variant: string; iteration: number };
  start: number;
  inject: number;
  healed: number;
}

const SLOS = [
  { source: 'success_rate >= 99%', metric: 'success_rate' as const, op: '>=' as const, value: 0.99 },
  { source: 'p(95) < 300ms', metric: 'latency' as const, percentile: 95, op: '<' as const, value: 300 },
];

const SIGNALS = ['5xx-ratio', 'HighErrorRate', 'latency-burn'].map((name, k) => ({
  name,
  kind: k === 1 ? 'alert' : 'promql',
  withinMs: 120_000,
  floorMs: 30_000,
}));

function runStartEvents(t: number): JournalEvent[] {
  return [
    {
      t,
      type: 'run-start',
      version: JOURNAL_VERSION,
      runId: 'bench',
      meshdrillVersion: '0.1.0',
      argv: ['run'],
      target: 'kind',
      repeat: 1,
    },
    {
      t,
      type: 'target-ready',
      target: 'kind',
      versions: { kubernetes: '1.31.0', istio: '1.30.3' },
      timings: { cluster: 60_000 },
      prometheusUrl: 'http://127.0.0.1:9090',
      ingressUrl: 'http://127.0.0.1:8080',
    },
  ];
}

function scenarioStartEvent(s: number, { v, start }: ScenarioFrame): JournalEvent {
  return {
    t: start,
    type: 'scenario-start',
    ...v,
    title: `Scenario ${s}`,
    file: `/s/${v.scenario}.yaml`,
    expect: 'recovery',
    faultKind: 'chaos-mesh',
    slos: SLOS,
    signals: SIGNALS,
    recovery: { budgetMs: 300_000, verifyMs: 60_000 },
    timeScale: 1,
  };
}

function phaseEvents({ v, start, inject }: ScenarioFrame): JournalEvent[] {
  const phases: [string, number, number][] = [
    ['steady-state', start, inject],
    ['inject', inject, inject + 2000],
    ['detect', inject + 2000, inject + 90_000],
    ['remediate', inject + 90_000, inject + 150_000],
    ['recover', inject + 150_000, start + SECONDS * 1000],
  ];
  return phases.flatMap(([phase, from, to]): JournalEvent[] => [
    { t: from, type: 'phase-start', ...v, phase: phase as 'detect', deadlineMs: 600_000 },
    { t: to, type: 'phase-end', ...v, phase: phase as 'detect', outcome: 'passed', durationMs: to - from },
  ]);
}

/** The fault, then each signal firing with its passed assertion. */
function detectionEvents({ v, inject }: ScenarioFrame): JournalEvent[] {
  const events: JournalEvent[] = [
    {
      t: inject,
      type: 'fault-injected',
      ...v,
      kind: 'chaos-mesh',
      description: 'pod kill',
      objects: ['PodChaos/x'],
    },
  ];
  SIGNALS.forEach((sig, k) => {
    const afterMs = 20_000 * (k + 1);
    events.push(
      {
        t: inject + afterMs,
        type: 'condition',
        ...v,
        role: 'signal',
        name: sig.name,
        kind: sig.kind,
        fired: true,
        afterMs,
        budgetMs: sig.withinMs,
        evidence: 'value = 0.4',
      },
      {
        t: inject + afterMs,
        type: 'assertion',
        ...v,
        id: `detect:${sig.name}`,
        name: `${sig.name} fires`,
        passed: true,
        message: 'ok',
        measured: afterMs,
        limit: sig.withinMs,
      },
    );
  });
  return events;
}

function runbookEvents({ v, inject }: ScenarioFrame): JournalEvent[] {
  return [0, 1, 2, 3].map((k): JournalEvent => {
    const at = inject + 90_000 + k * 15_000;
    return {
      t: at + 5000,
      type: 'runbook-step',
      ...v,
      index: k,
      title: `step ${k}`,
      kind: 'command',
      command: 'kubectl get pods -A',
      startedAt: at,
      durationMs: 5000,
      exitCode: 0,
      timedOut: false,
      output: 'NAME READY STATUS\n'.repeat(40),
    };
  });
}

/** One sample a second, bad between the injection and the recovery. */
function loadSampleEvents({ v, start, inject, healed }: ScenarioFrame): JournalEvent[] {
  return Array.from({ length: SECONDS }, (_, i): JournalEvent => {
    const st = start + i * 1000;
    return {
      t: st + 1000,
      type: 'load-sample',
      ...v,
      sample: makeSample(st, st >= inject && st < healed, i),
    };
  });
}

function recoveryEvents({ v, start, inject, healed }: ScenarioFrame): JournalEvent[] {
  const source = SLOS[0]!.source;
  return [
    {
      t: healed + 60_000,
      type: 'slo-window',
      ...v,
      window: 'after-recovery',
      from: healed,
      to: healed + 60_000,
      results: [{ source, measured: 1, passed: true }],
    },
    {
      t: healed + 60_000,
      type: 'recovery',
      ...v,
      recovered: true,
      fromInjectionMs: healed - inject,
      fromRunbookStartMs: healed - inject - 90_000,
      restoredBy: [{ source, step: 1 }],
    },
    { t: start + SECONDS * 1000, type: 'scenario-end', ...v, outcome: 'passed', durationMs: SECONDS * 1000 },
  ];
}

/** One passed drill of SECONDS seconds starting at `start`: injected at 3 min, healed at 7 min. */
function scenarioEvents(s: number, start: number): JournalEvent[] {
  const frame: ScenarioFrame = {
    v: { scenario: `scenario-${s}`, variant: 'main', iteration: 1 },
    start,
    inject: start + 180_000,
    healed: start + 420_000,
  };
  return [
    scenarioStartEvent(s, frame),
    ...phaseEvents(frame),
    ...detectionEvents(frame),
    ...runbookEvents(frame),
    ...loadSampleEvents(frame),
    ...recoveryEvents(frame),
  ];
}

/** SCENARIOS drills one after the other, between the run's start and its cleanup. */
function makeJournal(): JournalEvent[] {
  const begin = Date.UTC(2026, 10, 20, 3, 0, 0);
  const end = begin + SCENARIOS * SECONDS * 1000;
  return [
    ...runStartEvents(begin),
    ...Array.from({ length: SCENARIOS }, (_, s) => scenarioEvents(s, begin + s * SECONDS * 1000)).flat(),
    { t: end, type: 'cleanup', ok: true, removed: [], leftover: [] },
    { t: end, type: 'run-end', outcome: 'passed', exitCode: 0 },
  ];
}

function time<T>(label: string, runs: number, fn: () => T): { value: T; ms: number } {
  fn(); // warm-up: the first call pays for JIT compilation, not for the work measured
  const samples: number[] = [];
  let value = fn();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] ?? Number.NaN;
  console.log(
    `${label.padEnd(34)} median ${median.toFixed(1).padStart(7)} ms   (min ${samples[0]?.toFixed(1)}, max ${samples.at(-1)?.toFixed(1)}, n=${runs})`,
  );
  return { value, ms: median };
}

const events = makeJournal();
const jsonl = `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
console.log(
  `synthetic run: ${SCENARIOS} scenarios × ${SECONDS} s, ${events.length} journal events, journal.jsonl ${(jsonl.length / 1e6).toFixed(2)} MB`,
);
const parsed = time('parse journal.jsonl', 5, () => parseJournal(jsonl));
const results = time('buildResults', 5, () => buildResults(parsed.value.events));
const json = time('results.json (JSON.stringify)', 5, () => JSON.stringify(results.value, null, 2));
const junit = time('renderJunit', 5, () => renderJunit(results.value));
const html = time('renderHtml', 5, () => renderHtml(results.value, parsed.value.events));
const total = parsed.ms + results.ms + json.ms + junit.ms + html.ms;
const mb = (s: string) => (Buffer.byteLength(s) / 1e6).toFixed(2);
console.log(
  `sizes: index.html ${mb(html.value)} MB, results.json ${mb(json.value)} MB, junit.xml ${mb(junit.value)} MB`,
);
console.log(`journal → all three reports: ${total.toFixed(0)} ms`);
const htmlOk = html.ms < 1000 && Buffer.byteLength(html.value) < 2e6;
console.log(`goal (HTML < 1 s, < 2 MB): ${htmlOk ? 'met' : 'NOT met'}`);
