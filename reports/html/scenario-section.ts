// One scenario execution in the HTML report: verdict, timeline, detection, SLOs, errors per phase, runbook, efficacy,
// phases.

import type { LoadSample } from '../../harness/model/index.js';
import { describeAssertionFailure } from '../junit.js';
import type { ScenarioResult } from '../results-types.js';
import {
  formatAnchor,
  formatMs,
  formatSli,
  formatTime,
  html,
  raw,
  renderOutcomeBadge,
  renderPassBadge,
  type SafeHtml,
} from './format.js';
import { renderErrorsByPhase } from './errors-section.js';
import { renderTimeline } from './timeline.js';

/** Output shown per runbook step; the journal already keeps head and tail of long outputs. */
const OUTPUT_CHARS = 4000;

/** A signal the variant requires silent: its staying quiet is the pass (e.g. a page the routing inhibits). */
function silentVerdict(fired: boolean): SafeHtml {
  return fired
    ? html`<span class="badge bad">fired</span><div class="sub">must stay silent here</div>`
    : html`<span class="badge ok">stayed silent</span><div class="sub">as this variant requires</div>`;
}

function renderDetection(r: ScenarioResult): SafeHtml {
  if (r.detection.length === 0) return html`<p class="muted">No detection signals declared.</p>`;
  const rows = r.detection.map((d) => {
    const bad = d.informational ? 'muted' : 'bad';
    const verdict = d.silent
      ? silentVerdict(d.fired)
      : !d.fired
        ? html`<span class="badge ${bad}">missed</span>`
        : d.withinBudget
          ? html`<span class="badge ok">in budget</span>`
          : html`<span class="badge ${bad}">late</span>`;
    const status = d.informational ? html`${verdict}<div class="sub">on trial, not judged</div>` : verdict;
    const headroom =
      d.floorMs !== null && d.ttdMs !== null ? `${formatMs(d.ttdMs - d.floorMs)} above floor` : '';
    return html`<tr><td><strong>${d.signal}</strong></td><td>${d.kind}</td><td class="num">${formatMs(d.budgetMs)}</td><td class="num">${formatMs(d.ttdMs)}</td><td class="num">${formatMs(d.floorMs)}<div class="sub">${headroom}</div></td><td>${status}</td><td class="evidence"><code>${d.evidence}</code></td></tr>`;
  });
  return html`<table class="detection"><thead><tr><th>signal</th><th>kind</th><th>budget</th><th>time to detect</th><th>floor</th><th></th><th>evidence</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderSloTable(r: ScenarioResult): SafeHtml {
  if (r.slos.length === 0) return html`<p class="muted">No SLOs declared.</p>`;
  const windows = ['steady-state', 'during-fault', 'after-recovery'] as const;
  const rows = r.slos.map((slo) => {
    const cells = windows.map((w) => {
      const result = r.sloWindows
        .findLast((x) => x.window === w)
        ?.results.find((x) => x.source === slo.source);
      if (!result) return html`<td class="num muted">—</td>`;
      if (result.inconclusive !== undefined) {
        return html`<td class="num unsure-text" title="${result.inconclusive}">${formatSli(slo, result.measured)} ?</td>`;
      }
      // During the fault, a broken SLO is the expected effect, not a failure: colour it as information.
      const cls = result.passed ? 'ok-text' : w === 'during-fault' ? 'warn-text' : 'bad-text';
      return html`<td class="num ${cls}">${formatSli(slo, result.measured)} ${result.passed ? '✓' : '✗'}</td>`;
    });
    const restored = r.recovery?.restoredBy.find((b) => b.source === slo.source);
    const by =
      restored === undefined
        ? '—'
        : restored.step === null
          ? 'before any step'
          : `step ${restored.step + 1}${r.runbook.find((s) => s.index === restored.step) ? `: ${r.runbook.find((s) => s.index === restored.step)?.title}` : ''}`;
    return html`<tr><td><code>${slo.source}</code></td>${cells}<td>${by}</td></tr>`;
  });
  return html`<table class="slo"><thead><tr><th>SLO</th><th>steady state</th><th>during fault</th><th>after recovery</th><th>restored by</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderRecovery(r: ScenarioResult): SafeHtml {
  const rec = r.recovery;
  if (!rec)
    return html`<p class="muted">No recovery measured (the scenario did not reach the recover phase).</p>`;
  const expectation = r.negativeControl
    ? rec.recovered
      ? html`<span class="badge bad">recovered — a negative control must not</span>`
      : html`<span class="badge ok">did not recover, as expected</span>`
    : rec.recovered
      ? html`<span class="badge ok">recovered</span>`
      : html`<span class="badge bad">did not recover</span>`;
  return html`<dl class="facts"><div><dt>outcome</dt><dd>${expectation}</dd></div><div><dt>TTR from injection</dt><dd>${formatMs(rec.ttrFromInjectionMs)}</dd></div><div><dt>TTR from runbook start</dt><dd>${formatMs(rec.ttrFromRunbookStartMs)}</dd></div></dl>`;
}

function renderRunbook(r: ScenarioResult): SafeHtml {
  if (r.runbook.length === 0) {
    return html`<p class="muted">No runbook steps ran${r.negativeControl ? ' (an empty runbook: this negative control does nothing after detection)' : ''}.</p>`;
  }
  const rows = r.runbook.map((s) => {
    const exit = s.timedOut ? 'timed out' : s.exitCode === null ? '—' : String(s.exitCode);
    const slis = s.slisAfter.map((v) => {
      const slo = r.slos.find((x) => x.source === v.source);
      const cls =
        v.inconclusive !== undefined
          ? 'unsure-text'
          : v.passed === null
            ? 'muted'
            : v.passed
              ? 'ok-text'
              : 'bad-text';
      return html`<div class="${cls}">${formatSli(slo, v.measured)}${v.inconclusive === undefined ? '' : ' ?'} <span class="sub">${v.source}</span></div>`;
    });
    const restored = s.restored.map((src) => html`<span class="badge ok">restored ${src}</span> `);
    const output = s.output.length > OUTPUT_CHARS ? `${s.output.slice(0, OUTPUT_CHARS)}\n[…]` : s.output;
    return html`<tr class="${s.ok ? '' : 'step-failed'}"><td class="num">${s.index + 1}</td><td><strong>${s.title}</strong> <span class="sub">${s.kind}</span><pre class="cmd">${s.command}</pre>${output.trim() === '' ? '' : html`<details><summary>output</summary><pre class="out">${output}</pre></details>`}</td><td class="num">+${formatMs(s.offsetMs)}</td><td class="num">${formatMs(s.durationMs)}</td><td class="num ${s.ok ? 'ok-text' : 'bad-text'}">${exit}</td><td>${slis}${restored}</td></tr>`;
  });
  return html`<table class="runbook"><thead><tr><th>#</th><th>step</th><th>started</th><th>took</th><th>exit</th><th>SLIs after the step</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderEfficacy(r: ScenarioResult): SafeHtml {
  const items = r.efficacy.map(
    (e) =>
      html`<li>${renderPassBadge(e.proven, 'proven', 'not proven')} <strong>${e.name}</strong> <span class="sub">${e.kind}, ${e.proven ? `after ${formatMs(e.afterMs)}` : `within ${formatMs(e.budgetMs)}`}</span><div><code>${e.evidence}</code></div></li>`,
  );
  const fault = r.fault
    ? html`<p><strong>Fault:</strong> ${r.fault.description} <span class="sub">(${r.fault.kind}; ${r.fault.objects.join(', ')})</span>${r.fault.removed === false ? html` <span class="badge bad">removal failed: ${r.fault.removeError ?? 'unknown error'}</span>` : ''}</p>`
    : html`<p class="muted">No fault was injected.</p>`;
  const fps = r.falsePositives.map(
    (f) =>
      html`<li>${renderPassBadge(!f.fired, 'quiet', 'FIRED without a fault')} <strong>${f.signal}</strong> <span class="sub">${f.kind}</span>${f.fired ? html`<div><code>${f.evidence}</code></div>` : ''}</li>`,
  );
  return html`${fault}${items.length > 0 ? html`<ul class="evidence-list">${items}</ul>` : html`<p class="muted">No efficacy checks declared.</p>`}${fps.length > 0 ? html`<h4>Steady state: false-positive checks</h4><ul class="evidence-list">${fps}</ul>` : ''}`;
}

function renderAssertions(r: ScenarioResult): SafeHtml {
  const rows = r.assertions.map((a) => {
    const badge = a.inconclusive
      ? html`<span class="badge unsure">inconclusive</span>`
      : renderPassBadge(a.passed);
    const cls = a.passed ? '' : a.informational ? 'info' : a.inconclusive ? 'inconclusive' : 'failed';
    return html`<tr class="${cls}"><td>${badge}${a.informational ? html` <span class="badge muted">informational</span>` : ''}</td><td>${a.name}<div class="sub"><code>${a.id}</code></div></td><td>${a.passed || a.inconclusive ? a.message : describeAssertionFailure(a)}</td></tr>`;
  });
  return html`<table class="assertions"><thead><tr><th></th><th>assertion</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderPhases(r: ScenarioResult): SafeHtml {
  const rows = r.phases.map(
    (p) =>
      html`<tr><td>${p.phase}</td><td class="num">${formatMs(p.durationMs)}</td><td class="num">${formatMs(p.deadlineMs)}</td><td>${p.outcome === null ? html`<span class="badge warn">not ended</span>` : renderOutcomeBadge(p.outcome)}</td><td>${p.error ?? ''}</td></tr>`,
  );
  return html`<table class="phases"><thead><tr><th>phase</th><th>took</th><th>deadline</th><th>outcome</th><th>error</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderScenario(r: ScenarioResult, samples: readonly LoadSample[]): SafeHtml {
  const failed = r.assertions.filter((a) => !a.passed && !a.informational && !a.inconclusive);
  const undecided = r.assertions.filter((a) => a.inconclusive && !a.informational);
  const failures = html`${
    failed.length > 0
      ? html`<ul class="failures">${failed.map((a) => html`<li><strong>${a.name}</strong>: ${describeAssertionFailure(a)}</li>`)}</ul>`
      : ''
  }${
    undecided.length > 0
      ? html`<ul class="inconclusive">${undecided.map((a) => html`<li><strong>${a.name}</strong> — inconclusive: ${a.message}</li>`)}</ul>`
      : ''
  }`;
  const logs =
    r.logs.length > 0
      ? html`<h3>Log</h3><ul class="logs">${r.logs.map((l) => html`<li class="${l.level}"><span class="sub">${formatTime(l.t)}</span> ${l.level}: ${l.message}</li>`)}</ul>`
      : '';
  const kindBadge = r.negativeControl
    ? html`<span class="badge neg">negative control</span>`
    : r.expect === 'measure'
      ? html`<span class="badge muted">measured only</span>`
      : '';
  const frame =
    r.outcome === 'passed' ? 'passed' : r.outcome === 'inconclusive' ? 'inconclusive' : 'not-passed';
  return html`<section class="scenario card ${frame}" id="${formatAnchor(r.key)}">
<header><h2>${renderOutcomeBadge(r.outcome)} ${r.title}</h2><div class="sub"><code>${r.key}</code> ${kindBadge} · fault ${r.faultKind} · expect ${r.expect} · took ${formatMs(r.durationMs)} · time scale ${r.timeScale} · <code>${r.file}</code></div></header>
${failures}
${raw(renderTimeline(r, samples))}
<h3>Detection</h3>${renderDetection(r)}
<div class="grid">
<div><h3>SLOs</h3>${renderSloTable(r)}</div>
<div><h3>Recovery</h3>${renderRecovery(r)}</div>
</div>
<h3>Errors by response code and flag (M4)</h3>${renderErrorsByPhase(r)}
<h3>Runbook</h3>${renderRunbook(r)}
<div class="grid">
<div><h3>Fault efficacy</h3>${renderEfficacy(r)}</div>
<div><h3>Assertions</h3>${renderAssertions(r)}</div>
</div>
<details class="phases-box"><summary>Phases</summary>${renderPhases(r)}</details>
${logs}
</section>`;
}
