// `meshdrill run PATH…`: validate everything first (nothing runs if anything is wrong), then the suite on the
// chosen target, then the reports; the exit code is decided by the engine's outcome.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkIstioVersions, controlPlaneOf, createTarget, planTarget } from '../../../clusters/index.js';
import type { Target } from '../../../clusters/target.js';
import { writeReports } from '../../../reports/index.js';
import { decideParallelism, findSideBySideClashes, runSuite } from '../../engine/index.js';
import { planScenarios } from '../../engine/plan.js';
import { describeSuiteShard, type SuiteResult, suiteShard } from '../../engine/run-suite.js';
import { restrictToShard } from '../../engine/shard.js';
import { holdDirectory, releaseDirectory } from '../../exec/index.js';
import { createJournal, createRunId } from '../../journal/index.js';
import { EXIT_CODES, invalidInput } from '../../model/errors.js';
import { clusterNeedsOf, type ResolvedScenario } from '../../model/index.js';
import { formatProblem, loadScenarios, meshVariablesFor } from '../../scenario/index.js';
import type { CliArgs } from '../args.js';
import { installInterruptHandlers, untilStopped } from '../interrupts.js';
import { formatPlan } from '../plan-format.js';
import { createProgress } from '../progress.js';
import { MESHDRILL_VERSION } from '../version.js';
import { connectPorts } from '../wiring.js';

export async function runCommand(args: CliArgs, argv: string[]): Promise<number> {
  if (args.positionals.length === 0) {
    throw invalidInput('run: expected scenario files or directories, e.g. meshdrill run scenarios/');
  }
  const { scenarios, problems, warnings } = await loadScenarios(args.positionals, {
    target: args.target,
    mesh: meshVariablesFor(controlPlaneOf(args.targetOpts)),
    ...(args.runbook ? { runbookOverride: resolve(args.runbook) } : {}),
  });
  for (const w of warnings) console.error(formatProblem(w));
  if (problems.length > 0) {
    for (const p of problems) console.error(formatProblem(p));
    console.error(`\n${problems.length} problem(s) found; nothing was run.`);
    return EXIT_CODES.invalidInput;
  }
  // auto may choose more than one: drills that would clash side by side are refused as for --parallel N.
  if (args.parallel === 'auto' || args.parallel > 1) {
    const clashes = findSideBySideClashes(
      scenarios
        .filter((s) => s.isolation === 'namespace')
        .map((s) => ({ name: s.name, file: s.file, namespace: s.namespace, host: s.load.host })),
    );
    if (clashes.length > 0) {
      for (const line of clashes) console.error(line);
      console.error(`\n${clashes.length} problem(s) found; nothing was run.`);
      return EXIT_CODES.invalidInput;
    }
  }
  checkIstioVersions(args.target, args.istio);
  const versions = args.istio.length > 0 ? args.istio : [undefined];
  if (args.dryRun) return printPlan(args, scenarios, versions);
  let worst: number = EXIT_CODES.passed;
  for (const istioVersion of versions) {
    const runId = createRunId();
    const base = args.out ? resolve(args.out) : resolve('runs', runId);
    const outDir = versions.length > 1 ? join(base, `istio-${istioVersion}`) : base;
    const code = await runOnce(args, argv, scenarios, {
      runId,
      outDir,
      ...(istioVersion ? { istioVersion } : {}),
    });
    worst = worseExitCode(worst, code);
  }
  if (versions.length > 1) {
    const [first, second] = versions;
    console.log(
      `\ncompare the versions: meshdrill compare ${join(args.out ?? 'runs/<run-id>', `istio-${first}`)} ${join(args.out ?? 'runs/<run-id>', `istio-${second}`)}`,
    );
  }
  return worst;
}

/** The exit code of two runs together: an interrupt wins (the user stopped it), else the higher code. */
function worseExitCode(a: number, b: number): number {
  if (a === EXIT_CODES.interrupted || b === EXIT_CODES.interrupted) return EXIT_CODES.interrupted;
  return Math.max(a, b);
}

/**
 * `--dry-run`: per Istio version, the target's plan and each drill's, printed; nothing is created, applied or
 * written (no run directory). Tools and the cluster are only asked what they are and what they hold.
 */
async function printPlan(
  args: CliArgs,
  suite: ResolvedScenario[],
  versions: readonly (string | undefined)[],
): Promise<number> {
  const shard = args.shard ? suiteShard(suite, args.shard, args.repeat) : undefined;
  if (shard) console.log(describeSuiteShard(shard));
  const scenarios = shard ? restrictToShard(suite, shard) : suite;
  const ruleFiles = [...new Set(scenarios.flatMap((s) => s.alertRules))];
  // A shard that gets nothing plans nothing: no target is made for it.
  for (const istioVersion of scenarios.length > 0 ? versions : []) {
    const target = await planTarget(args.target, args.targetOpts, {
      ruleFiles,
      needs: clusterNeedsOf(scenarios),
      ...(istioVersion ? { istioVersion } : {}),
    });
    try {
      const drills = await planScenarios(scenarios, target.kube, {
        ...(args.loadDriver ? { driverOverride: args.loadDriver } : {}),
        ...(target.inClusterLoad ? { inCluster: target.inClusterLoad } : {}),
      });
      console.log(formatPlan([...target.sections, ...drills]));
    } finally {
      await target.dispose();
    }
  }
  console.log('dry run: nothing was created, applied or changed.');
  return EXIT_CODES.passed;
}

