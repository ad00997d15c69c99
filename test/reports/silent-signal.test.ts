// A signal a variant requires silent (e.g. a page its Alertmanager routing inhibits) is reported as such: the
// detection row says so, the HTML shows "stayed silent" or "fired" instead of "missed" or "in budget", and it
// counts neither as a detection in the coverage matrix nor in the CI summary's "signals fired in budget".

import { expect } from 'chai';
import { renderCiSummary } from '../../reports/ci-summary.js';
import { buildCoverage } from '../../reports/coverage.js';
import { renderHtml } from '../../reports/html/index.js';
import { buildResults } from '../../reports/results.js';
import type { JournalEvent } from '../../harness/model/index.js';
import { loadFixture } from './fixtures.js';

const SIGNAL = 'IstioHigh5xxRate';

/** The passing fixture with SIGNAL required silent in upstream-503/main, fired or not. */
function withSilent(fired: boolean): JournalEvent[] {
  return loadFixture('passing').events.map((e) => {
    if (e.type === 'scenario-start' && e.scenario === 'upstream-503')
      return { ...e, signals: e.signals.map((s) => (s.name === SIGNAL ? { ...s, silent: true } : s)) };
    if (e.type === 'condition' && e.scenario === 'upstream-503' && e.name === SIGNAL && !fired) {
      const { afterMs: _, ...rest } = e;
      return { ...rest, fired: false, evidence: `${SIGNAL} fires but Alertmanager holds it back: inhibited` };
    }
    return e;
  });
}

function detectionCell(html: string): string {
  const row = html.split('<tr>').find((r) => r.includes(`<strong>${SIGNAL}</strong>`));
  if (!row) throw new Error('no detection row');
  return row;
}

describe('reports: a signal required silent in a variant', () => {
  it('that stayed quiet: marked silent, shown as "stayed silent", not a detection anywhere', () => {
    const events = withSilent(false);
    const results = buildResults(events);
    const row = results.scenarios[0]?.detection.find((d) => d.signal === SIGNAL);
    expect(row).to.include({ silent: true, fired: false });
    expect(detectionCell(renderHtml(results, events)))
      .to.include('stayed silent')
      .and.not.include('missed');
    const cell = buildCoverage(results.scenarios)
      .rows.find((r) => r.scenario === 'upstream-503')
      ?.cells.find((c) => c.signal === SIGNAL);
    expect(cell?.checked).to.equal(0);
    expect(renderCiSummary(results)).to.include('| upstream-503/main#1 | passed | 1/1 |');
  });

  it('that fired: shown as fired though it must stay silent (the control: the same row unmarked reads in budget)', () => {
    const events = withSilent(true);
    const results = buildResults(events);
    expect(detectionCell(renderHtml(results, events))).to.include('must stay silent here');
    const plain = loadFixture('passing');
    expect(detectionCell(renderHtml(plain.results, plain.events))).to.include('in budget');
    expect(renderCiSummary(plain.results)).to.include('| upstream-503/main#1 | passed | 2/2 |');
  });
});
