// renderHtml: the run as ONE self-contained HTML file (inline CSS and SVG, a few lines of JS, no network).

import type { JournalEvent } from '../../harness/model/index.js';
import { formatShard } from '../results.js';
import type { Results } from '../results-types.js';
import { collectSamples } from '../samples.js';
import { formatAnchor, formatTime, html, raw } from './format.js';
import { renderScenario } from './scenario-section.js';
import { REPORT_CSS } from './styles.js';
import {
  renderCleanup,
  renderCoverage,
  renderEnvironment,
  renderJournalProblems,
  renderNegativeControls,
  renderRepeats,
  renderVerdict,
} from './suite-section.js';

// Printing should show runbook output that is folded away on screen.
const PRINT_SCRIPT =
  "window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});";

/** The whole report. `events` supplies the per-second load samples the charts draw. */
// What the comparison page shares with the report: the escaping template tag and the stylesheet.
export { html, raw, type SafeHtml } from './format.js';
export { REPORT_CSS } from './styles.js';

export function renderHtml(results: Results, events: readonly JournalEvent[]): string {
  const samples = collectSamples(events);
  const run = results.run;
  const toc = results.scenarios.map(
    (r) =>
      html`<a href="#${formatAnchor(r.key)}">${r.outcome === 'passed' ? '✓' : '✗'} ${r.scenario}/${r.variant}${results.run.repeat > 1 || r.iteration > 1 ? `#${r.iteration}` : ''}</a>`,
  );
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>meshdrill ${results.verdict.passed ? 'PASSED' : 'FAILED'} — ${run.runId}</title>
<style>${raw(REPORT_CSS)}</style></head>
<body><main>
<header class="top"><div><h1>meshdrill run <code>${run.runId}</code></h1><div class="sub">target ${run.target}${run.shard ? ` · ${formatShard(run.shard)}` : ''}${run.versions.istio ? ` · Istio ${run.versions.istio}` : ''}${run.versions.kubernetes ? ` · Kubernetes ${run.versions.kubernetes}` : ''} · ${formatTime(run.startedAt)}</div></div></header>
${renderVerdict(results)}
<nav class="toc"><a href="#coverage">coverage</a><a href="#environment">environment</a>${toc}</nav>
${renderJournalProblems(results)}
${renderCoverage(results)}
${renderNegativeControls(results)}
${renderRepeats(results)}
${results.scenarios.map((r) => renderScenario(r, samples.get(r.key) ?? []))}
${renderEnvironment(results)}
${renderCleanup(results)}
<footer>Rendered by meshdrill ${run.meshdrillVersion} from journal.jsonl (journal version ${results.journalVersion ?? 'unknown'}, results schema ${results.schemaVersion}).</footer>
</main><script>${raw(PRINT_SCRIPT)}</script></body></html>
`;
  return body.value;
}
