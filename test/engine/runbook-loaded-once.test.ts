// A runbook is read once, when its scenario is loaded: the steps (bound with the scenario's variables) travel in
// the ResolvedScenario and the drill runs those. Changing or deleting the file after the load changes nothing
// the drill does; the negative controls show that a port reading the file at run time (as it once did) would
// have run the changed file, or failed mid-drill on the deleted one.

import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RunbookPort } from '../../harness/engine/index.js';
import {
  EXIT_CODES,
  type EventOf,
  type JournalEvent,
  type ResolvedScenario,
} from '../../harness/model/index.js';
import { bindRunbookSteps, parseRunbook } from '../../harness/runbook/index.js';
import { loadScenarios } from '../../harness/scenario/index.js';
import { FakeWorld, fakeScenario, runOnWorld } from '../support/fake-world.js';

const FIX = '# Fix\n\n## Remove the fault\n\n```bash\nkubectl delete podchaos --all -n <namespace>\n```\n';
const NOOP = '# Changed since\n\n```bash\necho nothing to see\n```\n';

const SCENARIO = `apiVersion: meshdrill.io/v1alpha1
kind: Scenario
metadata: { name: fake-outage }
spec:
  workload:
    namespace: md-fake
    manifests:
      - inline: { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { replicas: 1 } }
  load: { rate: 20 }
  slos: ["success_rate >= 99%"]
  fault:
    kind: chaos-mesh
    manifest:
      inline: { apiVersion: chaos-mesh.org/v1alpha1, kind: PodChaos, metadata: { name: kill-web }, spec: {} }
  runbook:
    path: runbooks/fix.md
    variables: { namespace: md-fake }
  runbookVariants:
    - name: fix-again
      runbook: { path: runbooks/fix.md, variables: { namespace: md-other } }
      expect: measure
  recovery: { budget: 4s }
`;

const stepsRun = (events: readonly JournalEvent[], variant: string) =>
  events
    .filter((e): e is EventOf<'runbook-step'> => e.type === 'runbook-step' && e.variant === variant)
    .map((e) => e.command);

describe('engine: a runbook is read once, when its scenario is loaded', function () {
  this.timeout(90_000);
  let dir: string;
  let runbook: string;

  /** Loads the scenario file (with `--runbook` when given), then the drill's variants on the fake world. */
  async function load(runbookOverride?: string): Promise<ResolvedScenario> {
    const result = await loadScenarios([join(dir, 'scenario.yaml')], {
      target: 'local',
      ...(runbookOverride ? { runbookOverride } : {}),
    });
    expect(result.problems).to.deep.equal([]);
    const [loaded] = result.scenarios;
    if (!loaded) throw new Error('no scenario loaded');
    // The fake world's timings and signals; the runbooks exactly as the loader resolved them.
    return fakeScenario({ variants: loaded.variants });
  }

  /** What the runbook port did before: read the file again at run time, parse it and bind it. */
  const rereading = (world: FakeWorld, variables: Record<string, string>): RunbookPort => ({
    async run(steps, options) {
      const file = steps[0]?.file ?? '';
      const again = bindRunbookSteps(parseRunbook(await readFile(file, 'utf8'), file), variables);
      return FakeWorld.prototype.runbooks.call(world).run(again, options);
    },
  });

  /** The fake world with that port. */
  class RereadingWorld extends FakeWorld {
    constructor(private readonly variables: Record<string, string>) {
      super();
    }
    override runbooks(): RunbookPort {
      return rereading(this, this.variables);
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdrill-runbook-once-'));
    runbook = join(dir, 'runbooks', 'fix.md');
    await mkdir(join(dir, 'runbooks'));
    await writeFile(runbook, FIX);
    await writeFile(join(dir, 'scenario.yaml'), SCENARIO);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("carries each variant's bound steps, read from the file as it was at load time", async () => {
    const scenario = await load();
    await writeFile(runbook, NOOP);
    const [main, variant] = scenario.variants;
    expect(main?.runbook?.steps.map((s) => [s.title, s.body, s.file, s.line])).to.deep.equal([
      ['Remove the fault', 'kubectl delete podchaos --all -n md-fake', runbook, 5],
    ]);
    // One file, bound per variant.
    expect(variant?.runbook?.steps.map((s) => s.body)).to.deep.equal([
      'kubectl delete podchaos --all -n md-other',
    ]);
    // Negative control: the file now says something else, which is what a read at run time would get.
    const now = parseRunbook(await readFile(runbook, 'utf8'), runbook).map((s) => s.body);
    expect(now).to.deep.equal(['echo nothing to see']);
  });

  it('runs the loaded steps after the file changed; a port re-reading the file would have run the change', async () => {
    const scenario = await load();
    await writeFile(runbook, NOOP);

    const world = new FakeWorld();
    const { result, journal } = await runOnWorld(world, [scenario]);
    expect(stepsRun(journal.events, 'main')).to.deep.equal(['kubectl delete podchaos --all -n md-fake']);
    expect(stepsRun(journal.events, 'fix-again')).to.deep.equal([
      'kubectl delete podchaos --all -n md-other',
    ]);
    expect(world.ran).to.not.include('echo nothing to see');
    expect(result.exitCode).to.equal(EXIT_CODES.passed);

    // Negative control: the same drill with the file read again at remediate runs the changed file, and the
    // fault stays: the main variant does not recover.
    const stale = await runOnWorld(new RereadingWorld({ namespace: 'md-fake' }), [scenario]);
    expect(stepsRun(stale.journal.events, 'main')).to.deep.equal(['echo nothing to see']);
    expect(stale.result.exitCode).to.equal(EXIT_CODES.assertionFailed);
  });

  it('runs a deleted runbook (and a deleted --runbook override) as loaded, with no error mid-drill', async () => {
    const override = join(dir, 'under-review.md');
    await writeFile(override, '# Review\n\n```bash\nkubectl -n <namespace> delete podchaos kill-web\n```\n');
    const scenario = await load(override);
    expect(scenario.variants[0]?.runbook?.path).to.equal(override);
    await unlink(override);
    await unlink(runbook);

    const world = new FakeWorld();
    const { result, journal } = await runOnWorld(world, [scenario]);
    expect(stepsRun(journal.events, 'main')).to.deep.equal(['kubectl -n md-fake delete podchaos kill-web']);
    expect(stepsRun(journal.events, 'fix-again')).to.deep.equal([
      'kubectl delete podchaos --all -n md-other',
    ]);
    const remediate = journal.events.filter(
      (e): e is EventOf<'phase-end'> => e.type === 'phase-end' && e.phase === 'remediate',
    );
    expect(remediate.map((e) => e.outcome)).to.deep.equal(['passed', 'passed']);
    expect(result.exitCode).to.equal(EXIT_CODES.passed);

    // Negative control: reading the file at run time, as the port once did, now fails.
    let error: unknown;
    await rereading(new FakeWorld(), {})
      .run(scenario.variants[0]?.runbook?.steps ?? [], {
        signal: new AbortController().signal,
        stepTimeoutMs: 1000,
        onStepStart: () => undefined,
        onStepEnd: () => undefined,
      })
      .catch((e: unknown) => {
        error = e;
      });
    expect((error as NodeJS.ErrnoException | undefined)?.code).to.equal('ENOENT');
  });
});
