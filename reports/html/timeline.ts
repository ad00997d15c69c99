// The per-scenario timeline: request rate, success ratio and latency percentiles over time, with SLO lines,
// shaded phases and markers for injection, each detection, each runbook step and recovery.

import type { LoadSample } from '../../harness/model/index.js';
import { formatDuration } from '../../harness/util/duration.js';
import type { ScenarioResult } from '../results-types.js';
import {
  type AxisSpec,
  type ChartBand,
  type ChartMarker,
  type ChartRule,
  computeNiceDomain,
  renderChart,
} from './svg-chart.js';

const PHASE_COLORS: Record<string, string> = {
  deploy: '#f3f4f6',
  load: '#f3f4f6',
  'steady-state': '#ecfdf5',
  inject: '#fef2f2',
  efficacy: '#fef2f2',
  detect: '#fff7ed',
  remediate: '#eff6ff',
  recover: '#f0fdf4',
  cleanup: '#f3f4f6',
};

const COLORS = {
  rate: '#2563eb',
  succeeded: '#16a34a',
  dropped: '#9333ea',
  ratio: '#16a34a',
  p50: '#0891b2',
  p95: '#d97706',
  p99: '#dc2626',
  slo: '#b91c1c',
  inject: '#dc2626',
  detect: '#ea580c',
  step: '#2563eb',
  recovered: '#16a34a',
  removed: '#6b7280',
};

const WIDTH = 1000;

/** Seconds relative to the injection (or the scenario start when nothing was injected). */
function createClock(r: ScenarioResult): { zero: number; toX(t: number): number; label: string } {
  const zero = r.fault?.injectedAt ?? r.startedAt;
  return {
    zero,
    toX: (t) => (t - zero) / 1000,
    label: r.fault ? 'seconds from injection' : 'seconds from scenario start',
  };
}

function buildBands(r: ScenarioResult, toX: (t: number) => number): ChartBand[] {
  return r.phases
    .filter((p) => p.phase !== 'load')
    .map((p) => ({
      from: toX(p.startedAt),
      to: toX(p.endedAt ?? r.endedAt ?? p.startedAt),
      label: p.phase,
      color: PHASE_COLORS[p.phase] ?? '#f9fafb',
    }));
}

export function buildMarkers(r: ScenarioResult, toX: (t: number) => number): ChartMarker[] {
  const markers: ChartMarker[] = [];
  if (r.fault)
    markers.push({
      x: toX(r.fault.injectedAt),
      label: `fault injected (${r.fault.kind})`,
      color: COLORS.inject,
    });
  for (const d of r.detection) {
    if (d.fired && d.ttdMs !== null && r.fault) {
      markers.push({
        x: toX(r.fault.injectedAt + d.ttdMs),
        label: `${d.signal} fired +${formatDuration(d.ttdMs)}`,
        color: COLORS.detect,
        dash: true,
      });
    }
  }
  for (const s of r.runbook) {
    markers.push({
      x: toX(s.startedAt),
      label: `step ${s.index + 1}${s.ok ? '' : ' ✗'}: ${s.title}`,
      color: COLORS.step,
      dash: true,
    });
  }
  if (r.recovery?.recovered && r.recovery.ttrFromInjectionMs !== null && r.fault) {
    markers.push({
      x: toX(r.fault.injectedAt + r.recovery.ttrFromInjectionMs),
      label: `recovered +${formatDuration(r.recovery.ttrFromInjectionMs)}`,
      color: COLORS.recovered,
    });
  }
  if (r.fault?.removedAt != null) {
    markers.push({ x: toX(r.fault.removedAt), label: 'fault removed', color: COLORS.removed, dash: true });
  }
  return markers.sort((a, b) => a.x - b.x);
}

function domainOf(
  r: ScenarioResult,
  samples: readonly LoadSample[],
  toX: (t: number) => number,
): [number, number] {
  const times = [r.startedAt, r.endedAt ?? r.startedAt, ...samples.map((s) => s.t + 1000)];
  const firstLoad = samples[0]?.t;
  // Start at the load: the deploy phase before it is empty on the chart.
  const lo = toX(Math.max(r.startedAt, (firstLoad ?? r.startedAt) - 1000));
  const hi = toX(Math.max(...times));
  return [lo, hi > lo ? hi : lo + 1];
}

