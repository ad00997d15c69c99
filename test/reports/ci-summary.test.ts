// The job-page view of a run on GitHub Actions: the Markdown summary appended to $GITHUB_STEP_SUMMARY and the
// `::error` annotations on the scenario file's line, rendered from the journal fixtures. Negative controls: a
// passing run has no failure section and no annotation; without GITHUB_ACTIONS there is no reporter at all.

import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createGithubReporter,
  lineOfAssertion,
  renderAnnotations,
  renderCiSummary,
} from '../../reports/ci-summary.js';
import { loadFixture } from './fixtures.js';

const SCENARIO_TEXT = `apiVersion: meshdrill.io/v1alpha1
kind: Scenario
metadata:
  name: upstream-503
spec:
  detect:
    - name: IstioHigh5xxRate
      kind: alert
      alert: IstioHigh5xxRate
      within: 30s
`;

describe('CI summary and annotations (GitHub Actions)', () => {
  it('summarises a failed run: verdict, what failed, and time to detect and recover per drill', () => {
    const { results } = loadFixture('failing');
    const md = renderCiSummary(results, 'https://github.example/o/r/actions/runs/7');
    expect(md).to.match(/^## meshdrill: FAILED — run \S+ \(target \w+\)\n/);
    expect(md).to.include('### Failed');
    expect(md).to.include('IstioHigh5xxRate fires within 30s — did not fire within 30s');
    expect(md).to.include('| drill | outcome | signals fired in budget |');
    for (const r of results.scenarios) expect(md).to.include(`| ${r.key} | ${r.outcome}`);
    expect(md).to.include('[this run](https://github.example/o/r/actions/runs/7)');
  });

  it('negative control: a passing run has no failure section and no annotation', () => {
    const { results } = loadFixture('passing');
    const md = renderCiSummary(results);
    expect(md).to.match(/^## meshdrill: PASSED/);
    expect(md).to.not.include('### Failed');
    expect(renderAnnotations(results, () => ({ file: 'x.yaml', line: 1 }))).to.deep.equal([]);
  });

  it('puts each failed assertion on its line of the scenario file, escaped as workflow commands are', () => {
    const { results } = loadFixture('failing');
    const lines = renderAnnotations(results, (_r, name) => ({
      file: 'scenarios/upstream-503.yaml',
      line: lineOfAssertion(SCENARIO_TEXT, name),
    }));
    expect(lines).to.include(
      '::error file=scenarios/upstream-503.yaml,line=7,title=meshdrill upstream-503/main#1::IstioHigh5xxRate fires within 30s: did not fire within 30s',
    );
    for (const line of lines)
      expect(line).to.match(/^::(error|warning) file=[^:]+,line=\d+,title=[^:]+::[^\n]+$/);
    // A message with a newline or a percent sign stays one command.
    const tricky = structuredClone(results);
    const first = tricky.scenarios.flatMap((r) => r.assertions).find((a) => !a.passed && !a.informational);
    if (first) first.message = '50% of requests\nfailed';
    const escaped = renderAnnotations(tricky, () => ({ file: 'a,b:c.yaml', line: 3 }));
    expect(escaped.join('\n')).to.include('file=a%2Cb%3Ac.yaml,line=3');
    expect(escaped.join('\n')).to.include('50%25 of requests%0Afailed');
  });

  it('finds the line that names the assertion, else the first line', () => {
    expect(lineOfAssertion(SCENARIO_TEXT, 'IstioHigh5xxRate fires within 30s')).to.equal(7);
    expect(lineOfAssertion(SCENARIO_TEXT, 'steady state holds success_rate >= 99%')).to.equal(1);
  });

  it('appends the summary to $GITHUB_STEP_SUMMARY and writes annotations only on GitHub Actions', async () => {
    expect(createGithubReporter({})).to.equal(undefined);
    const dir = mkdtempSync(join(tmpdir(), 'meshdrill-ci-summary-'));
    try {
      const summary = join(dir, 'summary.md');
      writeFileSync(summary, '# an earlier step\n');
      const scenarioFile = join(dir, 'scenarios', 'upstream-503.yaml');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, 'scenarios'));
      writeFileSync(scenarioFile, SCENARIO_TEXT);
      const { results, events } = loadFixture('failing');
      for (const r of results.scenarios) r.file = scenarioFile;
      const written: string[] = [];
      const reporter = createGithubReporter(
        { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: dir },
        (line) => written.push(line),
      );
      const paths = await reporter?.onEnd({ runDir: dir, events, results });
      expect(paths).to.deep.equal([summary]);
      const text = readFileSync(summary, 'utf8');
      expect(text.startsWith('# an earlier step\n## meshdrill: FAILED')).to.equal(true);
      expect(written.some((l) => l.startsWith('::error file=scenarios/upstream-503.yaml,line=7,'))).to.equal(
        true,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