type RunPlan = { runId: string; outDir: string; istioVersion?: string };

async function runOnce(
  args: CliArgs,
  argv: string[],
  scenarios: ResolvedScenario[],
  run: RunPlan,
): Promise<number> {
  await mkdir(run.outDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), `meshdrill-${run.runId}-`));
  const journal = createJournal({ path: join(run.outDir, 'journal.jsonl') });
  const target = createTarget(args.target, { workDir, settings: args.targetOpts });
  const removesWorkDir = !args.keepTarget || target.livesWithProcess;
  // Removed below; the lifeline removes it should this process be SIGKILLed first.
  if (removesWorkDir) holdDirectory(workDir);
  const auto =
    args.parallel === 'auto'
      ? decideParallelism(scenarios, {
          repeat: args.repeat,
          ownClusters: target.sibling !== undefined,
          cores: availableParallelism(),
        })
      : undefined;
  const parallel = auto?.parallel ?? (args.parallel === 'auto' ? 1 : args.parallel);
  const mode = args.json ? 'json' : process.stderr.isTTY ? 'tty' : 'plain';
  const progress = createProgress(mode, process.stderr, { interleaved: parallel > 1 });
  journal.subscribe(progress.onEvent);
  const interrupts = installInterruptHandlers({
    onFirst: (sig) =>
      console.error(`\n${sig}: stopping — removing the fault and everything the run created…`),
    onSecond: () => {
      console.error(
        `\nsecond interrupt: cleanup ABANDONED. Objects may remain and a fault may still be active.\n` +
          `Remove them with: meshdrill cleanup --run-id ${run.runId} --context <the target's context>`,
      );
      process.exit(EXIT_CODES.interrupted);
    },
  });
  let suite: SuiteResult;
  try {
    // The engine writes every journal event, run-start included; the CLI only says what ran it.
    suite = await runSuite({
      runId: run.runId,
      journal,
      target,
      scenarios,
      repeat: args.repeat,
      parallel,
      invocation: { meshdrillVersion: MESHDRILL_VERSION, argv },
      ...(auto ? { notes: [auto.explanation] } : {}),
      workDir,
      ruleFiles: [...new Set(scenarios.flatMap((s) => s.alertRules))],
      settings: args.targetOpts,
      interrupt: interrupts.signal,
      keepTarget: args.keepTarget,
      connect: (env, turnDir) => connectPorts(env, turnDir, run.runId, args.loadDriver),
      ...(run.istioVersion ? { istioVersion: run.istioVersion } : {}),
      ...(args.shard ? { shard: args.shard } : {}),
    });
  } finally {
    progress.stop();
    interrupts.dispose();
  }
  await reportRun(run.outDir, suite.exitCode);
  await holdOrTearDown(args, target, suite);
  if (removesWorkDir) {
    await rm(workDir, { recursive: true, force: true });
    releaseDirectory(workDir);
  }
  return suite.exitCode;
}

/** Renders the run's reports from its journal and prints where they are. */
async function reportRun(outDir: string, exitCode: number): Promise<void> {
  const reports = await writeReports(outDir);
  for (const failure of reports.failed)
    console.error(`warning: the ${failure.reporter} reporter failed: ${failure.error}`);
  printSummary(reports.results, outDir, exitCode);
}

/** `--keep-target` on a target that dies with this process: stay in the foreground until Ctrl-C, then stop it. */
async function holdOrTearDown(args: CliArgs, target: Target, suite: SuiteResult): Promise<void> {
  if (!args.keepTarget || !target.livesWithProcess) return;
  // This target cannot outlive the process: keep it by staying in the foreground, as `cluster up` does.
  if (suite.keptEnvironment && suite.exitCode !== EXIT_CODES.interrupted) {
    console.log(
      `the ${target.name} target stays up for inspection: export KUBECONFIG=${suite.keptEnvironment.kubeconfigPath}` +
        `   # Ctrl-C stops it`,
    );
    await untilStopped();
    console.error(`stopping the ${target.name} target…`);
  }
  await target.teardown();
}

function printSummary(
  results: Awaited<ReturnType<typeof writeReports>>['results'],
  outDir: string,
  exitCode: number,
): void {
  const verdict =
    exitCode === EXIT_CODES.passed
      ? 'PASSED'
      : exitCode === EXIT_CODES.assertionFailed
        ? 'FAILED'
        : exitCode === EXIT_CODES.inconclusive
          ? 'INCONCLUSIVE (the instrument was degraded where it judged; see the report)'
          : exitCode === EXIT_CODES.cleanupFailed
            ? 'CLEANUP FAILED'
            : exitCode === EXIT_CODES.interrupted
              ? 'INTERRUPTED'
              : 'ERROR';
  console.log(`\n${verdict} — run ${results.run.runId}`);
  console.log(`report: ${join(outDir, 'index.html')}`);
  console.log(`junit:  ${join(outDir, 'junit.xml')}   results: ${join(outDir, 'results.json')}`);
}
