// `--shard i/n` on the pack's real scenarios: the shards together are the suite, no run twice, balanced within one
// longest run, the same whatever order the files come in; the schedule runs a shard's runs only; and a suite run
// of a shard runs just its share — an empty shard makes no cluster and passes.

import { resolve } from 'node:path';
import { expect } from 'chai';
import { expectedVariantMs, runSuite, suiteShard } from '../../harness/engine/run-suite.js';
import { planTurns } from '../../harness/engine/schedule.js';
import { holdsRun, pickShard, restrictToShard, splitIntoShards } from '../../harness/engine/shard.js';
import { createJournal } from '../../harness/journal/index.js';
import {
  type EventOf,
  JOURNAL_VERSION,
  type ResolvedScenario,
  type ScenarioVariant,
} from '../../harness/model/index.js';
import { loadScenarios } from '../../harness/scenario/index.js';
import { FakeWorld, fakeScenario } from '../support/fake-world.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PACK = resolve(ROOT, 'scenarios');

async function loadPack(target: string, paths: string[] = [PACK]): Promise<ResolvedScenario[]> {
  const { scenarios, problems } = await loadScenarios(paths, { target });
  expect(problems, problems.map((p) => p.message).join('\n')).to.deep.equal([]);
  return scenarios;
}

const suiteKeys = (scenarios: readonly ResolvedScenario[], repeat: number) =>
  scenarios.flatMap((s) =>
    s.variants.flatMap((v) => Array.from({ length: repeat }, (_, i) => `${s.name}/${v.name}#${i + 1}`)),
  );

const shardsOf = (scenarios: readonly ResolvedScenario[], count: number, repeat: number) =>
  splitIntoShards<ResolvedScenario, ScenarioVariant>(scenarios, {
    count,
    repeat,
    expectedMs: expectedVariantMs,
  });

describe('--shard: the suite cut into shards', () => {
  for (const target of ['local', 'kind']) {
    describe(`the pack on ${target}`, () => {
      let pack: ResolvedScenario[];
      before(async function () {
        this.timeout(60_000);
        pack = await loadPack(target);
        expect(pack.length).to.be.greaterThan(3);
      });

      for (const repeat of [1, 2]) {
        it(`n = 1..5, --repeat ${repeat}: every run in exactly one shard, loads within one longest run`, () => {
          const suite = suiteKeys(pack, repeat);
          const longest = Math.max(...pack.flatMap((s) => s.variants.map((v) => expectedVariantMs(s, v))));
          for (let n = 1; n <= 5; n++) {
            const shards = shardsOf(pack, n, repeat);
            expect(shards.map((s) => s.index)).to.deep.equal(Array.from({ length: n }, (_, i) => i + 1));
            const keys = shards.flatMap((s) => s.runs.map((r) => r.key));
            expect(new Set(keys).size, `n=${n}: a run in two shards`).to.equal(keys.length);
            expect([...keys].sort(), `n=${n}: the union is the suite`).to.deep.equal([...suite].sort());
            const loads = shards.map((s) => s.expectedMs);
            for (const shard of shards) {
              const sum = shard.runs.reduce((ms, r) => ms + expectedVariantMs(r.scenario, r.variant), 0);
              expect(shard.expectedMs).to.equal(sum);
            }
            expect(
              Math.max(...loads) - Math.min(...loads),
              `n=${n}: loads ${loads.join(', ')}`,
            ).to.be.at.most(longest);
          }
        });
      }

      it('gives the same shards whatever order the scenarios and files come in', async () => {
        const files = [...new Set(pack.map((s) => s.file))];
        const reordered = await loadPack(target, [...files].reverse());
        expect(reordered.map((s) => s.name)).to.not.deep.equal(pack.map((s) => s.name));
        const rotated = [...pack.slice(2), ...pack.slice(0, 2)];
        for (let n = 1; n <= 5; n++) {
          const expected = shardsOf(pack, n, 2).map((s) => s.runs.map((r) => r.key));
          for (const other of [reordered, [...pack].reverse(), rotated]) {
            expect(shardsOf(other, n, 2).map((s) => s.runs.map((r) => r.key))).to.deep.equal(expected);
          }
        }
      });

      it("plans turns of a shard's runs only, and the shards' turns together are the suite's", () => {
        for (const ownClusters of [false, true]) {
          const planned = [1, 2, 3].flatMap((index) => {
            const shard = suiteShard(pack, { index, count: 3 }, 2);
            const turns = planTurns<ResolvedScenario, ScenarioVariant>(restrictToShard(pack, shard), {
              repeat: 2,
              parallel: 3,
              ownClusters,
              expectedMs: expectedVariantMs,
              includes: holdsRun(shard),
            });
            const keys = turns.flatMap((t) =>
              t.runs.map((r) => `${t.scenario.name}/${r.variant.name}#${r.iteration}`),
            );
            expect([...keys].sort()).to.deep.equal(shard.runs.map((r) => r.key));
            return keys;
          });
          expect(planned.sort()).to.deep.equal(suiteKeys(pack, 2).sort());
        }
      });
    });
  }

  it('leaves shards empty when there are fewer runs than shards, and says how many the suite has', () => {
    const scenario = fakeScenario();
    const picked = pickShard<ResolvedScenario, ScenarioVariant>(
      [scenario],
      { index: 3, count: 4 },
      {
        repeat: 2,
        expectedMs: expectedVariantMs,
      },
    );
    expect(picked.runs).to.deep.equal([]);
    expect(picked.suiteRuns).to.equal(2);
    const shards = shardsOf([scenario], 4, 2);
    expect(shards.map((s) => s.runs.map((r) => r.key))).to.deep.equal([
      ['fake-outage/main#1'],
      ['fake-outage/main#2'],
      [],
      [],
    ]);
  });
});

