// `--parallel auto`: given the cores and each drill's CPU cost it picks how many run at once — never below 1, never
// above what --parallel N allows, never planning more than the cores carry — and says why in one line; the pack's
// costs come from its scenario files through the cost model.

import { resolve } from 'node:path';
import { expect } from 'chai';
import {
  chooseParallelism,
  DRILL_CPU_COSTS,
  type DrillCost,
  decideParallelism,
  estimateTurnCosts,
  MAX_PARALLEL,
} from '../../harness/engine/parallelism.js';
import { loadScenarios } from '../../harness/scenario/index.js';
import { fakeScenario } from '../support/fake-world.js';

const ROOT = resolve(import.meta.dirname, '../..');
const drills = (...cores: number[]): DrillCost[] =>
  cores.map((c, i) => ({ name: `d${i}`, cores: c, detail: `detail of d${i}` }));

describe('--parallel auto: choosing how many drills run at once', () => {
  it('takes the most drills whose costliest ones fit in the planned share of the cores', () => {
    // 2 cores × 0.8 − 0.1 = 1.5 for drills: the three costliest (0.5 + 0.5 + 0.4) fit, a fourth (0.3) would not.
    const choice = chooseParallelism({
      cores: 2,
      costs: drills(0.3, 0.5, 0.4, 0.5, 0.2),
      baseCores: 0.1,
      utilisation: 0.8,
    });
    expect(choice.parallel).to.equal(3);
    expect(choice.explanation).to.equal(
      '--parallel auto: 3 drills at once — 2 cores, 1.50 planned for drills (80 % less 0.10 for the shared cluster); the 3 costliest need ≈ 1.40 core together, ≤ 0.50 each (d1: detail of d1); one more would plan 1.70',
    );
  });

  it('is never below 1, even when one drill alone needs more than the machine', () => {
    const choice = chooseParallelism({ cores: 1, costs: drills(3, 2), baseCores: 0.1, utilisation: 0.8 });
    expect(choice.parallel).to.equal(1);
    expect(choice.explanation).to.match(/^--parallel auto: 1 drill at once — 1 core,/);
    expect(chooseParallelism({ cores: 0, costs: drills(0.1) }).parallel).to.equal(1);
    expect(chooseParallelism({ cores: 8, costs: [] })).to.include({ parallel: 1 });
  });

  it('is never above what --parallel N allows, nor the number of drills that may run side by side', () => {
    const many = drills(...Array.from({ length: 40 }, () => 0.01));
    const capped = chooseParallelism({ cores: 64, costs: many });
    expect(capped.parallel).to.equal(MAX_PARALLEL);
    expect(capped.explanation).to.contain(`--parallel allows at most ${MAX_PARALLEL}`);
    expect(chooseParallelism({ cores: 64, costs: many, max: 100 }).parallel).to.equal(MAX_PARALLEL);
    expect(chooseParallelism({ cores: 64, costs: many, max: 4 }).parallel).to.equal(4);
    const few = chooseParallelism({ cores: 64, costs: drills(0.3, 0.3) });
    expect(few.parallel).to.equal(2);
    expect(few.explanation).to.contain('that is every drill that may run beside another');
  });

  it('never plans more CPU than the share of the cores it may use', () => {
    for (const cores of [1, 2, 3, 4, 8, 16]) {
      for (const costs of [
        drills(0.9, 0.1, 0.1),
        drills(0.3, 0.3, 0.3, 0.3, 0.3, 0.3),
        drills(0.05, 2, 0.05),
      ]) {
        const { parallel } = chooseParallelism({ cores, costs, baseCores: 0.05, utilisation: 0.8 });
        const planned = [...costs]
          .map((c) => c.cores)
          .sort((a, b) => b - a)
          .slice(0, parallel)
          .reduce((a, b) => a + b, 0);
        if (parallel > 1) expect(planned).to.be.at.most(cores * 0.8 - 0.05);
      }
    }
  });

  it('costs a drill from its load, the proxies on its path, its pods and a cluster of its own', () => {
    const model = { ...DRILL_CPU_COSTS, requestHopMs: 2, podIdleCores: 0.01, drillEngineCores: 0.05 };
    const scenario = fakeScenario({ isolation: 'namespace' });
    scenario.workload.manifests.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } });
    const [shared] = estimateTurnCosts([scenario], { repeat: 1, ownClusters: true, costs: model });
    // 20 req/s × 2 proxies (gateway, web's sidecar) × 2 ms + 1 pod × 0.01 + 0.05 engine + its two PromQL
    // conditions, written at 200 ms but paced to 500 ms: 4 queries/s × 1.5 ms.
    expect(shared?.cores).to.be.closeTo(0.08 + 0.01 + 0.05 + 0.006, 1e-9);
    expect(shared?.detail).to.equal('20 req/s through 2 proxies, 1 pod, 4 queries/s');
    const own = estimateTurnCosts([{ ...scenario, isolation: 'cluster' }], {
      repeat: 1,
      ownClusters: true,
      costs: model,
    });
    expect(own.map((c) => c.name)).to.deep.equal(['fake-outage/main']);
    expect(own[0]?.cores).to.be.greaterThan((shared?.cores ?? 0) + model.clusterIdleCores);
    expect(own[0]?.detail).to.equal('20 req/s through 2 proxies, 1 pod, a cluster of its own, 4 queries/s');
    // A recovery condition that runs a command, polled every 250 ms (at most once a run: 0.28 s), over the
    // recovery budget and window of a negative control: 4000 + 2000 of its expected 2000 + 3000 + 6000 ms.
    const polling = {
      ...scenario,
      variants: [{ name: 'control', runbook: null, expect: 'no-recovery' as const }],
      recovery: {
        ...scenario.recovery,
        conditions: [
          {
            name: 'applied',
            kind: 'command' as const,
            run: 'kubectl apply -f x',
            expectExitCode: 0,
            pollMs: 250,
          },
        ],
      },
    };
    const [polled] = estimateTurnCosts([polling], { repeat: 1, ownClusters: true, costs: model });
    expect(polled?.cores).to.be.closeTo(
      0.146 + (1 / model.commandRunWallSeconds) * model.commandRunCpuSeconds * (6000 / 11000),
      1e-9,
    );
    expect(polled?.detail).to.match(/, commands polled \(≈ 0\.\d\d core\)$/);
    // Where no cluster of its own can be had, a cluster-isolated drill runs alone: it is not costed for sharing.
    expect(
      estimateTurnCosts([{ ...scenario, isolation: 'cluster' }], { repeat: 1, ownClusters: false }),
    ).to.deep.equal([]);
  });

  it("decides for the pack on a 2-core machine, naming its costliest drill's figures", async () => {
    const { scenarios, problems } = await loadScenarios([resolve(ROOT, 'scenarios')], { target: 'local' });
    expect(problems).to.deep.equal([]);
    const choice = decideParallelism(scenarios, { repeat: 1, ownClusters: true, cores: 2 });
    // Every variant is a turn of its own: the first of each namespace drill on the shared cluster, the rest on
    // clusters of their own (taken from the pack, 33 variants when this was written).
    const variants = scenarios.reduce((n, s) => n + s.variants.length, 0);
    expect(variants).to.be.at.least(22);
    expect(choice.costs).to.have.length(variants);
    expect(choice.parallel).to.be.within(1, MAX_PARALLEL);
    expect(choice.explanation).to.match(/^--parallel auto: \d+ drills? at once — 2 cores, /);
    // The explanation names the costliest turn with what its cost is made of.
    const [top] = [...choice.costs].sort((a, b) => b.cores - a.cores);
    expect(choice.explanation).to.contain(`(${top?.name}: ${top?.detail})`);
    // retry-storm's first run, on the shared cluster: gateway, frontend and backend sidecars; its five signals
    // written at the default poll (250 ms at the local scale), paced to 500 ms.
    expect(choice.costs.find((c) => c.name === 'retry-storm')?.detail).to.equal(
      '40 req/s through 3 proxies, 5 pods, 10 queries/s',
    );
    // istiod-crash's negative control polls a kubectl apply every second for its whole recovery budget.
    expect(choice.costs.find((c) => c.name === 'istiod-crash/empty-runbook')?.detail).to.match(
      /, a cluster of its own, \d+ queries\/s, commands polled \(≈ 0\.\d+ core\)$/,
    );
    const more = decideParallelism(scenarios, { repeat: 1, ownClusters: true, cores: 8 });
    expect(more.parallel).to.be.at.least(choice.parallel);
  });
});
