// Renders a Comparison for the terminal (plain text, optional ANSI colour) and as a self-contained HTML page.

import { formatDuration } from '../harness/util/duration.js';
import type { ChangeVerdict, Comparison, MetricChange, RunSide, Tolerance } from './compare.js';
import { html, REPORT_CSS, raw, type SafeHtml } from './html/index.js';

function formatValue(unit: MetricChange['unit'], v: number | null): string {
  if (v === null) return '—';
  return unit === 'ms'
    ? formatDuration(v)
    : `${(v * 100)
        .toFixed(2)
        .replace(/(\.\d*?)0+$/, '$1')
        .replace(/\.$/, '')}%`;
}

function formatDelta(m: MetricChange): string {
  if (m.delta === null) return '';
  const sign = m.delta > 0 ? '+' : m.delta < 0 ? '-' : '±';
  const abs = Math.abs(m.delta);
  const text = m.unit === 'ms' ? formatDuration(abs) : `${(abs * 100).toFixed(2)}pp`;
  const allowed =
    m.allowed === null
      ? ''
      : `, allowed ${formatValue(m.unit === 'ms' ? 'ms' : 'ratio', m.allowed).replace('%', 'pp')}`;
  return `(${sign}${text}${allowed})`;
}

function describeTolerance(t: Tolerance): string {
  return `+${Math.round(t.relative * 100)}% or +${formatDuration(t.absoluteMs)}`;
}

