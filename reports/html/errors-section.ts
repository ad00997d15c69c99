// The M4 table of a scenario card: per phase window, the non-2xx status codes, Envoy response flags and client
// errors that occurred, and the 5xx share against the guide's 1 % target.

import { is5xx, SHARE_5XX_LIMIT } from '../errors-by-phase.js';
import type { ErrorWindow, ErrorWindowName, ScenarioResult } from '../results-types.js';
import { formatMs, formatPercent, html, type SafeHtml } from './format.js';

const WINDOW_LABELS: Record<ErrorWindowName, string> = {
  'steady-state': 'steady state',
  'during-fault': 'during fault',
  remediation: 'remediation',
  'recovery-verification': 'recovery verification',
};

/**
 * What a flag means, as Envoy's access-log documentation (%RESPONSE_FLAGS%) defines it, with the status Envoy
 * answers with; the ones a mesh drill commonly meets. Others are named without a gloss.
 */
const FLAG_MEANINGS: Record<string, string> = {
  UH: 'no healthy upstream host (503)',
  UF: 'upstream connection failure (503)',
  URX: 'upstream retry limit (or TCP connect attempts) reached',
  NR: 'no route configured (404)',
  UO: 'upstream overflow, circuit breaking (503)',
  DC: 'downstream connection terminated: the client went away',
  UT: 'upstream request timeout (504)',
  UC: 'upstream connection termination (503)',
  UR: 'upstream remote reset (503)',
  LR: 'connection local reset (503)',
  NC: 'upstream cluster not found',
  FI: 'aborted by fault injection',
  DI: 'delayed by fault injection',
  RL: 'rate limited locally (429)',
};

/** The keys with a non-zero count in any window, in a stable order (numeric for codes). */
function keysOf(windows: readonly ErrorWindow[], pick: (w: ErrorWindow) => Record<string, number>): string[] {
  const keys = new Set<string>();
  for (const w of windows) for (const [k, n] of Object.entries(pick(w))) if (n > 0) keys.add(k);
  return [...keys].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** A journaled flag key may hold several flags ("UF,URX", as some drivers count them); each is explained. */
function renderFlagLegend(flags: readonly string[]): SafeHtml | string {
  const each = [...new Set(flags.flatMap((f) => f.split(',').map((x) => x.trim())))].filter((f) => f !== '');
  if (each.length === 0) return '';
  const items = each.map((f) =>
    FLAG_MEANINGS[f] === undefined
      ? html`<abbr>${f}</abbr> see %RESPONSE_FLAGS% in Envoy's access-log documentation`
      : html`<abbr title="${FLAG_MEANINGS[f]}">${f}</abbr> ${FLAG_MEANINGS[f]}`,
  );
  const joined = items.flatMap((item, i) => (i === 0 ? [item] : [html` · `, item]));
  return html`<p class="sub flag-legend">Envoy response flags: ${joined}.</p>`;
}

/** The 5xx share; above the guide's 1 % it is marked in words too, not by colour alone. */
function renderShare(w: ErrorWindow): SafeHtml {
  if (w.share5xx === null) return html`<td class="num muted">—</td>`;
  if (w.share5xx <= SHARE_5XX_LIMIT) return html`<td class="num">${formatPercent(w.share5xx)}</td>`;
  // While the fault is in (until the runbook has fixed it) a breach is its expected effect, as in the SLO table:
  // information, not failure. In the steady state and after the runbook it is what the guide's target is about.
  const tone = w.window === 'during-fault' || w.window === 'remediation' ? 'warn' : 'bad';
  return html`<td class="num over-limit"><strong class="${tone}-text">${formatPercent(w.share5xx)}</strong> <span class="badge ${tone}">above ${formatPercent(SHARE_5XX_LIMIT)}</span></td>`;
}

function renderCount(n: number | undefined): SafeHtml {
  return n === undefined || n === 0 ? html`<td class="num muted">0</td>` : html`<td class="num">${n}</td>`;
}

interface Columns {
  codes: string[];
  flags: string[];
  errors: string[];
  dropped: boolean;
}

function renderHead(c: Columns): SafeHtml {
  const groups = [
    c.codes.length > 0 ? html`<th scope="colgroup" colspan="${c.codes.length}">status code</th>` : '',
    c.flags.length > 0 ? html`<th scope="colgroup" colspan="${c.flags.length}">Envoy response flag</th>` : '',
    c.errors.length > 0 ? html`<th scope="colgroup" colspan="${c.errors.length}">client error</th>` : '',
  ];
  const two = c.codes.length + c.flags.length + c.errors.length > 0;
  const span = two ? html` rowspan="2"` : '';
  const leaf = [
    ...c.codes.map((k) => html`<th scope="col" class="num">${k}</th>`),
    ...c.flags.map((k) => html`<th scope="col" class="num">${k}</th>`),
    ...c.errors.map((k) => html`<th scope="col" class="num">${k}</th>`),
  ];
  return html`<thead><tr><th scope="col"${span}>phase</th><th scope="col" class="num"${span}>completed</th>${groups}${c.dropped ? html`<th scope="col" class="num"${span}>dropped</th>` : ''}<th scope="col" class="num"${span}>5xx share</th></tr>${two ? html`<tr>${leaf}</tr>` : ''}</thead>`;
}

function renderRow(w: ErrorWindow, c: Columns): SafeHtml {
  const span = w.to === null ? 'until the journal ends' : formatMs(w.to - w.from);
  return html`<tr><th scope="row" class="row">${WINDOW_LABELS[w.window]}<div class="sub">${span}</div></th><td class="num">${w.completed}</td>${c.codes.map((k) => renderCount(w.byStatus[k]))}${c.flags.map((k) => renderCount(w.byFlag[k]))}${c.errors.map((k) => renderCount(w.byError[k]))}${c.dropped ? renderCount(w.dropped) : ''}${renderShare(w)}</tr>`;
}

export function renderErrorsByPhase(r: ScenarioResult): SafeHtml {
  const windows = r.errorsByPhase;
  if (windows.length === 0) return html`<p class="muted">No phase window was reached.</p>`;
  const columns: Columns = {
    codes: keysOf(windows, (w) => w.byStatus).filter((k) => !/^2\d\d$/.test(k)),
    flags: keysOf(windows, (w) => w.byFlag),
    errors: keysOf(windows, (w) => w.byError),
    dropped: windows.some((w) => w.dropped > 0),
  };
  const has5xx = columns.codes.some(is5xx);
  // Envoy puts flags in its access log; a client sees them only when the gateway echoes x-envoy-response-flags.
  const noFlags =
    has5xx && columns.flags.length === 0
      ? html`<p class="sub">No response flags were reported: the gateway did not send <code>x-envoy-response-flags</code>.</p>`
      : '';
  const intro = html`<p class="sub">Completed requests per phase window, with the non-2xx status codes, Envoy response flags and client errors that occurred; the 5xx share is 5xx responses over completed requests (target: at most ${formatPercent(SHARE_5XX_LIMIT)}).</p>`;
  return html`${intro}<div class="scroll"><table class="errors-by-phase">${renderHead(columns)}<tbody>${windows.map((w) => renderRow(w, columns))}</tbody></table></div>${renderFlagLegend(columns.flags)}${noFlags}`;
}
