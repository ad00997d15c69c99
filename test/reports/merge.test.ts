// `meshdrill report --merge`: the journals of a suite's shards merged into one run give the results the suite run
// on one machine gave — verdict, counts, exit code, every assertion — also when the shards ran at the same time;
// shards that are not one suite (one missing, given twice, overlapping, other counts, other Istio) are refused.

import { expect } from 'chai';
import { exitCodeFor, worstOutcome } from '../../harness/model/index.js';
import { type EventOf, type JournalEvent, MeshdrillError, type Outcome } from '../../harness/model/index.js';
import { mergeShardJournals, type ShardJournal } from '../../reports/merge.js';
import { buildResults } from '../../reports/results.js';
import type { Results } from '../../reports/results-types.js';
import { type FixtureName, loadFixture } from './fixtures.js';
import { parseJournal } from '../../reports/journal.js';
import { type SplitOptions, splitJournal, toJsonl, toVersion1 } from './shard-journals.js';

const decide = (outcomes: Outcome[]) => {
  const outcome = worstOutcome(outcomes);
  return { outcome, exitCode: exitCodeFor(outcome) };
};

const asShards = (journals: JournalEvent[][], dirs = journals.map((_, i) => `runs/shard-${i + 1}`)) =>
  journals.map((events, i): ShardJournal => ({ dir: dirs[i] as string, events, problems: [] }));

function split(name: FixtureName, options: SplitOptions) {
  const fixture = loadFixture(name);
  return { fixture, journals: splitJournal(fixture.events, options) };
}

