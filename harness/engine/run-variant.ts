// One execution of a scenario variant through every phase (DESIGN.md "One scenario, end to end"):
// deploy → load → steady state → inject → efficacy + detect → remediate → recover/verify → cleanup.
// Each undo is registered before its setup; the verdict comes from `assertion` events only.

import { formatDuration } from '../util/duration.js';
import { deleteObjects, injectFault, runSetupActions } from '../faults/index.js';
import { labelForRun } from '../kube/index.js';
import { generateManifests } from '../scenario/generate.js';
import type {
  EventOf,
  KubeObject,
  LoadSample,
  Outcome,
  ResolvedScenario,
  ScenarioVariant,
  SloThreshold,
} from '../model/index.js';
import { type ConditionContext, evaluateCondition, waitForCondition } from '../signals/index.js';
import {
  describeDegradation,
  explainedSeconds,
  judgeSlos,
  type SloVerdict,
  correctExplainedSeconds,
} from '../slo/instrument.js';
import { computeRecovery, describeRecovery, type RecoveryInput } from '../slo/recovery.js';
import { formatMeasured } from '../slo/threshold.js';
import {
  applyAll,
  buildNamespace,
  refuseForeignNamespace,
  buildWorkload,
  deleteNamespace,
  waitForDeployments,
  waitForRoute,
} from './deploy.js';
import {
  alertSignalFloors,
  loadWarmupMs,
  paceToPrometheus,
  settleBudgetMs,
  signalFloorMs,
} from './detection-floors.js';
import { Interrupted, PhaseRunner, StopScenario, outcomeOf, sleep } from './phase-runner.js';
import { DEFAULT_TUNING, type EngineContext, type RunbookStepResult } from './ports.js';
import { type RecoveryWatch, watchRecoveryConditions } from './recovery-watch.js';

export interface VariantResult {
  outcome: Outcome;
  /** Set when cleanup of this variant failed. */
  cleanupErrors: string[];
  error?: string;
}

/** Settling never waits longer than this, whatever the signals' look-back (production rules reach hours). */
const MAX_SETTLE_MS = 5 * 60_000;

type AssertionFields = Omit<EventOf<'assertion'>, 't' | 'type' | 'scenario' | 'variant'>;

