// The drill schedule: namespace-isolated drills side by side up to the limit, cluster-isolated ones alone, the
// order kept, nothing new after an interrupt or an error, and nothing abandoned.

import { expect } from 'chai';
import { expectedVariantMs } from '../../harness/engine/run-suite.js';
import { findSideBySideClashes, planTurns, runScheduled } from '../../harness/engine/schedule.js';
import { fakeScenario } from '../support/fake-world.js';

interface Drill {
  name: string;
  shares: boolean;
  ms: number;
}

/** Runs the drills with pretend work, recording starts, ends and the drills running at each start. */
async function simulate(drills: Drill[], parallel: number, stopAfter?: string, failing?: string) {
  const log: string[] = [];
  const running = new Set<string>();
  const overlaps = new Map<string, string[]>();
  let stop = false;
  const error = await runScheduled(
    drills,
    { parallel, shares: (d) => d.shares, stopped: () => stop },
    async (d) => {
      overlaps.set(d.name, [...running]);
      for (const other of running) overlaps.get(other)?.push(d.name);
      running.add(d.name);
      log.push(`start ${d.name}`);
      await new Promise((resolve) => setTimeout(resolve, d.ms));
      running.delete(d.name);
      log.push(`end ${d.name}`);
      if (d.name === stopAfter) stop = true;
      if (d.name === failing) throw new Error(`${d.name} broke`);
    },
  ).then(
    () => undefined,
    (e: Error) => e,
  );
  return { log, overlaps, error, started: log.filter((l) => l.startsWith('start')).map((l) => l.slice(6)) };
}

const drill = (name: string, shares: boolean, ms = 30): Drill => ({ name, shares, ms });

describe('the drill schedule', () => {
  it('runs one after the other with parallel 1, whatever the isolation', async () => {
    const { log } = await simulate([drill('a', true), drill('b', true), drill('c', false)], 1);
    expect(log).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs namespace-isolated drills side by side, never more than the limit', async () => {
    const drills = ['a', 'b', 'c', 'd', 'e'].map((n) => drill(n, true, 40));
    const { log, overlaps, started } = await simulate(drills, 2);
    expect(started).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
    expect(overlaps.get('a')).to.include('b');
    let now = 0;
    let most = 0;
    for (const line of log) {
      now += line.startsWith('start') ? 1 : -1;
      most = Math.max(most, now);
    }
    expect(most).to.equal(2);
  });

  it('runs the namespace-isolated drills first, together, then each cluster-isolated drill alone', async () => {
    const drills = [
      drill('a', true, 60),
      drill('crash', false, 30),
      drill('b', true, 20),
      drill('expiry', false, 30),
      drill('c', true),
    ];
    const { log, overlaps, started } = await simulate(drills, 4);
    expect(started).to.deep.equal(['a', 'b', 'c', 'crash', 'expiry']);
    expect(overlaps.get('a')).to.have.members(['b', 'c']);
    expect(overlaps.get('crash')).to.deep.equal([]);
    expect(overlaps.get('expiry')).to.deep.equal([]);
    expect(log.indexOf('start crash')).to.be.greaterThan(log.indexOf('end a'));
    expect(log.indexOf('start expiry')).to.be.greaterThan(log.indexOf('end crash'));
  });

  it('keeps the order given with parallel 1', async () => {
    const drills = [drill('a', true, 5), drill('crash', false, 5), drill('b', true, 5)];
    const { started } = await simulate(drills, 1);
    expect(started).to.deep.equal(['a', 'crash', 'b']);
  });

  it('starts nothing new once stopped, and lets the running drills end', async () => {
    const drills = [drill('a', true, 20), drill('b', true, 80), drill('c', true), drill('d', false)];
    const { log, started } = await simulate(drills, 2, 'a');
    expect(started).to.deep.equal(['a', 'b']);
    expect(log).to.include('end b');
  });

  it('rethrows the first error after the running drills have ended, starting nothing after it', async () => {
    const drills = [drill('a', true, 20), drill('b', true, 80), drill('c', true)];
    const { log, started, error } = await simulate(drills, 2, undefined, 'a');
    expect(error?.message).to.equal('a broke');
    expect(started).to.deep.equal(['a', 'b']);
    expect(log.at(-1)).to.equal('end b');
  });
});

