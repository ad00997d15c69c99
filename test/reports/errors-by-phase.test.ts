// M4 per phase window: exact counts from a synthetic journal whose samples are known second by second, a sample on
// a window boundary counted once, the HTML table showing exactly the codes and flags that occurred, and the 1 %
// highlight only above the guide's target.

import { expect } from 'chai';
import type { JournalEvent, LoadSample, PhaseName } from '../../harness/model/index.js';
import { renderHtml } from '../../reports/html/index.js';
import { buildResults } from '../../reports/results.js';
import type { ErrorWindow, Results } from '../../reports/results-types.js';
import { FakeWorld, fakeScenario, runOnWorld } from '../support/fake-world.js';
import { loadFixture } from './fixtures.js';
import { findAll, parseXml, type XmlTree } from './xml-parse.js';

const T0 = 1_800_000_000_000;
const scope = { scenario: 'drill', variant: 'main', iteration: 1 };

/** One second of load: `status` and `errors` are the completed requests; flags are counted apart, as journaled. */
function sample(
  at: number,
  status: Record<string, number>,
  more: { flags?: Record<string, number>; errors?: Record<string, number>; dropped?: number } = {},
): JournalEvent {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const errors = more.errors ?? {};
  const succeeded = sum(Object.fromEntries(Object.entries(status).filter(([k]) => /^[23]/.test(k))));
  const s: LoadSample = {
    t: T0 + at,
    scheduled: sum(status) + sum(errors) + (more.dropped ?? 0),
    completed: sum(status) + sum(errors),
    succeeded,
    dropped: more.dropped ?? 0,
    byStatus: status,
    byFlag: more.flags ?? {},
    byError: errors,
    histogram: '',
    p50: 10,
    p95: 20,
    p99: 30,
  };
  return { type: 'load-sample', ...scope, t: T0 + at + 1000, sample: s };
}

function phase(name: PhaseName, from: number, to: number | null): JournalEvent[] {
  const start: JournalEvent = {
    type: 'phase-start',
    ...scope,
    t: T0 + from,
    phase: name,
    deadlineMs: 60_000,
  };
  if (to === null) return [start];
  return [
    start,
    { type: 'phase-end', ...scope, t: T0 + to, phase: name, outcome: 'passed', durationMs: to - from },
  ];
}

const START: JournalEvent = {
  type: 'scenario-start',
  ...scope,
  t: T0 - 5000,
  title: 'a drill',
  file: 'drill.yaml',
  expect: 'recovery',
  faultKind: 'http-abort',
  slos: [],
  signals: [],
  recovery: { budgetMs: 60_000, verifyMs: 2000 },
  timeScale: 1,
};

/**
 * Steady state [0, 3 s), during the fault [3 s, 5 s) (inject and detect), remediation [5 s, 7 s), recovery
 * verification [7 s, 9 s), cleanup from 9 s. The samples at 3 s, 5 s and 7 s start exactly on a boundary.
 */
function drillJournal(): JournalEvent[] {
  return [
    START,
    sample(-1000, { '200': 500, '503': 500 }), // the load's warm-up, before any window
    ...phase('steady-state', 0, 3000),
    sample(0, { '200': 991, '503': 9 }),
    sample(1000, { '200': 991, '503': 9 }),
    sample(2000, { '200': 991, '503': 9 }), // 27 of 3000: 0.9 %
    ...phase('inject', 3000, 3500),
    ...phase('detect', 3500, 5000),
    sample(3000, { '200': 60, '503': 40 }, { flags: { UF: 40, URX: 40 } }),
    sample(4000, { '200': 50, '503': 45 }, { flags: { UF: 45 }, errors: { reset: 5 }, dropped: 3 }),
    ...phase('remediate', 5000, 7000),
    sample(5000, { '200': 80, '503': 10, '504': 10 }, { flags: { UH: 10, UT: 10 } }),
    sample(6000, { '200': 100 }),
    ...phase('recover', 7000, 9000),
    sample(7000, { '200': 988, '503': 12 }, { flags: { UH: 12 } }),
    sample(8000, { '200': 986, '503': 12, '404': 2 }, { flags: { UH: 12, NR: 2 } }), // 24 of 2000: 1.2 %
    ...phase('cleanup', 9000, 9500),
    sample(9000, { '503': 100 }), // cleanup: no window
    { type: 'scenario-end', ...scope, t: T0 + 9500, outcome: 'passed', durationMs: 14_500 },
  ];
}

function windowsOf(events: readonly JournalEvent[]): ErrorWindow[] {
  const r = buildResults(events).scenarios[0];
  if (!r) throw new Error('no scenario');
  return r.errorsByPhase;
}

/** The M4 table of the first scenario card, parsed (it is well-formed XML: a broken table fails here). */
function tableOf(results: Results, events: readonly JournalEvent[]): XmlTree {
  const page = renderHtml(results, events);
  const start = page.indexOf('<table class="errors-by-phase">');
  if (start < 0) throw new Error('no M4 table');
  return parseXml(page.slice(start, page.indexOf('</table>', start) + '</table>'.length));
}