export async function runVariant(
  ctx: EngineContext,
  written: ResolvedScenario,
  variant: ScenarioVariant,
  iteration: number,
): Promise<VariantResult> {
  // Polls paced to what the target's Prometheus can show (no timing readable: as written).
  const timing = await ctx.prometheus.ruleTiming(ctx.interrupt).catch(() => undefined);
  const scenario = paceToPrometheus(written, timing);
  const tuning = { ...DEFAULT_TUNING, ...ctx.tuning };
  const scope = { scenario: scenario.name, variant: variant.name };
  const { journal } = ctx;
  const runner = new PhaseRunner(journal, scope, ctx.interrupt);
  const t = scenario.timeouts;
  const samples: LoadSample[] = [];
  let failed = false;
  let inconclusive = false;
  const assert = (a: AssertionFields): void => {
    if (!a.passed && !a.informational) {
      if (a.inconclusive) inconclusive = true;
      else failed = true;
    }
    journal.append({ type: 'assertion', ...scope, ...a });
  };
  const conditionCtx = (signal: AbortSignal): ConditionContext => ({
    kube: ctx.kube,
    prometheus: ctx.prometheus,
    ingressUrl: ctx.ingressUrl,
    runCommand: ctx.runCommand,
    ...(ctx.notifications ? { notifications: ctx.notifications } : {}),
    since: started,
    signal,
  });

  const started = Date.now();
  const {
    floors,
    lookbacks,
    problems: floorProblems,
  } = await alertSignalFloors(scenario, ctx.prometheus, ctx.interrupt, ctx.notifications?.routingDelayMs);
  for (const problem of floorProblems)
    journal.append({ type: 'log', level: 'warn', message: problem, scenario: scenario.name });
  journal.append({
    type: 'scenario-start',
    ...scope,
    title: scenario.title,
    file: scenario.file,
    iteration,
    expect: variant.expect,
    faultKind: scenario.fault.kind,
    slos: scenario.slos,
    signals: scenario.signals.map((s) => {
      const floorMs = signalFloorMs(s, floors, ctx.notifications?.routingDelayMs);
      return {
        name: s.name,
        kind: s.kind,
        withinMs: s.withinMs,
        ...(floorMs === undefined ? {} : { floorMs }),
        ...(s.informational ? { informational: true } : {}),
      };
    }),
    recovery: {
      budgetMs: scenario.recovery.budgetMs,
      verifyMs: scenario.recovery.verifyMs,
      ...(scenario.recovery.conditions.length === 0
        ? {}
        : { conditions: scenario.recovery.conditions.map((c) => ({ name: c.name, kind: c.kind })) }),
    },
    ...(scenario.duringFault.slos === 'hold' ? { duringFault: { slos: 'hold' as const } } : {}),
    timeScale: scenario.timeScale,
  });

  let outcome: Outcome = 'passed';
  let error: string | undefined;
  try {
    // deploy
    // Deleted only once claimed: a namespace the drill refused to take over is never touched.
    let namespaceClaimed = false;
    runner.onCleanup('delete the workload namespace', async () => {
      if (namespaceClaimed)
        await deleteNamespace(ctx.kube, scenario.namespace, tuning.namespaceDeleteTimeoutMs);
    });
    // Generated objects (a plug-in CA made for this variant) and setup actions prepare the cluster the workload
    // runs on; at cleanup the generated objects go and setup runs again, so restarted components leave them.
    const faultCtx = (signal?: AbortSignal) => ({
      kube: ctx.kube,
      runId: ctx.runId,
      scenario: scenario.name,
      defaultNamespace: scenario.namespace,
      ...(signal ? { signal } : {}),
    });
    let generated: KubeObject[] = [];
    runner.onCleanup('remove generated objects and re-run workload setup', async () => {
      if (generated.length === 0) return;
      await deleteObjects(ctx.kube, generated);
      await runSetupActions(scenario.workload.setup ?? [], faultCtx(), { timeoutMs: t.cleanup / 2 });
    });
    await runner.phase('deploy', t.deploy, async (signal) => {
      await refuseForeignNamespace(ctx.kube, scenario);
      namespaceClaimed = true;
      await ctx.kube.apply(buildNamespace(scenario, ctx.runId));
      generated = (await generateManifests(scenario.workload.generate ?? [])).map((o) =>
        labelForRun(o, ctx.runId, scenario.name),
      );
      const applyOptions = {
        signal,
        retryPollMs: tuning.deployPollMs,
        onWebhookWait: (object: string, error: Error) =>
          journal.append({
            type: 'log',
            level: 'warn',
            scenario: scenario.name,
            message: `deploy: ${object} waits for an admission webhook the API server cannot reach yet (${error.message}); retrying until the deploy deadline`,
          }),
      };
      await applyAll(ctx.kube, generated, applyOptions);
      await runSetupActions(scenario.workload.setup ?? [], faultCtx(signal), {
        timeoutMs: scenario.workload.readyTimeoutMs,
        signal,
      });
      await applyAll(ctx.kube, buildWorkload(scenario, ctx.runId), applyOptions);
      await waitForDeployments(ctx.kube, scenario.namespace, signal, tuning.deployPollMs);
      const first = scenario.load.requests[0];
      if (first && !tuning.skipRouteWait) {
        await waitForRoute(ctx.ingressUrl, first.path, scenario.load.host, signal, tuning.deployPollMs);
      }
    });

    // load: runs for the rest of the variant; stopped at cleanup.
    let stopLoad: (() => Promise<unknown>) | undefined;
    runner.onCleanup('stop the load', async () => {
      await stopLoad?.();
    });
    // The load phase starts the load, then settles; its deadline grows by the settle budget.
    const settleMs = settleBudgetMs(scenario, lookbacks, MAX_SETTLE_MS);
    const warmupMs = loadWarmupMs(scenario);
    await runner.phase('load', t.load + Math.max(settleMs, warmupMs), async (signal) => {
      const driver = ctx.loadDriver(scenario.load.driver);
      const run = await driver.start(scenario.load, ctx.ingressUrl, (sample) => {
        samples.push(sample);
        journal.append({ type: 'load-sample', ...scope, sample });
      });
      stopLoad = () => run.stop();
      // Warm up, then settle: rate windows must first cover load-time data only (loadWarmupMs), and signals
      // over them may still see an earlier variant's fault (same workload, same series). The steady-state
      // window starts once the warm-up is over and every signal is quiet, or after the settle budget — a
      // signal still firing then is judged a false positive by the steady-state phase.
      const loadStarted = Date.now();
      const settleUntil = loadStarted + Math.max(settleMs, warmupMs);
      await sleep(Math.min(warmupMs, settleUntil - Date.now()), signal);
      while (Date.now() < settleUntil) {
        let anyFiring = false;
        for (const s of scenario.signals) {
          if ((await evaluateCondition(s, conditionCtx(signal))).fired) {
            anyFiring = true;
            break;
          }
        }
        if (!anyFiring) break;
        await sleep(Math.min(1000, Math.max(0, settleUntil - Date.now())), signal);
      }
    });

    // steady state: the SLOs must hold and no signal may fire (a firing signal now is a false positive).
    const steadyFrom = Date.now();
    await runner.phase('steady-state', t['steady-state'], async (signal) => {
      const end = steadyFrom + scenario.steadyState.durationMs;
      const falsePositives = new Map<string, string>();
      const pollMs = Math.max(250, Math.min(...scenario.signals.map((s) => s.pollMs), 5000));
      while (Date.now() < end) {
        for (const s of scenario.signals) {
          if (falsePositives.has(s.name)) continue;
          const result = await evaluateCondition(s, conditionCtx(signal));
          if (result.fired) falsePositives.set(s.name, result.evidence);
        }
        await sleep(Math.max(0, Math.min(pollMs, end - Date.now())), signal);
      }
      // Let the last second's sample arrive before judging the window.
      await sleep(1100, signal);
      const results = judgeSlos(scenario.slos, samples, steadyFrom, end);
      journal.append({
        type: 'slo-window',
        ...scope,
        window: 'steady-state',
        from: steadyFrom,
        to: end,
        results,
      });
      for (const [i, r] of results.entries()) {
        const slo = scenario.slos[i];
        assert({
          id: `steady-state:slo:${r.source}`,
          name: `steady state holds ${r.source}`,
          ...verdictFields(r),
          message: withEvidence(
            r,
            `${r.source} over the steady-state window: measured ${slo ? formatMeasured(slo, r.measured) : r.measured}`,
          ),
          measured: r.measured,
        });
      }
      for (const s of scenario.signals) {
        const evidence = falsePositives.get(s.name);
        journal.append({
          type: 'condition',
          ...scope,
          role: 'false-positive-check',
          name: s.name,
          kind: s.kind,
          fired: evidence !== undefined,
          budgetMs: scenario.steadyState.durationMs,
          evidence: evidence ?? 'quiet during steady state',
        });
        assert({
          id: `steady-state:quiet:${s.name}`,
          name: `signal ${s.name} stays quiet before the fault`,
          passed: evidence === undefined,
          message:
            evidence === undefined ? 'no false positive' : `FALSE POSITIVE before any fault: ${evidence}`,
          ...(s.informational ? { informational: true } : {}),
        });
      }
      if (failed) throw new StopScenario('steady state did not hold; the fault was not injected');
    });

    // inject: the undo is registered first, so removal is unconditional.
    let revert: (() => Promise<void>) | undefined;
    runner.onCleanup('remove the fault', async () => {
      if (!revert) return;
      try {
        await revert();
        journal.append({ type: 'fault-removed', ...scope, description: 'fault removed', ok: true });
      } catch (e) {
        journal.append({
          type: 'fault-removed',
          ...scope,
          description: 'fault removal failed',
          ok: false,
          error: String(e),
        });
        throw e;
      }
    });
    let injectedAt = 0;
    await runner.phase('inject', t.inject, async (signal) => {
      injectedAt = Date.now();
      const fault = await injectFault(scenario.fault, faultCtx(signal));
      // A fault that waits for its moment (a certificate running out) says when it began.
      if (fault.injectedAt !== undefined) injectedAt = fault.injectedAt;
      revert = fault.revert;
      journal.append({
        type: 'fault-injected',
        ...scope,
        kind: scenario.fault.kind,
        description: fault.description,
        objects: fault.objects,
      });
    });

    // efficacy and detection are watched together from the injection time; each has its own budget.
    const watchAll = async (
      role: 'efficacy' | 'signal',
      items: typeof scenario.signals,
      signal: AbortSignal,
    ): Promise<boolean[]> =>
      Promise.all(
        items.map(async (item) => {
          const outcome = await waitForCondition(item, conditionCtx(signal), {
            origin: injectedAt,
            withinMs: item.withinMs,
            pollMs: item.pollMs,
          });
          journal.append({
            type: 'condition',
            ...scope,
            role,
            name: item.name,
            kind: item.kind,
            fired: outcome.fired,
            ...(outcome.afterMs === undefined ? {} : { afterMs: outcome.afterMs }),
            budgetMs: item.withinMs,
            evidence: outcome.evidence,
          });
          const label = role === 'efficacy' ? 'efficacy' : 'detect';
          assert({
            id: `${label}:${item.name}`,
            name:
              role === 'efficacy'
                ? `the fault bit: ${item.name}`
                : `signal ${item.name} fires within ${formatDuration(item.withinMs)}`,
            passed: outcome.fired,
            message: outcome.fired
              ? `fired after ${formatDuration(outcome.afterMs ?? 0)} (budget ${formatDuration(item.withinMs)}): ${outcome.evidence}`
              : `did not fire within ${formatDuration(item.withinMs)}; last observation: ${outcome.evidence}`,
            ...(outcome.afterMs === undefined ? {} : { measured: outcome.afterMs }),
            limit: item.withinMs,
            ...('informational' in item && item.informational ? { informational: true } : {}),
          });
          return outcome.fired;
        }),
      );
    const efficacyDone = runner.phase('efficacy', t.efficacy, async (signal) => {
      const fired = await watchAll('efficacy', scenario.efficacy, signal);
      if (fired.includes(false))
        throw new StopScenario('the fault did not take effect; detection and recovery would prove nothing');
    });
    const detectDone = runner.phase('detect', t.detect, (signal) =>
      watchAll('signal', scenario.signals, signal),
    );
    const [efficacy, detect] = await Promise.allSettled([efficacyDone, detectDone]);
    for (const settled of [efficacy, detect]) if (settled.status === 'rejected') throw settled.reason;

    // remediate: the runbook as written (or nothing, for an empty-runbook negative control).
    const duringFaultTo = Date.now();
    // An asserted window is judged on complete data: the sample of its last second arrives after that second.
    if (scenario.duringFault.slos === 'hold') await waitForSample(samples, duringFaultTo, ctx.interrupt);
    const duringFault = judgeSlos(scenario.slos, samples, injectedAt, duringFaultTo);
    journal.append({
      type: 'slo-window',
      ...scope,
      window: 'during-fault',
      from: injectedAt,
      to: duringFaultTo,
      results: duringFault,
    });
    // duringFault: { slos: hold } — the fault must not break the SLOs (a data plane that rides out a control-plane
    // outage). Judged like steady state, over injection → runbook start; negative controls share the fault.
    if (scenario.duringFault.slos === 'hold') {
      const window = `the during-fault window (${formatDuration(duringFaultTo - injectedAt)} from injection to the runbook)`;
      for (const [i, r] of duringFault.entries()) {
        const slo = scenario.slos[i];
        assert({
          id: `during-fault:slo:${r.source}`,
          name: `SLO holds during the fault: ${r.source}`,
          ...verdictFields(r),
          message: Number.isNaN(r.measured)
            ? `${r.source}: no load data over ${window}, so it cannot show the SLO held`
            : withEvidence(
                r,
                `${r.source} over ${window}: measured ${slo ? formatMeasured(slo, r.measured) : r.measured}`,
              ),
          measured: r.measured,
        });
      }
    }
    const remediationStart = Date.now();
    const steps: RunbookStepResult[] = [];
    // Recovery conditions are polled from the runbook's start (a verification window may start then) until the
    // recover phase has decided; the watch's teardown is registered before it starts.
    let watch: RecoveryWatch | undefined;
    runner.onCleanup('stop watching the recovery conditions', async () => {
      await watch?.stop();
    });
    const { conditions } = scenario.recovery;
    if (conditions.length > 0) {
      watch = watchRecoveryConditions(
        conditions,
        (c, signal) => evaluateCondition(c, conditionCtx(signal)),
        (c, observation) =>
          journal.append({
            type: 'condition',
            ...scope,
            role: 'recovery',
            name: c.name,
            kind: c.kind,
            fired: observation.fired,
            afterMs: observation.t - injectedAt,
            observedAt: observation.t,
            budgetMs: scenario.recovery.budgetMs,
            evidence: observation.evidence,
          }),
        ctx.interrupt,
      );
    }
    await runner.phase('remediate', t.remediate, async (signal) => {
      if (!variant.runbook) return;
      await ctx.runbooks.run(variant.runbook, {
        signal,
        stepTimeoutMs: tuning.runbookStepTimeoutMs,
        onStepStart: () => undefined,
        onStepEnd: (result) => {
          steps.push(result);
          journal.append({ type: 'runbook-step', ...scope, ...result });
        },
      });
    });

    // recover: the SLOs must hold for a whole verification window, starting within the budget.
    const { budgetMs, verifyMs } = scenario.recovery;
    const recoveryInput = (): RecoveryInput => ({
      slos: scenario.slos,
      samples,
      injectedAt,
      ...(steps[0] ? { runbookStartedAt: steps[0].startedAt } : {}),
      searchFrom: remediationStart,
      verifyMs,
      deadline: remediationStart + budgetMs,
      steps,
      conditions: watch?.observed ?? [],
    });
    let outcome = computeRecovery(recoveryInput());
    await runner.phase('recover', t.recover, async (signal) => {
      // Poll until a window holds or every window starting within the budget has been observed. A negative
      // control that never recovers waits out the whole budget: that wait is its evidence.
      for (let i = 0; i < 100_000; i++) {
        outcome = computeRecovery(recoveryInput());
        if (outcome.recovered || outcome.reason === 'never-within-budget') return;
        await sleep(tuning.recoverPollMs, signal);
      }
    });
    await watch?.stop();
    // A second look with the seconds the instrument explains corrected: where it decides otherwise, the
    // instrument, not the mesh, may have decided the first (judgeRecovery makes that inconclusive).
    const input = recoveryInput();
    const aside = computeRecovery({ ...input, samples: correctExplainedSeconds(scenario.slos, samples) });
    const instrumentDecides = !outcome.recovered && aside.recovered;
    const recovered = outcome.recovered;
    const describeContext = {
      verifyMs,
      budgetMs,
      conditions: conditions.map((c) => c.name),
      remediationStart,
    };
    const how = describeRecovery(outcome, describeContext);
    const recoveredAt = outcome.recovered ? outcome.at : undefined;
    const windowFrom = recoveredAt ?? remediationStart;
    const windowTo = recoveredAt !== undefined ? recoveredAt + verifyMs : Date.now();
    await waitForSample(samples, windowTo, ctx.interrupt);
    journal.append({
      type: 'slo-window',
      ...scope,
      window: 'after-recovery',
      from: windowFrom,
      to: windowTo,
      results: judgeSlos(scenario.slos, samples, windowFrom, windowTo),
    });
    journalStepWindows(journal, scope, scenario.slos, samples, steps, windowTo);
    journal.append({
      type: 'recovery',
      ...scope,
      recovered,
      ...(outcome.recovered
        ? {
            fromInjectionMs: outcome.fromInjectionMs,
            fromRunbookStartMs: outcome.at - remediationStart,
          }
        : {}),
      // An SLO that held throughout the fault was not restored by anything: no step gets the credit.
      restoredBy: outcome.restoredBy.map((r, i) => ({
        source: r.source,
        step: r.step === null || duringFault[i]?.passed ? null : (steps[r.step]?.index ?? r.step),
      })),
      ...(outcome.recovered ? {} : { reason: how }),
    });
    const secondLook = instrumentDecides
      ? describeSecondLook(scenario.slos, samples, remediationStart, describeRecovery(aside, describeContext))
      : undefined;
    judgeRecovery(assert, variant, {
      how,
      recoveredAt,
      remediationStart,
      budgetMs,
      hasConditions: conditions.length > 0,
      ...(secondLook === undefined ? {} : { secondLook }),
    });
  } catch (caught) {
    outcome = outcomeOf(caught);
    if (caught instanceof StopScenario) outcome = 'failed';
    if (!(caught instanceof StopScenario)) error = caught instanceof Error ? caught.message : String(caught);
    if (caught instanceof Interrupted || ctx.interrupt.aborted) outcome = 'interrupted';
  }

  const cleanup = await runner.cleanup(t.cleanup);
  if (outcome === 'passed' && failed) outcome = 'failed';
  else if (outcome === 'passed' && inconclusive) outcome = 'inconclusive';
  if (!cleanup.ok && (outcome === 'passed' || outcome === 'failed')) outcome = 'cleanup-failed';
  journal.append({ type: 'scenario-end', ...scope, outcome, durationMs: Date.now() - started });
  return { outcome, cleanupErrors: cleanup.errors, ...(error ? { error } : {}) };
}

