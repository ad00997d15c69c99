import { expect } from 'chai';
import { renderJunit } from '../../reports/junit.js';
import { buildResults } from '../../reports/results.js';
import { escapeXml, formatCdata, renderXml } from '../../reports/xml.js';
import { loadFixture } from './fixtures.js';
import { findAll, parseXml } from './xml-parse.js';

describe('reports/junit: the structure CI systems parse', () => {
  it('a passing run: testsuites > testsuite per scenario variant > testcase per assertion, with consistent counts', () => {
    const { results } = loadFixture('passing');
    const root = parseXml(renderJunit(results));
    expect(root.name).to.equal('testsuites');
    const suites = root.children.filter((c) => c.name === 'testsuite');
    expect(suites.map((s) => s.attrs.name)).to.deep.equal([
      'upstream-503/main',
      'sidecar-oom/main',
      'cleanup',
    ]);
    const cases = findAll(root, 'testcase');
    expect(root.attrs.tests).to.equal(String(cases.length));
    expect(root.attrs.failures).to.equal('0');
    for (const suite of suites) {
      const own = suite.children.filter((c) => c.name === 'testcase');
      expect(suite.attrs.tests).to.equal(String(own.length));
      expect(Number(suite.attrs.time)).to.be.a('number').and.not.NaN;
    }
    const first = suites[0];
    if (!first) throw new Error('no suite');
    expect(first.children.filter((c) => c.name === 'testcase')).to.have.length(6);
    expect(first.attrs.timestamp).to.match(/^2026-11-20T03:00:05\.000Z$/);
    const props = Object.fromEntries(findAll(first, 'property').map((p) => [p.attrs.name, p.attrs.value]));
    expect(props).to.include({
      target: 'local',
      'version.istio': '1.29.4',
      'version.kubernetes': '1.31.0',
      'scenario.expect': 'recovery',
    });
    const detectCase = first.children.find((c) => c.attrs.name?.includes('[detect:istio-5xx-ratio]'));
    expect(detectCase?.attrs.classname).to.equal('meshdrill.upstream-503.main');
    expect(Number(detectCase?.attrs.time)).to.be.greaterThan(0);
    const out = first.children.find((c) => c.name === 'system-out');
    expect(out?.text).to.include('$ kubectl -n demo rollout restart deployment/reviews');
    expect(out?.text).to.include('deployment "reviews" successfully rolled out');
  });

  it('a failing run: the failure message carries the measured value and limit', () => {
    const root = parseXml(renderJunit(loadFixture('failing').results));
    expect(root.attrs.failures).to.equal('1');
    const failures = findAll(root, 'failure');
    expect(failures).to.have.length(1);
    expect(failures[0]?.attrs.message).to.equal('did not fire within 30s (limit 30s)');
    expect(failures[0]?.attrs.type).to.equal('assertion');
    expect(failures[0]?.text).to.include('assertion: detect:IstioHigh5xxRate');
    const control = root.children.find((s) => s.attrs.name === 'upstream-503/empty-runbook');
    expect(control?.attrs.failures).to.equal('0');
  });

  it('repeats get one suite per iteration; a late alert shows measured vs limit', () => {
    const root = parseXml(renderJunit(loadFixture('repeat-3').results));
    const names = root.children.map((s) => s.attrs.name);
    expect(names).to.deep.equal([
      'upstream-503/main#1',
      'upstream-503/main#2',
      'upstream-503/main#3',
      'cleanup',
    ]);
    const failure = findAll(root, 'failure')[0];
    expect(failure?.attrs.message).to.equal('fired after 31.2s (budget 30s) (measured 31.2s, limit 30s)');
  });

  it('an incomplete scenario becomes an error testcase; no cleanup suite when none ran', () => {
    const root = parseXml(renderJunit(loadFixture('truncated').results));
    const errors = findAll(root, 'error');
    expect(errors).to.have.length(1);
    expect(errors[0]?.attrs.type).to.equal('incomplete');
    expect(root.attrs.errors).to.equal('1');
    expect(root.children.map((s) => s.attrs.name)).to.not.include('cleanup');
  });

  it('escapes hostile names and keeps "]]>" in output intact through CDATA', () => {
    const { events } = loadFixture('failing');
    const hostile = events.map((e) => {
      if (e.type === 'assertion' && e.id === 'detect:IstioHigh5xxRate')
        return { ...e, name: `a <b> & "c" 'd'`, message: 'x ]]> y <z>' };
      if (e.type === 'runbook-step' && e.index === 0)
        return { ...e, output: 'before ]]> after <![CDATA[ & \u0007bell' };
      return e;
    });
    const xml = renderJunit(buildResults(hostile));
    const root = parseXml(xml);
    const tc = findAll(root, 'testcase').find((c) => c.attrs.name?.startsWith('a <b>'));
    expect(tc?.attrs.name).to.equal(`a <b> & "c" 'd' [detect:IstioHigh5xxRate]`);
    expect(findAll(root, 'failure')[0]?.attrs.message).to.equal('x ]]> y <z> (limit 30s)');
    const out = findAll(root, 'system-out')[0]?.text ?? '';
    expect(out).to.include('before ]]> after <![CDATA[ & bell');
  });

  it('the serializer escapes attributes and text and renders nested elements', () => {
    expect(escapeXml(`<&>"'`)).to.equal('&lt;&amp;&gt;&quot;&apos;');
    expect(formatCdata('a]]>b')).to.equal('<![CDATA[a]]]]><![CDATA[>b]]>');
    const xml = renderXml({
      name: 'r',
      attributes: { a: 'x"y', skip: undefined },
      children: [{ name: 'c', children: [{ text: '1 < 2' }] }],
    });
    expect(xml).to.equal(
      '<?xml version="1.0" encoding="UTF-8"?>\n<r a="x&quot;y">\n  <c>1 &lt; 2</c>\n</r>\n',
    );
    expect(parseXml(xml).children[0]?.text).to.equal('1 < 2');
  });
});