/** What must not change between the suite run on one machine and its shards merged. */
function essence(results: Results) {
  return {
    outcome: results.run.outcome,
    exitCode: results.run.exitCode,
    verdict: results.verdict,
    cleanupOk: results.cleanup?.ok ?? null,
    scenarios: results.scenarios
      .map((r) => ({
        key: r.key,
        outcome: r.outcome,
        expect: r.expect,
        assertions: r.assertions.map(({ at: _at, ...a }) => a),
        detection: r.detection,
        load: r.load,
        runbook: r.runbook.map((s) => ({ index: s.index, exitCode: s.exitCode, restored: s.restored })),
        recovery: r.recovery && { ...r.recovery, at: null },
        phases: r.phases.map((p) => `${p.phase}:${p.outcome}:${p.durationMs}`),
      }))
      .sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}

function refusal(journals: ShardJournal[]): string {
  try {
    mergeShardJournals(journals, { decide });
  } catch (error) {
    expect(error).to.be.instanceOf(MeshdrillError);
    expect((error as MeshdrillError).exitCode).to.equal(2);
    return (error as Error).message;
  }
  throw new Error('expected the merge to be refused');
}

describe('report --merge: shards into one run', () => {
  for (const overlap of [false, true]) {
    it(`gives the results of the unsplit run: --repeat 3 cut into 3 shards${overlap ? ' that ran at the same time' : ''}`, () => {
      const { fixture, journals } = split('repeat-3', { count: 3, shardOf: (n) => n + 1, overlap });
      expect(journals.map((j) => j.filter((e) => e.type === 'scenario-start').length)).to.deep.equal([
        1, 1, 1,
      ]);
      if (overlap) {
        const starts = journals.map((j) => j.find((e) => e.type === 'scenario-start')?.t);
        expect(new Set(starts).size).to.equal(1);
      }
      const merged = mergeShardJournals(asShards(journals), { decide });
      expect(merged.warnings).to.deep.equal([]);
      const results = buildResults(merged.events);
      expect(essence(results)).to.deep.equal(essence(fixture.results));
      expect(results.run.exitCode).to.equal(1);
      expect(results.verdict.counts).to.include({ scenarios: 3, passed: 2, failed: 1 });
      // One run-start and one run-end, for the merged run; the shards' events in time order.
      expect(merged.events.filter((e) => e.type === 'run-start')).to.have.length(1);
      expect(merged.events.filter((e) => e.type === 'run-end')).to.have.length(1);
      expect(merged.events.at(-1)?.type).to.equal('run-end');
      if (overlap) {
        // Every scoped event names its execution: even a plain sort by time leaves each iteration its own.
        const sorted = [...merged.events].sort((a, b) => a.t - b.t);
        expect(buildResults(sorted).scenarios.map((r) => r.assertions.length)).to.deep.equal([6, 6, 6]);
        // The control: a version-1 journal carried no iteration, so its reader gives every scoped event to the
        // execution started last, and the three iterations' samples and assertions all land on #3.
        const v1 = parseJournal(toJsonl(sorted.map(toVersion1))).events;
        expect(buildResults(v1).scenarios.map((r) => r.assertions.length)).to.deep.equal([0, 0, 18]);
      } else {
        const times = merged.events.map((e) => e.t);
        expect(times).to.deep.equal([...times].sort((a, b) => a - b));
      }
      const start = merged.events[0] as EventOf<'run-start'>;
      expect(start.shard).to.deep.equal({
        count: 3,
        merged: [1, 2, 3].map((index) => ({
          index,
          runId: `r-20261120-0600-repeat-s${index}`,
          outcome: index === 2 ? 'failed' : 'passed',
          exitCode: index === 2 ? 1 : 0,
        })),
      });
      expect(start.argv).to.deep.equal(['run', 'scenarios/upstream-503.yaml', '--repeat', '3']);
      expect(results.run.shard).to.deep.equal(start.shard);
    });
  }

  it('gives the results of the unsplit run with a failing negative control, one shard empty', () => {
    const { fixture, journals } = split('failing', { count: 3, shardOf: (n) => n + 2 });
    expect(journals[0]?.map((e) => e.type)).to.deep.equal(['run-start', 'run-end']);
    const merged = mergeShardJournals(asShards(journals), { decide });
    const results = buildResults(merged.events);
    expect(essence(results)).to.deep.equal(essence(fixture.results));
    expect(results.verdict.outcome).to.equal('failed');
    expect(results.run.exitCode).to.equal(1);
    expect(results.logs.map((l) => l.message)).to.deep.equal(fixture.results.logs.map((l) => l.message));
  });

  it('keeps every shard cleanup: the merged one fails when any shard left something behind', () => {
    const { journals } = split('passing', { count: 2, shardOf: () => 1 });
    const second = journals[1] as JournalEvent[];
    second.splice(1, 0, {
      t: second[0]?.t ?? 0,
      type: 'cleanup',
      ok: false,
      removed: [],
      leftover: ['Pod/x/y'],
    });
    const end = second.at(-1) as EventOf<'run-end'>;
    second[second.length - 1] = { ...end, outcome: 'cleanup-failed', exitCode: 4 };
    const results = buildResults(mergeShardJournals(asShards(journals), { decide }).events);
    expect(results.cleanup).to.include({ ok: false });
    expect(results.cleanup?.leftover).to.deep.equal(['Pod/x/y']);
    expect(results.run).to.include({ outcome: 'cleanup-failed', exitCode: 4 });
    expect(results.verdict.failures[0]?.what).to.match(/^cleanup failed: 1 object\(s\) left behind/);
  });

  it('leaves the merged run incomplete, and says why, when a shard has no run-end', () => {
    const { journals } = split('repeat-3', { count: 3, shardOf: (n) => n + 1 });
    journals[1]?.pop();
    const merged = mergeShardJournals(asShards(journals), { decide });
    expect(merged.warnings).to.deep.equal([
      'shard 2/3 (runs/shard-2): its journal ends before run-end (the machine crashed or the job was cancelled): the merged run is incomplete',
    ]);
    const results = buildResults(merged.events);
    expect(results.run.outcome).to.equal('incomplete');
    expect(results.run.exitCode).to.equal(null);
  });

  describe('refuses shards that are not one suite (exit 2), naming each problem', () => {
    const { journals } = split('repeat-3', { count: 3, shardOf: (n) => n + 1 });

    it('a missing shard, saying which index', () => {
      expect(refusal(asShards([journals[0], journals[2]] as JournalEvent[][], ['a', 'c']))).to.equal(
        'cannot merge these run directories into one run:\n  - shard 2/3 is missing (given: 1/3, 3/3); pass the run directory of every shard',
      );
      // The control: all three are accepted.
      expect(() => mergeShardJournals(asShards(journals), { decide })).to.not.throw();
    });

    it('a shard given twice, and the runs it repeats', () => {
      const message = refusal(asShards([...journals, journals[0] as JournalEvent[]], ['a', 'b', 'c', 'd']));
      expect(message).to.include('shard 1 is given 2 times: a, d');
      expect(message).to.include(
        'upstream-503/main#1 ran in shard 1/3 (a) and in shard 1/3 (d): shards of one suite never overlap',
      );
    });

    it('overlapping runs', () => {
      const overlapping = structuredClone(journals);
      const start = overlapping[2]?.find((e): e is EventOf<'scenario-start'> => e.type === 'scenario-start');
      if (start) start.iteration = 1;
      expect(refusal(asShards(overlapping))).to.include(
        'upstream-503/main#1 ran in shard 1/3 (runs/shard-1) and in shard 3/3 (runs/shard-3): shards of one suite never overlap',
      );
    });

    it('different shard counts', () => {
      const four = split('passing', { count: 4, shardOf: () => 4 }).journals;
      const message = refusal(
        asShards([journals[0], journals[1], four[3]] as JournalEvent[][], ['a', 'b', 'x']),
      );
      expect(message).to.include(
        'expected the shards of one suite, got different shard counts: 3 (a, b) and 4 (x)',
      );
    });

    it('mixed Istio versions', () => {
      const other = split('passing-istio-1.30', { count: 2, shardOf: () => 2 }).journals;
      const mine = split('passing', { count: 2, shardOf: () => 1 }).journals;
      const message = refusal(asShards([mine[0], other[1]] as JournalEvent[][], ['a', 'b']));
      expect(message).to.match(/expected one Istio version, got 1\.29\.\d+ \(a\) and 1\.30\.\d+ \(b\)/);
    });

    it('a run that was no shard, and an already merged run', () => {
      const whole = loadFixture('repeat-3').events;
      expect(refusal(asShards([whole as JournalEvent[]], ['runs/whole']))).to.include(
        'runs/whole: run r-20261120-0600-repeat is not a shard (it was run without --shard i/n)',
      );
      const merged = mergeShardJournals(asShards(journals), { decide }).events;
      expect(refusal(asShards([merged], ['runs/merged']))).to.include(
        'runs/merged: run r-20261120-0600-repeat-s1-merged is already a merged run',
      );
    });
  });
});
