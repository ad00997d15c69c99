// A small SVG chart module for the self-contained report: linear scales, nice ticks, axes, polylines with gaps,
// shaded bands, vertical markers, horizontal rules and a legend. Pure string building, no DOM (docs/reports.md).

import { escapeXml } from '../xml.js';

export interface LinearScale {
  domain: readonly [number, number];
  range: readonly [number, number];
  map(value: number): number;
}

/** Maps domain to range linearly; a zero-width domain maps everything to the middle of the range. */
export function createLinearScale(
  domain: readonly [number, number],
  range: readonly [number, number],
): LinearScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  return {
    domain,
    range,
    map: (value) => (span === 0 ? (r0 + r1) / 2 : r0 + ((value - d0) / span) * (r1 - r0)),
  };
}

/** The 1-2-5 step nearest to span/count (the classic "nice numbers" rule). */
export function computeNiceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const nice = residual >= 7.5 ? 10 : residual >= 3.5 ? 5 : residual >= 1.5 ? 2 : 1;
  return nice * magnitude;
}

/** Round tick values covering [min, max] with about `count` intervals. */
export function computeNiceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const lo = Math.min(min, max);
  const hi = Math.max(min, max);
  const step = computeNiceStep(hi - lo, count);
  const first = Math.ceil(lo / step - 1e-9) * step;
  const ticks: number[] = [];
  // Bounded: at most a few more than `count` iterations by construction of step.
  for (let v = first, i = 0; v <= hi + step * 1e-9 && i < 1000; v += step, i++) {
    ticks.push(Number.parseFloat(v.toPrecision(12)));
  }
  return ticks;
}

/** The domain widened outward to nice step boundaries, so the axis starts and ends on a tick. */
export function computeNiceDomain(min: number, max: number, count = 5): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) return min === 0 ? [0, 1] : [Math.min(0, min), Math.max(0, max) * 1.1 || 1];
  const step = computeNiceStep(Math.abs(max - min), count);
  return [Math.floor(min / step) * step, Math.ceil(max / step) * step];
}

/** Prints a tick value with no more decimals than its step needs. */
export function formatTick(value: number, step: number): string {
  const decimals = step >= 1 || step <= 0 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return value.toFixed(decimals);
}

export interface AxisSpec {
  label?: string;
  /** Fixed domain; otherwise computed from the data and made nice. */
  domain?: [number, number];
  ticks?: number;
  format?: (value: number) => string;
}

export interface ChartSeries {
  name: string;
  color: string;
  /** y null (or NaN) breaks the line: a missing sample is a gap, not a zero. */
  points: { x: number; y: number | null }[];
  dash?: string;
  width?: number;
}

export interface ChartBand {
  from: number;
  to: number;
  label?: string;
  color: string;
}

export interface ChartMarker {
  x: number;
  label: string;
  color: string;
  dash?: boolean;
}

export interface ChartRule {
  y: number;
  label: string;
  color: string;
}

export interface ChartSpec {
  width: number;
  height: number;
  title?: string;
  /** Accessible description (read by screen readers; the title element). */
  description: string;
  x: AxisSpec;
  y: AxisSpec;
  series: ChartSeries[];
  bands?: ChartBand[];
  markers?: ChartMarker[];
  rules?: ChartRule[];
  /** Print marker labels (staggered in rows above the plot); false draws only the lines. */
  markerLabels?: boolean;
  legend?: boolean;
}

const FONT = 'font-family="system-ui, sans-serif"';

function extentOf(values: number[], fallback: [number, number]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : fallback;
}

/** Splits a series into drawable runs of consecutive finite points. */
export function splitSegments(
  points: readonly { x: number; y: number | null }[],
): { x: number; y: number }[][] {
  const segments: { x: number; y: number }[][] = [];
  let current: { x: number; y: number }[] = [];
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y) || !Number.isFinite(p.x)) {
      if (current.length > 0) segments.push(current);
      current = [];
      continue;
    }
    current.push({ x: p.x, y: p.y });
  }
  if (current.length > 0) segments.push(current);
  return segments;
}

/**
 * Puts each marker label in the lowest row where it does not overlap the label before it (greedy interval
 * packing); when every row is taken, the row whose last label ends first. Returns a row index per label.
 */
export function assignLabelRows(
  labels: readonly { x: number; width: number }[],
  rows: number,
  right: number,
): number[] {
  if (rows <= 0) return labels.map(() => 0);
  const ends = new Array<number>(rows).fill(Number.NEGATIVE_INFINITY);
  return labels.map(({ x, width }) => {
    // Labels near the right edge are drawn leftwards (text-anchor end), so they occupy [x - width, x].
    const [from, to] = x + width > right ? [x - width, x] : [x, x + width];
    let row = ends.findIndex((end) => end <= from);
    if (row === -1) row = ends.indexOf(Math.min(...ends));
    ends[row] = to;
    return row;
  });
}