function describeSide(s: RunSide): string {
  const versions = Object.entries(s.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${s.runId} (${s.target}${versions ? `; ${versions}` : ''}) ${s.outcome}`;
}

const MARK: Record<ChangeVerdict, string> = {
  regression: 'REGRESSION',
  worse: 'worse (within tolerance)',
  same: 'same',
  better: 'better',
  new: 'new',
  missing: 'missing in B',
  informational: 'info',
  inconclusive: 'inconclusive (not compared)',
};

export interface TextOptions {
  /** ANSI colours (the CLI passes true on a TTY). */
  color?: boolean;
}

/** The comparison as terminal text; the first line states the verdict. */
export function renderComparisonText(c: Comparison, options: TextOptions = {}): string {
  const paint = (code: string, s: string) => (options.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const red = (s: string) => paint('31;1', s);
  const green = (s: string) => paint('32', s);
  const dim = (s: string) => paint('2', s);
  const mark = (v: ChangeVerdict) =>
    v === 'regression' || v === 'missing' ? red(MARK[v]) : v === 'better' ? green(MARK[v]) : dim(MARK[v]);
  const lines: string[] = [];
  lines.push(
    c.regression
      ? red(`REGRESSION: ${c.regressions.length} regression(s) from A to B`)
      : green('NO REGRESSION: B is within tolerance of A'),
  );
  lines.push(`A: ${describeSide(c.a)}`);
  lines.push(`B: ${describeSide(c.b)}`);
  lines.push(
    dim(
      `tolerances: TTD ${describeTolerance(c.tolerances.ttd)}, TTR ${describeTolerance(c.tolerances.ttr)}, latency ${describeTolerance(c.tolerances.latency)}, ratios -${(c.tolerances.ratio * 100).toFixed(2)}pp; a verdict passed → failed is always a regression`,
    ),
  );
  for (const s of c.scenarios) {
    lines.push('');
    lines.push(
      `${s.regression ? red('✗') : green('✓')} ${s.scenario}/${s.variant}: ${s.outcomeA ?? 'not run'} → ${s.outcomeB ?? 'not run'}`,
    );
    // A scenario on one side only: its per-metric lines would all say the same thing.
    if (s.outcomeA === null || s.outcomeB === null) {
      lines.push(`    ${s.outcomeA === null ? 'only in B (new)' : red('only in A: not run in B')}`);
      continue;
    }
    for (const a of s.assertions) {
      const side = (x: typeof a.a) =>
        x === null ? '—' : x.runs === 1 ? (x.passed === 1 ? 'pass' : 'fail') : `${x.passed}/${x.runs}`;
      lines.push(
        `    ${side(a.a)} → ${side(a.b)}  ${a.name}  ${mark(a.verdict)}${a.verdict === 'regression' ? ` (${a.reason})` : ''}`,
      );
    }
    for (const m of [...s.detection, ...s.recovery, ...s.slis]) {
      if (m.a === null && m.b === null) continue;
      lines.push(
        `    ${m.what}: ${formatValue(m.unit, m.a)} → ${formatValue(m.unit, m.b)} ${formatDelta(m)}  ${mark(m.verdict)}`,
      );
    }
  }
  if (c.regressions.length > 0) {
    lines.push('');
    lines.push('Regressions:');
    for (const r of c.regressions) lines.push(`  - ${r}`);
  }
  return `${lines.join('\n')}\n`;
}

const VERDICT_CLASS: Record<ChangeVerdict, string> = {
  regression: 'bad',
  missing: 'bad',
  worse: 'warn',
  same: 'muted',
  better: 'ok',
  new: 'muted',
  informational: 'muted',
  inconclusive: 'unsure',
};

function renderMetricRows(metrics: readonly MetricChange[]): SafeHtml[] {
  return metrics
    .filter((m) => m.a !== null || m.b !== null)
    .map(
      (m) =>
        html`<tr><td>${m.what}</td><td class="num">${formatValue(m.unit, m.a)}</td><td class="num">${formatValue(m.unit, m.b)}</td><td class="num">${formatDelta(m)}</td><td><span class="badge ${VERDICT_CLASS[m.verdict]}">${MARK[m.verdict]}</span></td></tr>`,
    );
}

/** The comparison as one self-contained HTML page. */
export function renderComparisonHtml(c: Comparison): string {
  const sections = c.scenarios.map((s) => {
    const assertionRows = s.assertions.map((a) => {
      const side = (x: typeof a.a) =>
        x === null ? '—' : x.runs === 1 ? (x.passed === 1 ? 'pass' : 'fail') : `${x.passed}/${x.runs}`;
      return html`<tr><td>${a.name}<div class="sub"><code>${a.id}</code></div></td><td class="num">${side(a.a)}</td><td class="num">${side(a.b)}</td><td>${a.reason}</td><td><span class="badge ${VERDICT_CLASS[a.verdict]}">${MARK[a.verdict]}</span></td></tr>`;
    });
    return html`<section class="card scenario ${s.regression ? 'not-passed' : 'passed'}"><h2>${s.regression ? '✗' : '✓'} ${s.scenario}/${s.variant}</h2>
<div class="sub">${s.outcomeA ?? 'not run'} → ${s.outcomeB ?? 'not run'}</div>
${s.regressions.length > 0 ? html`<ul class="failures">${s.regressions.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
<h3>Assertions</h3><table><thead><tr><th>assertion</th><th class="num">A</th><th class="num">B</th><th>change</th><th></th></tr></thead><tbody>${assertionRows}</tbody></table>
<h3>Detection, recovery and SLIs</h3><table><thead><tr><th>metric</th><th class="num">A</th><th class="num">B</th><th class="num">delta</th><th></th></tr></thead><tbody>${renderMetricRows([...s.detection, ...s.recovery, ...s.slis])}</tbody></table>
</section>`;
  });
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>meshdrill compare — ${c.regression ? 'REGRESSION' : 'no regression'}</title><style>${raw(REPORT_CSS)}</style></head>
<body><main><header class="top"><h1>meshdrill compare</h1></header>
<section class="verdict ${c.regression ? 'failed' : 'passed'}"><div class="verdict-word">${c.regression ? `✗ Regression (${c.regressions.length})` : '✓ No regression'}</div>
<p>A: ${describeSide(c.a)}<br>B: ${describeSide(c.b)}</p>
<p class="sub">Tolerances: TTD ${describeTolerance(c.tolerances.ttd)}, TTR ${describeTolerance(c.tolerances.ttr)}, latency ${describeTolerance(c.tolerances.latency)}, ratios −${(c.tolerances.ratio * 100).toFixed(2)}pp. A verdict passed → failed is always a regression.</p>
${c.regressions.length > 0 ? html`<ol class="failures">${c.regressions.map((r) => html`<li>${r}</li>`)}</ol>` : ''}</section>
${sections}
</main></body></html>
`;
  return page.value;
}
