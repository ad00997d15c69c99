// Small HTML helpers for the report: escaping every piece of user text, and the formats tables share.

import type { SloThreshold } from '../../harness/model/index.js';
import { formatMeasured } from '../../harness/slo/index.js';
import { formatDuration } from '../../harness/util/duration.js';
import type { RunOutcome } from '../results-types.js';
import { escapeXml } from '../xml.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return escapeXml(text);
}

/** Tagged template that escapes every interpolated value unless it is marked as already-built HTML. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function raw(html: string): SafeHtml {
  return new SafeHtml(html);
}

type Part = string | number | SafeHtml | null | undefined | readonly (SafeHtml | string)[];

export function html(strings: TemplateStringsArray, ...parts: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  parts.forEach((part, i) => {
    out += renderPart(part) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

function renderPart(part: Part): string {
  if (part === null || part === undefined) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map((p) => renderPart(p)).join('');
  return escapeHtml(String(part));
}

export function formatMs(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : formatDuration(ms);
}

export function formatTime(epochMs: number | null): string {
  return epochMs === null
    ? '—'
    : new Date(epochMs)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

export function formatPercent(ratio: number | null, digits = 2): string {
  return ratio === null
    ? '—'
    : `${(ratio * 100)
        .toFixed(digits)
        .replace(/(\.\d*?)0+$/, '$1')
        .replace(/\.$/, '')}%`;
}

/** An SLI value in its SLO's units, or a dash. */
export function formatSli(slo: SloThreshold | undefined, measured: number | null): string {
  if (measured === null) return '—';
  return slo ? formatMeasured(slo, measured) : String(measured);
}

const OUTCOME_CLASS: Record<RunOutcome, string> = {
  passed: 'ok',
  inconclusive: 'unsure',
  failed: 'bad',
  'timed-out': 'bad',
  interrupted: 'warn',
  'cleanup-failed': 'bad',
  error: 'bad',
  incomplete: 'warn',
};

export function renderOutcomeBadge(outcome: RunOutcome): SafeHtml {
  return html`<span class="badge ${OUTCOME_CLASS[outcome]}">${outcome}</span>`;
}

export function renderPassBadge(passed: boolean | null, yes = 'pass', no = 'fail'): SafeHtml {
  if (passed === null) return html`<span class="badge muted">n/a</span>`;
  return passed ? html`<span class="badge ok">${yes}</span>` : html`<span class="badge bad">${no}</span>`;
}

/** An anchor id safe for HTML from a scenario key such as `upstream-503/main#1`. */
export function formatAnchor(key: string): string {
  return `s-${key.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}