/** Where a chart draws: margins, plot size, domains and the scales into SVG coordinates (clamped to the plot). */
interface ChartFrame {
  margin: { top: number; right: number; bottom: number; left: number };
  plotW: number;
  plotH: number;
  xDomain: readonly [number, number];
  yDomain: readonly [number, number];
  x: LinearScale;
  /** Rows of marker labels above the plot (0: lines only). */
  labelRows: number;
  px(v: number): string;
  py(v: number): string;
}

function layoutChart(spec: ChartSpec): ChartFrame {
  const markers = spec.markers ?? [];
  const labelRows = spec.markerLabels && markers.length > 0 ? Math.min(4, markers.length) : 0;
  const legendHeight = spec.legend === false ? 0 : 18;
  const margin = {
    top: 8 + (spec.title ? 16 : 0) + labelRows * 13,
    right: 14,
    bottom: 30 + legendHeight,
    left: 56,
  };
  const plotW = Math.max(10, spec.width - margin.left - margin.right);
  const plotH = Math.max(10, spec.height - margin.top - margin.bottom);

  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const xDomain = spec.x.domain ?? extentOf(xs, [0, 1]);
  const ys = [
    ...spec.series.flatMap((s) => s.points.map((p) => (p.y === null ? Number.NaN : p.y))),
    ...(spec.rules ?? []).map((r) => r.y),
  ];
  const yExtent = extentOf(ys, [0, 1]);
  const yDomain = spec.y.domain ?? computeNiceDomain(Math.min(0, yExtent[0]), yExtent[1], spec.y.ticks ?? 4);
  const x = createLinearScale(xDomain, [margin.left, margin.left + plotW]);
  const y = createLinearScale(yDomain, [margin.top + plotH, margin.top]);
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return {
    margin,
    plotW,
    plotH,
    xDomain,
    yDomain,
    x,
    labelRows,
    px: (v) => clamp(x.map(v), margin.left, margin.left + plotW).toFixed(1),
    py: (v) => clamp(y.map(v), margin.top, margin.top + plotH).toFixed(1),
  };
}

/** Renders one chart as an inline <svg> string. Every label goes through escapeXml. */
export function renderChart(spec: ChartSpec): string {
  const f = layoutChart(spec);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${spec.width} ${spec.height}" width="100%" role="img" class="chart">`,
  );
  out.push(`<title>${escapeXml(spec.description)}</title>`);
  if (spec.title) {
    out.push(
      `<text x="${f.margin.left}" y="14" ${FONT} font-size="11" font-weight="600" fill="#1f2937">${escapeXml(spec.title)}</text>`,
    );
  }
  drawBands(spec, f, out);
  drawAxes(spec, f, out);
  drawRulesAndSeries(spec, f, out);
  drawMarkers(spec, f, out);
  drawLegend(spec, f, out);
  out.push('</svg>');
  return out.join('');
}

function drawBands(spec: ChartSpec, f: ChartFrame, out: string[]): void {
  const { margin, plotH, px } = f;
  for (const band of spec.bands ?? []) {
    const x0 = Number(px(band.from));
    const x1 = Number(px(band.to));
    if (x1 - x0 <= 0) continue;
    out.push(
      `<rect class="band" x="${x0.toFixed(1)}" y="${margin.top}" width="${(x1 - x0).toFixed(1)}" height="${plotH}" fill="${escapeXml(band.color)}"><title>${escapeXml(band.label ?? '')}</title></rect>`,
    );
    if (band.label && x1 - x0 > 34) {
      out.push(
        `<text x="${(x0 + 3).toFixed(1)}" y="${margin.top + plotH - 4}" ${FONT} font-size="9" fill="#6b7280">${escapeXml(band.label)}</text>`,
      );
    }
  }
}