/** The text of an element and its descendants (the parser keeps no order between them: fine for one-part cells). */
const textOf = (t: XmlTree): string => (t.text + t.children.map(textOf).join('')).trim();

/** A 5xx share cell: the share, the badge's words (absent: not highlighted) and the cell's class. */
function shareOf(cell: XmlTree): [string, string | null, string | undefined] {
  const share = findAll(cell, 'strong')[0]?.text ?? cell.text.trim();
  return [share, findAll(cell, 'span')[0]?.text ?? null, cell.attrs.class];
}

describe('reports: errors by response code and flag per phase window (M4)', () => {
  it('counts each window exactly, a sample on a boundary once, in the later window', () => {
    const windows = windowsOf(drillJournal());
    expect(windows.map((w) => [w.window, w.from - T0, (w.to ?? 0) - T0, w.samples])).to.deep.equal([
      ['steady-state', 0, 3000, 3],
      ['during-fault', 3000, 5000, 2],
      ['remediation', 5000, 7000, 2],
      ['recovery-verification', 7000, 9000, 2],
    ]);
    const [steady, fault, remediation, recovery] = windows;
    expect(steady).to.deep.include({ completed: 3000, dropped: 0, byStatus: { '200': 2973, '503': 27 } });
    expect(steady?.byFlag).to.deep.equal({});
    expect(steady?.share5xx).to.be.closeTo(0.009, 1e-12);
    expect(fault).to.deep.include({
      completed: 200,
      dropped: 3,
      byStatus: { '200': 110, '503': 85 },
      byFlag: { UF: 85, URX: 40 },
      byError: { reset: 5 },
    });
    // A client error has no status: it is in the denominator, not among the 5xx.
    expect(fault?.share5xx).to.equal(85 / 200);
    expect(remediation).to.deep.include({
      completed: 200,
      byStatus: { '200': 180, '503': 10, '504': 10 },
      byFlag: { UH: 10, UT: 10 },
    });
    expect(remediation?.share5xx).to.equal(0.1);
    expect(recovery).to.deep.include({
      completed: 2000,
      byStatus: { '200': 1974, '503': 24, '404': 2 },
      byFlag: { UH: 24, NR: 2 },
    });
    expect(recovery?.share5xx).to.equal(0.012);
    // Every sample inside the windows is counted once: the windows add up to the totals less warm-up and cleanup.
    const load = buildResults(drillJournal()).scenarios[0]?.load;
    expect(windows.reduce((n, w) => n + w.completed, 0)).to.equal((load?.completed ?? 0) - 1000 - 100);
  });

  it('a drill stopped before its runbook keeps the fault window open until cleanup; a torn one until the end', () => {
    const stopped = drillJournal().filter(
      (e) => !('phase' in e) || !['remediate', 'recover'].includes(e.phase),
    );
    const windows = windowsOf(stopped);
    expect(windows.map((w) => w.window)).to.deep.equal(['steady-state', 'during-fault']);
    expect(windows[1]).to.deep.include({ to: T0 + 9000, samples: 6, completed: 2400 });

    const torn = drillJournal().filter(
      (e) => e.type !== 'scenario-end' && !(e.type === 'phase-end' && e.phase === 'recover'),
    );
    const recovery = windowsOf(torn).find((w) => w.window === 'recovery-verification');
    expect(recovery).to.deep.include({ to: null, samples: 3, completed: 2100 });
  });

  it('an execution that never reached its steady state has no windows, and the card says so', () => {
    const events = [START, ...phase('deploy', 0, 1000)];
    const results = buildResults(events);
    expect(results.scenarios[0]?.errorsByPhase).to.deep.equal([]);
    expect(renderHtml(results, events)).to.include('No phase window was reached.');
  });

  it('the table has a row per window and columns for exactly the non-2xx codes, flags and errors that occurred', () => {
    const events = drillJournal();
    const table = tableOf(buildResults(events), events);
    const [groups, leaves] = findAll(table, 'tr').slice(0, 2);
    if (!groups || !leaves) throw new Error('no header rows');
    expect(findAll(groups, 'th').map(textOf)).to.deep.equal([
      'phase',
      'completed',
      'status code',
      'Envoy response flag',
      'client error',
      'dropped',
      '5xx share',
    ]);
    expect(findAll(leaves, 'th').map(textOf)).to.deep.equal([
      '404',
      '503',
      '504',
      'NR',
      'UF',
      'UH',
      'URX',
      'UT',
      'reset',
    ]);
    const rows = findAll(findAll(table, 'tbody')[0] as XmlTree, 'tr');
    expect(rows.map((r) => textOf(findAll(r, 'th')[0] as XmlTree))).to.deep.equal([
      'steady state3s',
      'during fault2s',
      'remediation2s',
      'recovery verification2s',
    ]);
    // During the fault: completed, 404, 503, 504, NR, UF, UH, URX, UT, reset, dropped (then the share).
    expect(
      findAll(rows[1] as XmlTree, 'td')
        .slice(0, -1)
        .map(textOf),
    ).to.deep.equal(['200', '0', '85', '0', '0', '85', '0', '40', '0', '5', '3']);
    expect(shareOf(findAll(rows[1] as XmlTree, 'td').at(-1) as XmlTree)).to.deep.equal([
      '42.5%',
      'above 1%',
      'num over-limit',
    ]);
    const page = renderHtml(buildResults(events), events);
    const legend = page.slice(page.indexOf('<p class="sub flag-legend">'));
    for (const gloss of [
      'NR</abbr> no route configured (404)',
      'UF</abbr> upstream connection failure (503)',
      'UH</abbr> no healthy upstream host (503)',
      'URX</abbr> upstream retry limit',
      'UT</abbr> upstream request timeout (504)',
    ])
      expect(legend).to.include(gloss);
    expect(legend.slice(0, legend.indexOf('</p>'))).to.not.match(/>(UO|DC|UC)</);
  });

  it('highlights the 5xx share above 1 % only: 0.9 % and exactly 1 % are not, 1.2 % is', () => {
    const events = drillJournal();
    const results = buildResults(events);
    const shares = () =>
      findAll(findAll(tableOf(results, events), 'tbody')[0] as XmlTree, 'tr').map((r) =>
        shareOf(findAll(r, 'td').at(-1) as XmlTree),
      );
    expect(shares()).to.deep.equal([
      ['0.9%', null, 'num'],
      ['42.5%', 'above 1%', 'num over-limit'],
      ['10%', 'above 1%', 'num over-limit'],
      ['1.2%', 'above 1%', 'num over-limit'],
    ]);
    const steady = results.scenarios[0]?.errorsByPhase[0];
    if (!steady) throw new Error('no steady state');
    steady.share5xx = 0.01;
    expect(shares()[0]).to.deep.equal(['1%', null, 'num']);
  });

  it('while the fault is in, a share above 1 % is information (amber); in steady state and after, a breach (red)', () => {
    const events = drillJournal();
    const tones = findAll(findAll(tableOf(buildResults(events), events), 'tbody')[0] as XmlTree, 'tr').map(
      (r) => findAll(r, 'span')[0]?.attrs.class ?? null,
    );
    expect(tones).to.deep.equal([null, 'badge warn', 'badge warn', 'badge bad']);
  });

  it('a run without errors shows only the counts and the share, and no flag legend', () => {
    const events = drillJournal().map((e) =>
      e.type === 'load-sample'
        ? { ...e, sample: { ...e.sample, byStatus: { '200': 10 }, byFlag: {}, byError: {}, dropped: 0 } }
        : e,
    );
    const page = renderHtml(buildResults(events), events);
    const table = tableOf(buildResults(events), events);
    expect(
      findAll(table, 'tr')[0] && findAll(findAll(table, 'tr')[0] as XmlTree, 'th').map(textOf),
    ).to.deep.equal(['phase', 'completed', '5xx share']);
    expect(page).to.not.include('<p class="sub flag-legend">');
  });

  it('the fixtures: the fault windows carry the 503s and their flags, the steady state none', () => {
    const r = loadFixture('passing').results.scenarios[0];
    expect(r?.errorsByPhase.map((w) => w.window)).to.deep.equal([
      'steady-state',
      'during-fault',
      'remediation',
      'recovery-verification',
    ]);
    expect(r?.errorsByPhase[0]?.byStatus).to.deep.equal({ '200': r?.errorsByPhase[0]?.completed });
    expect(r?.errorsByPhase[1]?.byStatus['503']).to.be.greaterThan(0);
    expect(r?.errorsByPhase[1]?.byFlag['UF,URX']).to.equal(r?.errorsByPhase[1]?.byStatus['503']);
  });

  it("on an engine's journal the windows bracket the engine's own SLO windows: the fault's is injection → runbook start", async function () {
    this.timeout(60_000);
    const { journal } = await runOnWorld(new FakeWorld(), [fakeScenario()]);
    const events = journal.events;
    const r = buildResults(events).scenarios[0];
    if (!r) throw new Error('no scenario');
    const engine = (w: string) => {
      const e = events.find((x) => x.type === 'slo-window' && x.window === w);
      if (e?.type !== 'slo-window') throw new Error(`no ${w} window`);
      return e;
    };
    const [steady, fault, , recovery] = r.errorsByPhase;
    if (!steady || !fault || !recovery) throw new Error(`windows: ${r.errorsByPhase.map((w) => w.window)}`);
    // The engine takes its times just inside the phases (the same millisecond, or a few later).
    const within = (outer: { from: number; to: number | null }, inner: { from: number; to: number }) => {
      expect(outer.from).to.be.at.most(inner.from);
      expect(outer.to ?? Number.POSITIVE_INFINITY).to.be.at.least(inner.to);
    };
    within(steady, engine('steady-state'));
    within(fault, engine('during-fault'));
    expect(engine('during-fault').from - fault.from).to.be.below(1000);
    expect((fault.to ?? 0) - engine('during-fault').to).to.be.below(1000);
    within(recovery, engine('after-recovery'));
    // Every sample in a window is one of the execution's, counted once.
    const total = r.errorsByPhase.reduce((n, w) => n + w.samples, 0);
    expect(total).to.be.greaterThan(0);
    expect(total).to.be.at.most(r.load.samples);
  });
});