describe('--shard: a suite run of one shard', function () {
  this.timeout(120_000);
  const control: ScenarioVariant = { name: 'empty-runbook', runbook: null, expect: 'no-recovery' };

  async function runShard(index: number, count: number) {
    const world = new FakeWorld();
    const target = world.target();
    const journal = createJournal();
    const result = await runSuite({
      runId: `shard-${index}`,
      journal,
      target,
      scenarios: [fakeScenario({ variants: [fakeScenario().variants[0] as ScenarioVariant, control] })],
      repeat: 1,
      workDir: '/tmp',
      ruleFiles: [],
      settings: {},
      interrupt: new AbortController().signal,
      cleanupTimeoutMs: 1000,
      connect: () => world.connect(),
      shard: { index, count },
    });
    const started = journal.events
      .filter((e): e is EventOf<'scenario-start'> => e.type === 'scenario-start')
      .map((e) => `${e.variant}#${e.iteration}`);
    // The engine opens every journal with run-start, naming the shard; what follows is the shard's own story.
    const [opening, ...events] = journal.events;
    expect(opening).to.include({ type: 'run-start', version: JOURNAL_VERSION, runId: `shard-${index}` });
    expect((opening as EventOf<'run-start'>).shard).to.deep.equal({ index, count });
    return { result, events, target, started };
  }

  it('runs nothing on a shard that gets nothing: no cluster, a clear line, exit 0', async () => {
    const { result, events, target, started } = await runShard(3, 3);
    expect(result.exitCode).to.equal(0);
    expect(target.provisioned).to.equal(0);
    expect(started).to.deep.equal([]);
    expect(events.map((e) => e.type)).to.deep.equal(['log', 'run-end']);
    expect((events[0] as EventOf<'log'>).message).to.match(
      /^shard 3\/3: no drill run falls to this shard \(the suite has 2 run\(s\) for 3 shards\); nothing to run$/,
    );
  });

  it("runs only its own share, and the two shards' shares are the suite", async () => {
    const first = await runShard(1, 2);
    const second = await runShard(2, 2);
    // The control waits its whole budget out, so it is the longer run and goes to shard 1.
    expect(first.started).to.deep.equal(['empty-runbook#1']);
    expect(second.started).to.deep.equal(['main#1']);
    expect([first.result.exitCode, second.result.exitCode]).to.deep.equal([0, 0]);
    expect((first.events[0] as EventOf<'log'>).message).to.match(
      /^shard 1\/2: 1 of 2 drill run\(s\), expected .+ of .+ — fake-outage\/empty-runbook#1$/,
    );
  });
});