describe('drills side by side: clashing claims', () => {
  const claims = (name: string, namespace: string, host: string | undefined) => ({
    name,
    file: `scenarios/${name}.yaml`,
    namespace,
    host,
  });

  it('accepts drills with their own namespaces and hosts', () => {
    expect(
      findSideBySideClashes([
        claims('canary-shift', 'drill-canary-shift', 'canary.drill.local'),
        claims('retry-storm', 'drill-retry-storm', 'retry.drill.local'),
      ]),
    ).to.deep.equal([]);
  });

  it('names both drills and the field to change when a host or a namespace is shared', () => {
    const clashes = findSideBySideClashes([
      claims('a', 'drill-shop', 'shop.drill.local'),
      claims('b', 'drill-b', 'shop.drill.local'),
      claims('c', 'drill-shop', undefined),
      claims('d', 'drill-d', undefined),
    ]);
    expect(clashes).to.deep.equal([
      'scenarios/b.yaml: b and a (scenarios/a.yaml) both use host shop.drill.local and would run side by side (isolation: namespace, --parallel); give one its own load.host and its Gateway/VirtualService',
      'scenarios/c.yaml: c and a (scenarios/a.yaml) both use namespace drill-shop and would run side by side (isolation: namespace, --parallel); give one its own workload.namespace',
      'scenarios/d.yaml: d and c (scenarios/c.yaml) both use host (no load.host: the gateway default) and would run side by side (isolation: namespace, --parallel); give one its own load.host and its Gateway/VirtualService',
    ]);
  });
});

describe('turns of the schedule', () => {
  const scenario = (name: string, isolation: 'cluster' | 'namespace', variants: string[], ms: number) => ({
    name,
    isolation,
    variants,
    ms,
  });
  const pack = [
    scenario('ns-short', 'namespace', ['main', 'control'], 10),
    scenario('cl-long', 'cluster', ['main', 'control'], 40),
    scenario('ns-long', 'namespace', ['main'], 50),
  ];
  const describeTurns = (turns: ReturnType<typeof planTurns<(typeof pack)[number]>>) =>
    turns.map(
      (t) =>
        `${t.scenario.name}[${t.runs.map((r) => `${r.variant}#${r.iteration}`).join(',')}]${t.ownCluster ? ' own' : ''}${t.shares ? ' shares' : ''}`,
    );

  it("keeps a scenario's variants in one turn on the shared cluster, in order, when no cluster of its own can be had", () => {
    const turns = planTurns(pack, {
      repeat: 2,
      parallel: 3,
      ownClusters: false,
      expectedMs: (s, v) => s.ms + (v === 'control' ? 5 : 0),
    });
    expect(describeTurns(turns)).to.deep.equal([
      'ns-short[main#1,main#2,control#1,control#2] shares',
      'cl-long[main#1,main#2,control#1,control#2]',
      'ns-long[main#1,main#2] shares',
    ]);
  });

  it("gives each run a turn of its own on a fresh cluster — a namespace drill's first run stays on the shared one — longest turns first", () => {
    // Expected lengths: ns-long 50, cl-long's control 45 and main 40, ns-short's control 15 and main 10.
    const turns = planTurns(pack, {
      repeat: 1,
      parallel: 3,
      ownClusters: true,
      expectedMs: (s, v) => s.ms + (v === 'control' ? 5 : 0),
    });
    expect(describeTurns(turns)).to.deep.equal([
      'ns-long[main#1] shares',
      'cl-long[control#1] own shares',
      'cl-long[main#1] own shares',
      'ns-short[control#1] own shares',
      'ns-short[main#1] shares',
    ]);
  });

  it('spreads repeats too: only the very first run of a namespace drill uses the shared cluster', () => {
    const turns = planTurns([scenario('ns', 'namespace', ['main'], 10)], {
      repeat: 3,
      parallel: 2,
      ownClusters: true,
      expectedMs: (s) => s.ms,
    });
    expect(describeTurns(turns)).to.deep.equal([
      'ns[main#1] shares',
      'ns[main#2] own shares',
      'ns[main#3] own shares',
    ]);
  });

  it('uses no cluster of its own with parallel 1, keeping the order given', () => {
    const turns = planTurns(pack, {
      repeat: 1,
      parallel: 1,
      ownClusters: true,
      expectedMs: (s, v) => s.ms + (v === 'control' ? 5 : 0),
    });
    expect(describeTurns(turns)).to.deep.equal([
      'ns-short[main#1,control#1] shares',
      'cl-long[main#1,control#1]',
      'ns-long[main#1] shares',
    ]);
  });
});

describe("a variant run's expected length", () => {
  it('counts the whole budget and a window for a variant that may not recover, a quarter for one that should', () => {
    const scenario = fakeScenario({
      steadyState: { durationMs: 10_000 },
      recovery: { budgetMs: 60_000, verifyMs: 15_000, conditions: [] },
    });
    const longest = Math.max(...scenario.signals.map((s) => s.withinMs));
    const main = expectedVariantMs(scenario, { name: 'main', runbook: null, expect: 'recovery' });
    const control = expectedVariantMs(scenario, { name: 'c', runbook: null, expect: 'no-recovery' });
    const measured = expectedVariantMs(scenario, { name: 'm', runbook: null, expect: 'measure' });
    expect(main).to.equal(10_000 + longest + 15_000 + 15_000);
    expect(control).to.equal(10_000 + longest + 75_000);
    expect(measured).to.equal(control);
  });
});