/** Waits (at most a little over a second) until the sample of the second holding `until` has arrived. */
async function waitForSample(
  samples: readonly LoadSample[],
  until: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 1500;
  while (Date.now() < deadline && !samples.some((s) => s.t + 1000 >= until)) await sleep(50, signal);
}

/** What the recovery verdict is built from. */
interface RecoveryJudgement {
  /** What held or what blocked (describeRecovery). */
  how: string;
  /** Set when the variant recovered. */
  recoveredAt: number | undefined;
  remediationStart: number;
  budgetMs: number;
  hasConditions: boolean;
  /**
   * Set when the SLOs did not recover as judged, but did with the seconds the instrument explains set aside: the
   * instrument may have decided the outcome, so neither "recovered" nor "did not" can be claimed.
   */
  secondLook?: string;
}

function judgeRecovery(
  assert: (a: AssertionFields) => void,
  variant: ScenarioVariant,
  j: RecoveryJudgement,
): void {
  const recovered = j.recoveredAt !== undefined;
  const what = j.hasConditions ? 'the SLOs and the recovery conditions' : 'the SLOs';
  const ttr = j.recoveredAt === undefined ? undefined : j.recoveredAt - j.remediationStart;
  const measured = ttr === undefined ? {} : { measured: ttr };
  const unsure =
    j.secondLook === undefined
      ? {}
      : { inconclusive: true, message: `INCONCLUSIVE — ${j.how}; but ${j.secondLook}` };
  if (variant.expect === 'recovery') {
    assert({
      id: 'recover',
      name: `the runbook restores ${what} within budget`,
      passed: recovered,
      message: j.how,
      ...measured,
      limit: j.budgetMs,
      ...unsure,
    });
  } else if (variant.expect === 'no-recovery') {
    assert({
      id: 'recover:negative-control',
      name: 'negative control: no recovery without the real fix',
      passed: !recovered && j.secondLook === undefined,
      message: recovered
        ? `NEGATIVE CONTROL RECOVERED — the recovery assertion cannot fail as configured (${j.how}); fix the scenario's SLOs${j.hasConditions ? ', recovery conditions' : ''}, fault or budget`
        : `as expected, no recovery: ${j.how}`,
      ...measured,
      limit: j.budgetMs,
      ...unsure,
    });
  } else {
    assert({
      id: 'recover',
      name: 'recovery (measured, not asserted)',
      passed: recovered,
      informational: true,
      message: j.how,
      ...measured,
      limit: j.budgetMs,
    });
  }
}

