import { expect } from 'chai';
import { renderHtml } from '../../reports/html/index.js';
import { buildResults } from '../../reports/results.js';
import { loadFixture } from './fixtures.js';
import { findAll, parseXml } from './xml-parse.js';

function svgsOf(html: string): string[] {
  return html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
}

function sectionOf(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  if (start < 0) throw new Error(`no section #${id}`);
  const end = html.indexOf('</section>', start);
  return html.slice(start, end);
}

describe('reports/html: the self-contained report', () => {
  it('a passing run: verdict first, then coverage, one section per scenario with three well-formed charts', () => {
    const { results, events } = loadFixture('passing');
    const html = renderHtml(results, events);
    expect(html.startsWith('<!doctype html>')).to.equal(true);
    const verdictAt = html.indexOf('id="verdict"');
    expect(verdictAt).to.be.greaterThan(0);
    expect(verdictAt).to.be.lessThan(html.indexOf('id="coverage"'));
    expect(html.indexOf('id="coverage"')).to.be.lessThan(html.indexOf('class="scenario card'));
    expect(sectionOf(html, 'verdict')).to.include('All scenarios passed');
    expect(html.match(/<section class="scenario card/g)).to.have.length(2);
    const svgs = svgsOf(html);
    expect(svgs).to.have.length(6);
    for (const svg of svgs) parseXml(svg);
    const rate = parseXml(svgs[0] as string);
    const markerLabels = findAll(rate, 'text')
      .filter((t) => t.attrs.class === 'marker-label')
      .map((t) => t.text);
    expect(markerLabels).to.include.members([
      'fault injected (chaos-mesh)',
      'istio-5xx-ratio fired +4.2s',
      'IstioHigh5xxRate fired +14.8s',
      'step 1: Check the upstream endpoints',
      'step 2: Restart the reviews deployment',
    ]);
    expect(markerLabels.some((l) => l.startsWith('recovered +'))).to.equal(true);
    expect(findAll(rate, 'rect').filter((r) => r.attrs.class === 'band').length).to.be.greaterThan(4);
    // SLO lines: the success ratio chart and the latency chart each draw their SLO.
    expect(
      findAll(parseXml(svgs[1] as string), 'line').filter((l) => l.attrs.class === 'rule'),
    ).to.have.length(1);
    expect(
      findAll(parseXml(svgs[2] as string), 'line').filter((l) => l.attrs.class === 'rule'),
    ).to.have.length(1);
    expect(html).to.include('Istio 1.29.4');
    expect(sectionOf(html, 'environment')).to.include('istio-install');
  });

  it('a failing run leads with what failed and links to it; the negative control is listed with its outcome', () => {
    const { results, events } = loadFixture('failing');
    const html = renderHtml(results, events);
    const verdict = sectionOf(html, 'verdict');
    expect(verdict).to.include('Run failed');
    expect(verdict).to.include('href="#s-upstream-503-main-1"');
    expect(verdict).to.include('IstioHigh5xxRate fires within 30s — did not fire within 30s');
    expect(html).to.include('id="s-upstream-503-main-1"');
    const controls = sectionOf(html, 'negative-controls');
    expect(controls).to.include('upstream-503/empty-runbook#1');
    expect(controls).to.include('empty runbook');
    expect(controls).to.include('did not recover');
    expect(html).to.include('<span class="badge bad">missed</span>');
    expect(html).to.include('not found'); // the failed step's output excerpt
    expect(html).to.match(/class="step-failed"/);
  });

  it('--repeat 3 shows pass rates and marks the flaky assertion', () => {
    const { results, events } = loadFixture('repeat-3');
    const repeats = sectionOf(renderHtml(results, events), 'repeats');
    expect(repeats).to.include('2/3 iterations passed (67%)');
    expect(repeats).to.match(/<tr class="flaky"><td>IstioHigh5xxRate fires within 30s/);
    expect(repeats).to.include('14.8s / 16.9s / 31.2s');
    expect(repeats).to.include('100%');
  });

  it('a truncated journal still renders, and says the run is incomplete and which line was torn', () => {
    const { results, events } = loadFixture('truncated');
    const html = renderHtml(results, events);
    expect(sectionOf(html, 'verdict')).to.include('Run incomplete');
    expect(sectionOf(html, 'journal')).to.match(/journal.jsonl line \d+: the last line is incomplete/);
    expect(sectionOf(html, 'cleanup')).to.include('No cleanup was recorded');
    expect(svgsOf(html)).to.have.length(3);
  });

  it('is self-contained: no external resources, no network URLs, one inline script', () => {
    for (const name of ['passing', 'failing', 'repeat-3', 'truncated'] as const) {
      const { results, events } = loadFixture(name);
      const html = renderHtml(results, events);
      expect(html, name).to.not.match(/<(link|img|iframe|object|embed)\b/i);
      expect(html, name).to.not.match(/\bsrc=/i);
      expect(html, name).to.not.match(/url\(|@import/i);
      const urls = (html.match(/https?:\/\/[^\s"'<]+/g) ?? []).filter(
        (u) => u !== 'http://www.w3.org/2000/svg',
      );
      expect(urls, name).to.deep.equal([]);
      expect(html.match(/<script/g), name).to.have.length(1);
      expect(html, name).to.include('Content-Security-Policy');
    }
  });

  it('escapes every piece of user text', () => {
    const { events } = loadFixture('failing');
    const evil = '<script>alert("x")</script>';
    const hostile = events.map((e) => {
      if (e.type === 'scenario-start') return { ...e, title: evil };
      if (e.type === 'runbook-step') return { ...e, command: `echo ${evil}`, output: `</pre>${evil}` };
      if (e.type === 'condition') return { ...e, name: evil, evidence: evil };
      if (e.type === 'log') return { ...e, message: evil };
      return e;
    });
    const html = renderHtml(buildResults(hostile), hostile);
    expect(html.match(/<script/g)).to.have.length(1);
    expect(html).to.include('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    for (const svg of svgsOf(html)) parseXml(svg);
  });
});
