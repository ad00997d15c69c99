// A degraded instrument makes a verdict inconclusive, end to end on the fake world: the engine's exit code, then
// results.json, junit.xml and index.html written from the journal alone. A clean window with the same breach
// fails, and so does a breach far beyond what the degradation explains; negative controls obey the same rule.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EXIT_CODES, type ResolvedScenario } from '../../harness/model/index.js';
import { writeReports } from '../../reports/index.js';
import type { Results } from '../../reports/results-types.js';
import { FakeWorld, fakeScenario, runOnWorld } from '../support/fake-world.js';

const LATENCY_SLO = {
  source: 'p(95) < 250ms',
  metric: 'latency',
  percentile: 95,
  op: '<',
  value: 250,
} as const;

/** Runs the scenario on the world, writes the journal as the CLI does, renders the reports, reads them back. */
async function runAndReport(world: FakeWorld, scenario: ResolvedScenario) {
  const { result, journal } = await runOnWorld(world, [scenario]);
  journal.append({ type: 'run-end', outcome: result.outcome, exitCode: result.exitCode });
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-inconclusive-'));
  try {
    await writeFile(join(dir, 'journal.jsonl'), journal.events.map((e) => JSON.stringify(e)).join('\n'));
    await writeReports(dir);
    return {
      exitCode: result.exitCode,
      results: JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results,
      junit: readFileSync(join(dir, 'junit.xml'), 'utf8'),
      html: readFileSync(join(dir, 'index.html'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const withLatencySlo = (overrides: Partial<ResolvedScenario> = {}) =>
  fakeScenario({ slos: [...fakeScenario().slos, LATENCY_SLO], ...overrides });

describe('engine: inconclusive verdicts when the instrument was degraded', function () {
  this.timeout(60_000);

  it('a breach the degraded instrument explains is inconclusive: exit 5, results, JUnit skipped, HTML', async () => {
    const world = new FakeWorld();
    // Every second: 400 ms against p(95) < 250ms, while the control path that bypasses the mesh takes 120 ms.
    world.loadShape = () => ({ latencyMs: 400, controlMs: 120 });
    const { exitCode, results, junit, html } = await runAndReport(world, withLatencySlo());
    expect(exitCode).to.equal(EXIT_CODES.inconclusive);
    expect(results.verdict.outcome).to.equal('inconclusive');
    expect(results.verdict.failures).to.deep.equal([]);
    expect(results.verdict.counts.inconclusive).to.equal(1);
    const steady = results.scenarios[0]?.assertions.find((a) => a.id === 'steady-state:slo:p(95) < 250ms');
    expect(steady).to.include({ passed: false, inconclusive: true });
    expect(steady?.message).to.match(
      /INCONCLUSIVE .*instrument degraded in \d+ of \d+ s; control path up to 120 ms/,
    );
    const window = results.scenarios[0]?.sloWindows.find((w) => w.window === 'steady-state');
    expect(window?.results.find((r) => r.source === LATENCY_SLO.source)?.inconclusive).to.be.a('string');
    // The steady state did not stop the drill: the fault was injected and recovery judged, inconclusive too.
    const recover = results.scenarios[0]?.assertions.find((a) => a.id === 'recover');
    expect(recover, 'recover assertion').to.include({ inconclusive: true });
    expect(junit).to.match(
      /<skipped message="inconclusive: INCONCLUSIVE — p\(95\) &lt; 250ms over the steady-state/,
    );
    expect(junit).to.not.include('<failure');
    expect(html).to.include('What could not be decided');
    expect(html).to.include('badge unsure');
  });

  it('the same breach in a clean window fails: exit 1, a JUnit failure', async () => {
    const world = new FakeWorld();
    world.loadShape = () => ({ latencyMs: 400, controlMs: 1 });
    const { exitCode, results, junit, html } = await runAndReport(world, withLatencySlo());
    expect(exitCode).to.equal(EXIT_CODES.assertionFailed);
    expect(results.verdict.outcome).to.equal('failed');
    const steady = results.scenarios[0]?.assertions.find((a) => a.id === 'steady-state:slo:p(95) < 250ms');
    expect(steady).to.include({ passed: false, inconclusive: false });
    expect(junit).to.match(/<failure message="p\(95\) &lt; 250ms over the steady-state window/);
    expect(html).to.not.include('What could not be decided');
  });

  it('a breach far beyond what the degradation explains fails', async () => {
    const world = new FakeWorld();
    // 3 s against 250 ms: three times the 120 ms control path explains 360 ms of it, not the rest.
    world.loadShape = () => ({ latencyMs: 3000, controlMs: 120 });
    const { exitCode, results } = await runAndReport(world, withLatencySlo());
    expect(exitCode).to.equal(EXIT_CODES.assertionFailed);
    expect(results.verdict.counts.inconclusive).to.equal(0);
  });

  it('negative control: a "no recovery" the degraded instrument may have caused is inconclusive', async () => {
    const world = new FakeWorld();
    // Healthy: fast, clean instrument. Broken (the fault stays: empty runbook): slow, with a slow control path.
    world.loadShape = (_s, broken) =>
      broken ? { latencyMs: 400, controlMs: 120 } : { latencyMs: 10, controlMs: 1 };
    const scenario = fakeScenario({
      slos: [LATENCY_SLO],
      variants: [{ name: 'empty-runbook', runbook: null, expect: 'no-recovery' }],
    });
    const { exitCode, results } = await runAndReport(world, scenario);
    expect(exitCode).to.equal(EXIT_CODES.inconclusive);
    const control = results.scenarios[0]?.assertions.find((a) => a.id === 'recover:negative-control');
    expect(control).to.include({ passed: false, inconclusive: true });
    expect(control?.message).to.match(/with the instrument's part taken off the seconds it explains/);
  });

  it('negative control: a breach the instrument cannot explain still proves no recovery', async () => {
    const world = new FakeWorld();
    world.loadShape = (_s, broken) =>
      broken ? { latencyMs: 3000, controlMs: 120 } : { latencyMs: 10, controlMs: 1 };
    const scenario = fakeScenario({
      slos: [LATENCY_SLO],
      variants: [{ name: 'empty-runbook', runbook: null, expect: 'no-recovery' }],
    });
    const { exitCode, results } = await runAndReport(world, scenario);
    expect(exitCode).to.equal(EXIT_CODES.passed);
    const control = results.scenarios[0]?.assertions.find((a) => a.id === 'recover:negative-control');
    expect(control).to.include({ passed: true, inconclusive: false });
  });

  /** A world whose runbook hangs, so the remediate phase runs past its (short) deadline. */
  function hangingRunbook(controlMs: number): { world: FakeWorld; scenario: ResolvedScenario } {
    const world = new FakeWorld();
    world.loadShape = () => ({ latencyMs: 10, controlMs });
    const connect = world.connect.bind(world);
    world.connect = () => ({ ...connect(), runbooks: { run: () => new Promise(() => undefined) } });
    const scenario = fakeScenario();
    scenario.timeouts.remediate = 3000;
    return { world, scenario };
  }

  it('a phase that overran its deadline while the instrument was starved is inconclusive, not timed out', async () => {
    const { world, scenario } = hangingRunbook(120);
    const { exitCode, results } = await runAndReport(world, scenario);
    expect(exitCode).to.equal(EXIT_CODES.inconclusive);
    expect(results.scenarios[0]?.outcome).to.equal('inconclusive');
    const overrun = results.scenarios[0]?.assertions.find((a) => a.id === 'phase:remediate');
    expect(overrun).to.include({ passed: false, inconclusive: true });
    expect(overrun?.message).to.match(
      /^INCONCLUSIVE — phase "remediate" did not finish within its deadline of 3000 ms .*; but instrument degraded in \d+ of \d+ s; control path up to 120 ms/,
    );
    expect(world.broken, 'the fault is still removed at cleanup').to.equal(false);
  });

  it('the same overrun with a clean instrument stays a time-out (the control)', async () => {
    const { world, scenario } = hangingRunbook(1);
    const { exitCode, results } = await runAndReport(world, scenario);
    expect(results.scenarios[0]?.outcome).to.equal('timed-out');
    expect(exitCode).to.equal(EXIT_CODES.assertionFailed);
    expect(results.scenarios[0]?.assertions.find((a) => a.id === 'phase:remediate')).to.equal(undefined);
  });
});