/** An SLO verdict as assertion fields: passed, or inconclusive with the instrument's evidence. */
function verdictFields(r: SloVerdict): { passed: boolean; inconclusive?: true } {
  return r.inconclusive === undefined ? { passed: r.passed } : { passed: false, inconclusive: true };
}

/** The assertion message, with the instrument's evidence when the verdict is inconclusive. */
function withEvidence(r: SloVerdict, message: string): string {
  return r.inconclusive === undefined ? message : `INCONCLUSIVE — ${message}; ${r.inconclusive}`;
}

/** The second look at recovery in words: what the instrument went through, and what recovery then shows. */
function describeSecondLook(
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
  from: number,
  recovery: string,
): string {
  const after = samples.filter((s) => s.t >= from);
  return `with the instrument's part taken off the seconds it explains (${describeDegradation(after, explainedSeconds(slos, after))}): ${recovery}`;
}

/**
 * The SLOs after each runbook step, as the report shows them: over the last SETTLED_SECONDS seconds before the
 * next step started (or the recovery was decided) — the state the step settled into, not its transition.
 */
const SETTLED_SECONDS = 5;
function journalStepWindows(
  journal: EngineContext['journal'],
  scope: { scenario: string; variant: string },
  slos: readonly SloThreshold[],
  samples: readonly LoadSample[],
  steps: readonly RunbookStepResult[],
  decidedAt: number,
): void {
  const ordered = [...steps].sort((a, b) => a.startedAt - b.startedAt);
  ordered.forEach((step, i) => {
    const ended = step.startedAt + step.durationMs;
    const until = Math.max(ended, ordered[i + 1]?.startedAt ?? decidedAt);
    const seconds = samples.filter((s) => s.t < until && s.t + 1000 > ended);
    const settled = seconds.slice(-SETTLED_SECONDS);
    // A step followed at once by the next gets the first second after it.
    const first = settled[0] ?? samples.find((s) => s.t >= ended);
    if (first === undefined) return;
    const last = settled[settled.length - 1] ?? first;
    journal.append({
      type: 'slo-window',
      ...scope,
      window: 'after-step',
      step: step.index,
      from: first.t,
      to: last.t + 1000,
      results: judgeSlos(slos, samples, first.t, last.t + 1000),
    });
  });
}