/** What the three panels share: the x axis, phase bands, markers, and where each sample is plotted. */
interface Panels {
  r: ScenarioResult;
  samples: readonly LoadSample[];
  x: AxisSpec;
  bands: ChartBand[];
  markers: ChartMarker[];
  at(s: LoadSample): number;
}

/** Renders the three stacked panels; an empty string when there is nothing to draw. */
export function renderTimeline(r: ScenarioResult, samples: readonly LoadSample[]): string {
  if (samples.length === 0 && r.phases.length === 0) return '';
  const clock = createClock(r);
  const panels: Panels = {
    r,
    samples,
    x: { domain: domainOf(r, samples, clock.toX), label: clock.label, ticks: 10 },
    bands: buildBands(r, clock.toX),
    markers: buildMarkers(r, clock.toX),
    // Plot each bucket at its middle: the value describes the whole second.
    at: (s) => clock.toX(s.t + 500),
  };
  return `<div class="timeline">${renderRatePanel(panels)}${renderRatioPanel(panels)}${renderLatencyPanel(panels)}</div>`;
}

function renderRatePanel({ r, samples, x, bands, markers, at }: Panels): string {
  return renderChart({
    width: WIDTH,
    height: 150 + Math.min(4, markers.length) * 13,
    title: 'Request rate',
    description: `Request rate per second for ${r.key}`,
    x,
    y: { label: 'req/s', ticks: 3 },
    series: [
      { name: 'completed/s', color: COLORS.rate, points: samples.map((s) => ({ x: at(s), y: s.completed })) },
      {
        name: 'succeeded/s',
        color: COLORS.succeeded,
        points: samples.map((s) => ({ x: at(s), y: s.succeeded })),
      },
      {
        name: 'dropped/s',
        color: COLORS.dropped,
        dash: '4 2',
        points: samples.map((s) => ({ x: at(s), y: s.dropped })),
      },
    ],
    bands,
    markers,
    markerLabels: true,
  });
}

function renderRatioPanel({ r, samples, x, bands, markers, at }: Panels): string {
  const ratio = (s: LoadSample) => (s.completed > 0 ? (s.succeeded / s.completed) * 100 : null);
  const rateRules: ChartRule[] = r.slos.flatMap((slo) => {
    if (slo.metric === 'success_rate')
      return [{ y: slo.value * 100, label: `SLO ${slo.source}`, color: COLORS.slo }];
    if (slo.metric === 'error_rate')
      return [{ y: (1 - slo.value) * 100, label: `SLO ${slo.source}`, color: COLORS.slo }];
    return [];
  });
  const ratios = samples.map(ratio).filter((v): v is number => v !== null);
  const lowest = Math.min(100, ...ratios, ...rateRules.map((rule) => rule.y));
  return renderChart({
    width: WIDTH,
    height: 140,
    title: 'Success ratio',
    description: `Success ratio per second for ${r.key}, with the SLO line`,
    x,
    y: { label: '% success', domain: [computeNiceDomain(lowest - 1, 100, 4)[0], 100], ticks: 4 },
    series: [
      { name: 'success %', color: COLORS.ratio, points: samples.map((s) => ({ x: at(s), y: ratio(s) })) },
    ],
    bands,
    markers,
    rules: rateRules,
  });
}

function renderLatencyPanel({ r, samples, x, bands, markers, at }: Panels): string {
  const latencyRules: ChartRule[] = r.slos
    .filter((slo) => slo.metric === 'latency')
    .map((slo) => ({ y: slo.value, label: `SLO ${slo.source}`, color: COLORS.slo }));
  const lat = (field: 'p50' | 'p95' | 'p99') =>
    samples.map((s) => ({ x: at(s), y: s.completed > 0 && Number.isFinite(s[field]) ? s[field] : null }));
  return renderChart({
    width: WIDTH,
    height: 160,
    title: 'Latency (per second)',
    description: `Latency percentiles per second for ${r.key}, with the SLO lines`,
    x,
    y: { label: 'ms', ticks: 4 },
    series: [
      { name: 'p50', color: COLORS.p50, points: lat('p50') },
      { name: 'p95', color: COLORS.p95, points: lat('p95') },
      { name: 'p99', color: COLORS.p99, points: lat('p99') },
    ],
    bands,
    markers,
    rules: latencyRules,
  });
}
