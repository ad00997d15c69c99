// Run-level parts of the HTML report: the verdict and what failed, the environment, the fault × signal coverage
// matrix, negative controls, repeat statistics, cleanup and journal problems.

import { formatShard } from '../results.js';
import type { Results, RunInfo, Spread } from '../results-types.js';
import {
  formatAnchor,
  formatMs,
  formatPercent,
  formatTime,
  html,
  renderOutcomeBadge,
  renderPassBadge,
  type SafeHtml,
} from './format.js';

function formatSpread(s: Spread | null): string {
  if (s === null) return '—';
  if (s.n === 1) return formatMs(s.median);
  return `${formatMs(s.min)} / ${formatMs(s.median)} / ${formatMs(s.max)}`;
}

export function renderVerdict(results: Results): SafeHtml {
  const v = results.verdict;
  const c = v.counts;
  const unsure = v.outcome === 'inconclusive';
  const title = v.passed
    ? 'All scenarios passed'
    : unsure
      ? 'Inconclusive: the instrument was degraded where it judged'
      : v.outcome === 'incomplete'
        ? 'Run incomplete'
        : 'Run failed';
  const link = (f: { key: string | null; what: string }) =>
    html`<li>${f.key === null ? f.what : html`<a href="#${formatAnchor(f.key)}">${f.what}</a>`}</li>`;
  const failures = v.failures.map(link);
  const undecided = v.inconclusive.map(link);
  const passedAssertions = c.assertions - c.assertionsFailed - c.assertionsInconclusive;
  const counts = `${c.passed}/${c.scenarios} scenario runs passed${c.inconclusive > 0 ? `, ${c.inconclusive} inconclusive` : ''} · ${passedAssertions}/${c.assertions} assertions passed${c.assertionsInconclusive > 0 ? `, ${c.assertionsInconclusive} inconclusive` : ''}`;
  return html`<section class="verdict ${v.passed ? 'passed' : unsure ? 'inconclusive' : 'failed'}" id="verdict">
<div class="verdict-head"><div class="verdict-word">${v.passed ? '✓' : unsure ? '?' : '✗'} ${title}</div>
<div class="verdict-meta">${renderOutcomeBadge(v.outcome)} exit code ${results.run.exitCode ?? '—'} · ${counts}</div></div>
${failures.length > 0 ? html`<h3>What failed</h3><ol class="failures">${failures}</ol>` : ''}
${undecided.length > 0 ? html`<h3>What could not be decided</h3><p class="sub">The load generator or the machine was degraded enough in these windows to explain the breach; neither a pass nor a failure is claimed. Run fewer drills at once or on a quieter machine.</p><ol class="inconclusive">${undecided}</ol>` : ''}
</section>`;
}

export function renderEnvironment(results: Results): SafeHtml {
  const run = results.run;
  const versions = Object.entries(run.versions).map(
    ([k, val]) => html`<tr><td>${k}</td><td>${val}</td></tr>`,
  );
  const timings = Object.entries(run.timings).map(
    ([k, ms]) => html`<tr><td>${k}</td><td class="num">${formatMs(ms)}</td></tr>`,
  );
  return html`<section class="card" id="environment"><h2>Environment</h2>
<div class="grid3">
<dl class="facts"><div><dt>run</dt><dd><code>${run.runId}</code></dd></div><div><dt>target</dt><dd>${run.target}</dd></div><div><dt>meshdrill</dt><dd>${run.meshdrillVersion}</dd></div><div><dt>started</dt><dd>${formatTime(run.startedAt)}</dd></div><div><dt>took</dt><dd>${formatMs(run.durationMs)}</dd></div><div><dt>command</dt><dd><code>meshdrill ${run.argv.join(' ')}</code></dd></div><div><dt>repeat</dt><dd>${run.repeat}</dd></div><div><dt>drills at once</dt><dd>${run.parallel}</dd></div>${renderShardFacts(run)}</dl>
<div><h3>Versions</h3><table>${versions.length > 0 ? versions : html`<tr><td class="muted">not reported</td></tr>`}</table></div>
<div><h3>Provisioning</h3><table>${timings.length > 0 ? timings : html`<tr><td class="muted">not reported</td></tr>`}</table></div>
</div></section>`;
}

/** A shard's place in its suite; for a merged run, each shard's run id and how it ended. */
function renderShardFacts(run: RunInfo): SafeHtml {
  const shard = run.shard;
  if (!shard) return html``;
  if ('index' in shard) return html`<div><dt>shard</dt><dd>${shard.index} of ${shard.count}</dd></div>`;
  const rows = shard.merged.map(
    (s) =>
      html`<li>${s.index}/${shard.count}: <code>${s.runId}</code> — ${s.outcome ?? 'incomplete'}${s.exitCode === null ? '' : ` (exit ${s.exitCode})`}</li>`,
  );
  return html`<div><dt>${formatShard(shard) ?? ''}</dt><dd><ul>${rows}</ul></dd></div>`;
}

