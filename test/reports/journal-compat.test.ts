// Journals written by version 1 (scoped events without their iteration, the suite's provisioning under scenario
// '*') still read, and give the results, JUnit and HTML report the same run journaled by the current version gives.

import { expect } from 'chai';
import { type JournalEvent, JOURNAL_VERSION } from '../../harness/model/index.js';
import { renderHtml } from '../../reports/html/index.js';
import { parseJournal } from '../../reports/journal.js';
import { renderJunit } from '../../reports/junit.js';
import { buildResults } from '../../reports/results.js';
import { loadFixture, type V1FixtureName } from './fixtures.js';

const v1Line = (event: Record<string, unknown>) => JSON.stringify(event);

describe('reports/journal: version-1 journals', () => {
  for (const name of ['failing', 'repeat-3', 'truncated'] as V1FixtureName[]) {
    it(`${name}: the same results, JUnit and report as the current version's journal of the run`, () => {
      const old = loadFixture(name, { version1: true });
      const current = loadFixture(name);
      expect(old.results.journalVersion).to.equal(1);
      expect(current.results.journalVersion).to.equal(JOURNAL_VERSION);
      expect({ ...old.results, journalVersion: null }).to.deep.equal({
        ...current.results,
        journalVersion: null,
      });
      expect(renderJunit(old.results)).to.equal(renderJunit(current.results));
      const footerless = (html: string) => html.replace(/\(journal version \d+,/, '(journal version N,');
      expect(footerless(renderHtml(old.results, old.events))).to.equal(
        footerless(renderHtml(current.results, current.events)),
      );
      // The control: the report does say which version it read.
      expect(renderHtml(old.results, old.events)).to.include('(journal version 1,');
    });
  }

  it("upgrades as version 1's reader attributed: the latest execution of the variant; '*' is the suite", () => {
    const scope = (variant: string) => ({ scenario: 's', variant });
    const start = (t: number, variant: string, iteration: number) => ({
      t,
      type: 'scenario-start',
      ...scope(variant),
      title: 's',
      file: 's.yaml',
      iteration,
      expect: 'recovery',
      faultKind: 'pod-kill',
      slos: [],
      signals: [],
      recovery: { budgetMs: 1000, verifyMs: 100 },
      timeScale: 1,
    });
    const lines = [
      {
        t: 1,
        type: 'run-start',
        version: 1,
        runId: 'r',
        meshdrillVersion: '0',
        argv: [],
        target: 'local',
        repeat: 2,
      },
      { t: 2, type: 'phase-start', scenario: '*', variant: '*', phase: 'provision', deadlineMs: 0 },
      {
        t: 3,
        type: 'phase-end',
        scenario: '*',
        variant: '*',
        phase: 'provision',
        outcome: 'passed',
        durationMs: 1,
      },
      { t: 4, type: 'phase-start', ...scope('main'), phase: 'deploy', deadlineMs: 9 },
      start(5, 'main', 1),
      { t: 6, type: 'assertion', ...scope('main'), id: 'a', name: 'a', passed: true, message: 'first' },
      start(7, 'main', 2),
      { t: 8, type: 'assertion', ...scope('main'), id: 'a', name: 'a', passed: false, message: 'second' },
      { t: 9, type: 'log', level: 'warn', ...scope('main'), message: 'about main' },
      { t: 10, type: 'run-end', outcome: 'failed', exitCode: 1 },
    ];
    const parsed = parseJournal(`${lines.map(v1Line).join('\n')}\n`);
    expect(parsed.problems).to.deep.equal([]);
    expect(parsed.version).to.equal(1);
    const byType = (type: string) => parsed.events.filter((e) => e.type === type);
    // The deploy phase before any execution of its variant started belonged to none: dropped, as before.
    expect(byType('phase-start')).to.deep.equal([
      { t: 2, type: 'phase-start', phase: 'provision', deadlineMs: 0, scope: 'suite' },
    ]);
    expect(byType('assertion').map((e) => (e.type === 'assertion' ? e.iteration : 0))).to.deep.equal([1, 2]);
    expect((byType('log')[0] as JournalEvent & { iteration?: number }).iteration).to.equal(2);
    const results = buildResults(parsed.events);
    expect(results.suite.phases.map((p) => [p.phase, p.outcome, p.durationMs])).to.deep.equal([
      ['provision', 'passed', 1],
    ]);
    expect(results.scenarios.map((r) => r.assertions.map((a) => a.message))).to.deep.equal([
      ['first'],
      ['second'],
    ]);
    expect(results.scenarios.map((r) => r.phases.length)).to.deep.equal([0, 0]);
    expect(results.scenarios[1]?.logs.map((l) => l.message)).to.deep.equal(['about main']);
    // Reading the upgraded events again changes nothing: the upgrade is idempotent.
    expect(parseJournal(`${parsed.events.map((e) => JSON.stringify(e)).join('\n')}\n`).events).to.deep.equal(
      parsed.events,
    );
  });
});