function drawAxes(spec: ChartSpec, f: ChartFrame, out: string[]): void {
  const { margin, plotW, plotH, px, py, xDomain, yDomain } = f;
  // Axes with nice ticks and light grid lines.
  const xTickCount = spec.x.ticks ?? 8;
  const yTickCount = spec.y.ticks ?? 4;
  const xStep = computeNiceStep(xDomain[1] - xDomain[0], xTickCount);
  const yStep = computeNiceStep(yDomain[1] - yDomain[0], yTickCount);
  const fx = spec.x.format ?? ((v: number) => formatTick(v, xStep));
  const fy = spec.y.format ?? ((v: number) => formatTick(v, yStep));
  for (const t of computeNiceTicks(yDomain[0], yDomain[1], yTickCount)) {
    const yy = py(t);
    out.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${yy}" y2="${yy}" stroke="#e5e7eb"/>`,
    );
    out.push(
      `<text x="${margin.left - 6}" y="${yy}" dy="3.5" text-anchor="end" ${FONT} font-size="11" fill="#4b5563">${escapeXml(fy(t))}</text>`,
    );
  }
  for (const t of computeNiceTicks(xDomain[0], xDomain[1], xTickCount)) {
    const xx = px(t);
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="#9ca3af"/>`,
    );
    out.push(
      `<text x="${xx}" y="${margin.top + plotH + 15}" text-anchor="middle" ${FONT} font-size="11" fill="#4b5563">${escapeXml(fx(t))}</text>`,
    );
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#9ca3af"/>`,
  );
  if (spec.y.label) {
    out.push(
      `<text transform="translate(12 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" ${FONT} font-size="11" fill="#374151">${escapeXml(spec.y.label)}</text>`,
    );
  }
  if (spec.x.label) {
    out.push(
      `<text x="${margin.left + plotW}" y="${margin.top + plotH + 27}" text-anchor="end" ${FONT} font-size="11" fill="#374151">${escapeXml(spec.x.label)}</text>`,
    );
  }
}

function drawRulesAndSeries(spec: ChartSpec, f: ChartFrame, out: string[]): void {
  const { margin, plotW, px, py } = f;
  for (const rule of spec.rules ?? []) {
    const yy = py(rule.y);
    out.push(
      `<line class="rule" x1="${margin.left}" x2="${margin.left + plotW}" y1="${yy}" y2="${yy}" stroke="${escapeXml(rule.color)}" stroke-dasharray="6 3" stroke-width="1.2"/>`,
    );
    out.push(
      `<text paint-order="stroke" stroke="#fff" stroke-width="3" x="${margin.left + plotW - 4}" y="${yy}" dy="-3" text-anchor="end" ${FONT} font-size="10" fill="${escapeXml(rule.color)}">${escapeXml(rule.label)}</text>`,
    );
  }
  for (const s of spec.series) {
    for (const segment of splitSegments(s.points)) {
      const d = segment.map((p) => `${px(p.x)},${py(p.y)}`).join(' ');
      out.push(
        `<polyline class="series" points="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="${s.width ?? 1.6}"${s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : ''} stroke-linejoin="round"><title>${escapeXml(s.name)}</title></polyline>`,
      );
    }
  }
}

function drawMarkers(spec: ChartSpec, f: ChartFrame, out: string[]): void {
  const { margin, plotW, plotH, px, x, xDomain, labelRows } = f;
  const markers = spec.markers ?? [];
  const rows = assignLabelRows(
    markers.map((m) => ({ x: x.map(m.x), width: m.label.length * 5.6 + 8 })),
    labelRows,
    margin.left + plotW,
  );
  markers.forEach((m, i) => {
    if (m.x < xDomain[0] || m.x > xDomain[1]) return;
    const xx = px(m.x);
    const top = labelRows > 0 ? margin.top - (rows[i] ?? 0) * 13 - 4 : margin.top;
    out.push(
      `<line class="marker" x1="${xx}" x2="${xx}" y1="${top}" y2="${margin.top + plotH}" stroke="${escapeXml(m.color)}" stroke-width="1.3"${m.dash ? ' stroke-dasharray="3 2"' : ''}><title>${escapeXml(m.label)}</title></line>`,
    );
    if (labelRows > 0) {
      const anchor = Number(xx) + (m.label.length * 5.6 + 8) > margin.left + plotW ? 'end' : 'start';
      const dx = anchor === 'end' ? -3 : 3;
      out.push(
        `<text class="marker-label" paint-order="stroke" stroke="#fff" stroke-width="3" x="${xx}" dx="${dx}" y="${top}" dy="3" text-anchor="${anchor}" ${FONT} font-size="10" fill="${escapeXml(m.color)}">${escapeXml(m.label)}</text>`,
      );
    }
  });
}

function drawLegend(spec: ChartSpec, f: ChartFrame, out: string[]): void {
  const { margin } = f;
  if (spec.legend !== false && spec.series.length > 0) {
    let lx = margin.left;
    const ly = spec.height - 8;
    for (const s of spec.series) {
      out.push(
        `<line x1="${lx}" x2="${lx + 16}" y1="${ly - 3.5}" y2="${ly - 3.5}" stroke="${escapeXml(s.color)}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : ''}/>`,
      );
      out.push(
        `<text x="${lx + 20}" y="${ly}" ${FONT} font-size="11" fill="#374151">${escapeXml(s.name)}</text>`,
      );
      lx += 28 + s.name.length * 6.2;
    }
  }
}