export function renderCoverage(results: Results): SafeHtml {
  const m = results.coverage;
  if (m.rows.length === 0) return html``;
  const head = m.signals.map((s) => html`<th>${s}</th>`);
  const rows = m.rows.map((row) => {
    const cells = row.cells.map((c) => {
      const fp =
        c.falsePositives > 0 ? html`<div class="badge bad">false positive ×${c.falsePositives}</div>` : '';
      if (!c.declared) return html`<td class="cov none">·${fp}</td>`;
      if (c.checked === 0) return html`<td class="cov none">not reached${fp}</td>`;
      const late = c.ttd !== null && c.budgetMs !== null && c.ttd.max > c.budgetMs;
      const cls = c.fired === 0 ? 'missed' : c.fired < c.checked || late ? 'partial' : 'caught';
      const label = c.fired === 0 ? 'missed' : formatSpread(c.ttd);
      const count = c.checked > 1 ? html`<div class="sub">${c.fired}/${c.checked} fired</div>` : '';
      return html`<td class="cov ${cls}" title="budget ${formatMs(c.budgetMs)}">${label}${count}${fp}</td>`;
    });
    const first = results.scenarios.find((r) => r.scenario === row.scenario);
    return html`<tr><th class="row"><a href="#${formatAnchor(first?.key ?? row.scenario)}">${row.title}</a><div class="sub">${row.scenario} · ${row.faultKind}</div></th>${cells}</tr>`;
  });
  return html`<section class="card" id="coverage"><h2>Coverage: fault × signal</h2>
<p class="sub">Time to detect from injection (min / median / max across runs). · = signal not declared for this fault.</p>
<div class="scroll"><table class="coverage"><thead><tr><th>fault (scenario)</th>${head}</tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

export function renderNegativeControls(results: Results): SafeHtml {
  const controls = results.scenarios.filter((r) => r.negativeControl);
  if (controls.length === 0) return html``;
  const rows = controls.map(
    (r) =>
      html`<tr><td><a href="#${formatAnchor(r.key)}">${r.key}</a></td><td>${r.runbook.length === 0 ? 'empty runbook' : `${r.runbook.length} step(s)`}</td><td>${r.recovery === null ? '—' : r.recovery.recovered ? 'recovered' : 'did not recover'}</td><td>${renderOutcomeBadge(r.outcome)}</td></tr>`,
  );
  return html`<section class="card" id="negative-controls"><h2>Negative controls</h2>
<p class="sub">Variants run with a wrong or empty runbook: they pass only when the SLOs do <em>not</em> recover, which proves the recovery assertion can fail.</p>
<table><thead><tr><th>run</th><th>runbook</th><th>recovery</th><th>outcome</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

export function renderRepeats(results: Results): SafeHtml {
  const groups = results.repeats.filter((g) => g.iterations > 1);
  if (groups.length === 0) return html``;
  const blocks = groups.map((g) => {
    const rows = g.assertions.map(
      (a) =>
        html`<tr class="${a.flaky ? 'flaky' : ''}"><td>${a.name}<div class="sub"><code>${a.id}</code></div></td><td class="num">${a.passed}/${a.runs}</td><td class="num">${formatPercent(a.passRate, 0)}</td><td>${a.flaky ? html`<span class="badge warn">flaky</span>` : renderPassBadge(a.passRate === 1, 'stable', 'always fails')}</td><td class="num">${a.measured === null ? '—' : /^(detect|recover|efficacy)/.test(a.id) ? formatSpread(a.measured) : `${a.measured.min} / ${a.measured.median} / ${a.measured.max}`}</td></tr>`,
    );
    const ttd = g.ttd.map(
      (t) =>
        html`<li><strong>${t.signal}</strong>: fired ${t.fired}/${g.iterations}, TTD ${formatSpread(t.spread)}</li>`,
    );
    return html`<h3>${g.scenario}/${g.variant} — ${g.passed}/${g.iterations} iterations passed (${formatPercent(g.passRate, 0)})</h3>
<table class="repeats"><thead><tr><th>assertion</th><th>passed</th><th>rate</th><th></th><th>measured min / median / max</th></tr></thead><tbody>${rows}</tbody></table>
<ul>${ttd}<li><strong>TTR from injection</strong>: ${formatSpread(g.ttrFromInjection)}</li><li><strong>TTR from runbook start</strong>: ${formatSpread(g.ttrFromRunbookStart)}</li></ul>`;
  });
  return html`<section class="card" id="repeats"><h2>Repeats</h2><p class="sub">Pass rate per assertion across iterations; a flaky assertion passed in some and failed in others.</p>${blocks}</section>`;
}

export function renderCleanup(results: Results): SafeHtml {
  const c = results.cleanup;
  if (!c)
    return html`<section class="card" id="cleanup"><h2>Cleanup</h2><p class="bad-text">No cleanup was recorded: objects labelled with run id <code>${results.run.runId}</code> may remain. Run <code>meshdrill cleanup</code>.</p></section>`;
  return html`<section class="card" id="cleanup"><h2>Cleanup ${renderPassBadge(c.ok, 'clean', 'FAILED')}</h2>
<p>${c.removed.length} object(s) removed${c.leftover.length > 0 ? html`; <strong class="bad-text">${c.leftover.length} left behind — a fault may still be active</strong>` : ''}${c.error ? html` — ${c.error}` : ''}</p>
${c.leftover.length > 0 ? html`<pre class="out">${c.leftover.join('\n')}</pre>` : ''}</section>`;
}

export function renderJournalProblems(results: Results): SafeHtml {
  const problems = results.journalProblems;
  const logs = results.logs;
  if (problems.length === 0 && logs.length === 0) return html``;
  return html`<section class="card warn-box" id="journal"><h2>Journal notes</h2><ul>${problems.map((p) => html`<li>journal.jsonl line ${p.line}: ${p.message}</li>`)}${logs.map((l) => html`<li class="${l.level}">${l.level}: ${l.message}</li>`)}</ul></section>`;
}
