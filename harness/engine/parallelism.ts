// `--parallel auto`: how many drills run at once, from the machine's cores and each drill's CPU demand, so the
// machine is never oversubscribed (DESIGN.md: the instrument is not the system under test — a CPU queue shows up as
// the mesh's latency). The demand comes from a small cost model whose constants were measured (DRILL_CPU_COSTS).

import { type KubeObject, type ResolvedScenario, scenarioOfVariant } from '../model/index.js';
import { expectedVariantMs } from './run-suite.js';
import { MAX_PARALLEL } from './limits.js';
import { planTurns, type Turn } from './schedule.js';

export { MAX_PARALLEL };

/**
 * What a drill costs in CPU on the local target — the one place to re-measure as the emulation changes.
 * `bench/drill-costs.bench.ts` measures the constants below on a fresh local target and prints each beside the
 * value held here; `bench/pack-repeat.bench.ts` prints a whole run's CPU-seconds beside what this model predicts
 * for it. Re-measured 2026-12-06 on the 2-core development machine, after the data plane moved to its own
 * HTTP/1.1 codec (CPU is utime + stime from /proc over the measuring process and all its descendants).
 */
export const DRILL_CPU_COSTS = {
  /**
   * CPU-milliseconds per request per proxy on its path (the ingress gateway, then the sidecar of each tier): the
   * proxies' work together with the application behind them, the load generator's share and the kube-proxy
   * stand-in's. drill-costs (shop.yaml's two pods injected, 40 req/s through the gateway for 20–40 s, on an
   * otherwise idle machine): 1.72–2.03 ms over its 2 proxies (5 runs). A whole pack run at 4 drills at once
   * (292 CPU-s, sampled process tree) implies 1.27 ms with the other constants as below: a busier machine spends
   * less per request (fewer idle wake-ups). Held at 1.5: the model then over-predicts that run by 8 %.
   */
  requestHopMs: 1.5,
  /**
   * Cores one injected pod (app + sidecar) takes at idle: readiness probes, xDS, Prometheus scraping it every
   * second. drill-costs: −0.003 to +0.003 a pod (within the noise of a 20–40 s window); held at the upper end.
   */
  podIdleCores: 0.005,
  /**
   * Cores a local cluster takes at idle: API server and controllers (in the harness process), istiod, the gateway,
   * Prometheus at a 1 s scrape. drill-costs: 0.030–0.041.
   */
  clusterIdleCores: 0.04,
  /**
   * CPU-seconds to boot a local cluster of its own (Target.sibling), spread over its turn. drill-costs, a boot
   * after a first one in the same process (container programs are bundled once per process): 0.53.
   */
  clusterBootCpuSeconds: 0.6,
  /**
   * CPU-milliseconds of one PromQL or alert poll: the harness's request and Prometheus answering it. drill-costs
   * (a signal's query as the pack writes them, 20 a second): 1.53 ms, of which the harness's part fell from 2.4 to
   * 0.6 ms when the client stopped using fetch(). A drill polls each of its PromQL and alert conditions every
   * `poll` (scaled: 250 ms at the local scale for the default 1 s) — counted over the whole turn, an upper bound.
   */
  queryCpuMs: 1.5,
  /**
   * The fastest a PromQL or alert condition is polled on the local target: half its Prometheus's 1 s scrape and
   * evaluation interval (paceToPrometheus in detection-floors.ts).
   */
  queryPollFloorMs: 500,
  /**
   * Cores the engine's own work on one running drill takes besides its queries: load samples, SLO windows, the
   * journal, deploys and runbook steps. Measured as a residual, 2026-12-03 (before queries had a term of their own):
   * 7–14 CPU-s over ≈ 230 s of canary-shift's variants, with queries included (≈ 0.03 core of it at today's cost).
   */
  drillEngineCores: 0.02,
  /**
   * CPU-seconds of one run of a `kind: command` recovery condition (sh and kubectl, and the API server answering),
   * polled from the runbook's start to the end of the verification window. Measured: 20 runs each of `printf … |
   * kubectl apply -f -` and `kubectl get pods -A` against a fresh local target: 0.103 and 0.108 CPU-s for the
   * command (getrusage through /usr/bin/time), 0.020 for the cluster's live processes.
   */
  commandRunCpuSeconds: 0.12,
  /**
   * Wall time of one such run: a condition is polled every max(poll, run) (harness/engine/recovery-watch.ts), so
   * this bounds how often. Measured with the runs above: 5.4 and 5.9 s for 20.
   */
  commandRunWallSeconds: 0.28,
  /**
   * The share of the cores drills may plan to use. A judgement from contention, not a cost: with the pack at 60 %
   * of 2 cores on average (peaks at 99 %) steady-state p95 reached 365 ms against SLOs of 250–500 ms, so the plan
   * leaves a fifth for bursts (deploys, boots, a storm's retries) and the rest of the machine.
   */
  utilisation: 0.8,
} as const;

export type DrillCpuCosts = { readonly [K in keyof typeof DRILL_CPU_COSTS]: number };

/** One turn's expected CPU demand while it runs, and what it is made of (for the explanation). */
export interface DrillCost {
  /** scenario, or scenario/variant for a turn on a cluster of its own */
  name: string;
  cores: number;
  /** e.g. "40 req/s through 3 proxies, 5 pods, a cluster of its own" */
  detail: string;
}

export interface ParallelismChoice {
  parallel: number;
  /** One line: the figure and why. */
  explanation: string;
}

/**
 * The most drills that may run at once without planning more CPU than the machine has: the largest N for which
 * the N costliest drills together, beside what is always running (`baseCores`: the shared cluster), fit in
 * `cores × utilisation`. Never below 1 (one drill always runs), never above `max` (what --parallel N allows) nor
 * the number of drills that may run side by side.
 */
export function chooseParallelism(options: {
  cores: number;
  costs: readonly DrillCost[];
  baseCores?: number;
  utilisation?: number;
  max?: number;
}): ParallelismChoice {
  const utilisation = options.utilisation ?? DRILL_CPU_COSTS.utilisation;
  const base = options.baseCores ?? DRILL_CPU_COSTS.clusterIdleCores;
  const max = Math.max(1, Math.min(options.max ?? MAX_PARALLEL, MAX_PARALLEL));
  const cores = Math.max(1, options.cores);
  const budget = cores * utilisation - base;
  const costliest = [...options.costs].sort((a, b) => b.cores - a.cores);
  let parallel = 1;
  let planned = costliest[0]?.cores ?? 0;
  while (parallel < Math.min(max, costliest.length)) {
    const next = planned + (costliest[parallel]?.cores ?? 0);
    if (next > budget) break;
    planned = next;
    parallel += 1;
  }
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const top = costliest[0];
  const costliestOf = top ? `(${top.name}: ${top.detail})` : '';
  let why: string;
  if (!top) why = 'no drill may run beside another';
  else if (costliest.length === 1) why = `one drill to run, ≈ ${round(top.cores)} core ${costliestOf}`;
  else {
    const limit =
      parallel === max && parallel < costliest.length
        ? `; --parallel allows at most ${max}`
        : parallel < costliest.length
          ? `; one more would plan ${round(planned + (costliest[parallel]?.cores ?? 0))}`
          : '; that is every drill that may run beside another';
    why =
      parallel === 1
        ? `the costliest needs ≈ ${round(planned)} core ${costliestOf}${limit}`
        : `the ${parallel} costliest need ≈ ${round(planned)} core together, ≤ ${round(top.cores)} each ${costliestOf}${limit}`;
  }
  return {
    parallel,
    explanation: `--parallel auto: ${plural(parallel, 'drill', 'drills')} at once — ${plural(cores, 'core', 'cores')}, ${round(budget)} planned for drills (${Math.round(utilisation * 100)} % less ${round(base)} for the shared cluster); ${why}`,
  };
}

/** The costs of each turn that may run beside others, on a target that can (`ownClusters`) or cannot give siblings. */
export function estimateTurnCosts(
  scenarios: readonly ResolvedScenario[],
  options: { repeat: number; ownClusters: boolean; costs?: DrillCpuCosts },
): DrillCost[] {
  const model = options.costs ?? DRILL_CPU_COSTS;
  // As the schedule cuts them when drills may run at once (parallel > 1).
  const turns = planTurns(scenarios, {
    repeat: options.repeat,
    parallel: MAX_PARALLEL,
    ownClusters: options.ownClusters,
    expectedMs: expectedVariantMs,
  });
  return turns.filter((t) => t.shares).map((t) => estimateTurnCost(t, model));
}

/** A turn's CPU demand while it runs: its load through its proxies, its pods, its cluster, the engine's work. */
export function estimateTurnCost(
  turn: Turn<ResolvedScenario, ResolvedScenario['variants'][number]>,
  model: DrillCpuCosts = DRILL_CPU_COSTS,
): DrillCost {
  const { scenario } = turn;
  const rate = Math.max(scenario.load.rate, ...scenario.load.stages.map((s) => s.target));
  const proxies = proxiesOnPath(scenario);
  const pods = countPods(scenario);
  const lengthS = turn.runs.reduce((s, r) => s + expectedVariantMs(scenario, r.variant), 0) / 1000;
  const cluster = turn.ownCluster
    ? model.clusterIdleCores + model.clusterBootCpuSeconds / Math.max(lengthS, 1)
    : 0;
  const commands = commandCores(turn, model);
  // The turn's variants run one after another: the busiest of them (one may have recovery conditions of its own).
  const queries = Math.max(
    0,
    ...turn.runs.map((r) => queriesPerSecond(scenarioOfVariant(scenario, r.variant), model.queryPollFloorMs)),
  );
  const cores =
    (rate * proxies * model.requestHopMs) / 1000 +
    pods * model.podIdleCores +
    cluster +
    model.drillEngineCores +
    (queries * model.queryCpuMs) / 1000 +
    commands;
  const only = turn.runs.length === 1 ? turn.runs[0] : undefined;
  return {
    name: turn.ownCluster && only ? `${scenario.name}/${only.variant.name}` : scenario.name,
    cores,
    detail: `${round(rate)} req/s through ${proxies} prox${proxies === 1 ? 'y' : 'ies'}, ${pods} pod${pods === 1 ? '' : 's'}${turn.ownCluster ? ', a cluster of its own' : ''}, ${Number(queries.toFixed(1))} queries/s${commands > 0 ? `, commands polled (≈ ${round(commands)} core)` : ''}`,
  };
}

/** PromQL and alert polls a second: every signal, efficacy check and recovery condition at its (paced) poll. */
function queriesPerSecond(scenario: ResolvedScenario, floorMs: number): number {
  const polled = [...scenario.signals, ...scenario.efficacy, ...scenario.recovery.conditions];
  return polled
    .filter((c) => c.kind === 'promql' || c.kind === 'alert')
    .reduce((sum, c) => sum + 1000 / Math.max(c.pollMs, floorMs), 0);
}

/**
 * Recovery conditions that run a command each poll, over the share of the turn they are polled: the recovery
 * budget (a quarter of it for a variant expected to recover, as expectedVariantMs) and the verification window.
 */
function commandCores(
  turn: Turn<ResolvedScenario, ResolvedScenario['variants'][number]>,
  model: DrillCpuCosts,
): number {
  // Command runs a second over the turn: each variant's own conditions over its polled share.
  let runsMs = 0;
  let totalMs = 0;
  for (const { variant } of turn.runs) {
    const { budgetMs, verifyMs, conditions } = scenarioOfVariant(turn.scenario, variant).recovery;
    const perSecond = conditions
      .filter((c) => c.kind === 'command')
      .reduce((sum, c) => sum + 1 / Math.max(c.pollMs / 1000, model.commandRunWallSeconds), 0);
    runsMs += perSecond * ((variant.expect === 'recovery' ? budgetMs / 4 : budgetMs) + verifyMs);
    totalMs += expectedVariantMs(turn.scenario, variant);
  }
  return (runsMs / Math.max(totalMs, 1)) * model.commandRunCpuSeconds;
}

/**
 * Proxies a request passes: the ingress gateway, then a sidecar for each Service of the workload. An upper bound
 * (the pack's Services form one chain: retry-storm's gateway → frontend → backend), which errs on the safe side.
 */
function proxiesOnPath(scenario: ResolvedScenario): number {
  const services = scenario.workload.manifests.filter((m) => m.kind === 'Service').length;
  return 1 + Math.max(1, services);
}

/** Pods the drill runs: replicas of its workload's Deployments and StatefulSets and bare Pods, and its fault's. */
function countPods(scenario: ResolvedScenario): number {
  const objects: KubeObject[] = [...scenario.workload.manifests];
  const fault = scenario.fault;
  if (fault.kind === 'chaos-mesh' || fault.kind === 'istio') objects.push(fault.manifest);
  if (fault.kind === 'kubernetes') {
    for (const step of fault.steps) if (step.action === 'apply') objects.push(step.manifest);
  }
  return objects.reduce((sum, o) => {
    if (o.kind === 'Pod') return sum + 1;
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') return sum;
    const replicas = (o.spec as { replicas?: unknown } | undefined)?.replicas;
    return sum + (typeof replicas === 'number' ? replicas : 1);
  }, 0);
}

/**
 * `--parallel auto` for a suite: plans the turns as the schedule will, costs the ones that may run side by side,
 * and chooses against the cores.
 */
export function decideParallelism(
  scenarios: readonly ResolvedScenario[],
  options: { repeat: number; ownClusters: boolean; cores: number; costs?: DrillCpuCosts },
): ParallelismChoice & { costs: DrillCost[] } {
  const model = options.costs ?? DRILL_CPU_COSTS;
  const costs = estimateTurnCosts(scenarios, { ...options, costs: model });
  return {
    ...chooseParallelism({
      cores: options.cores,
      costs,
      baseCores: model.clusterIdleCores,
      utilisation: model.utilisation,
    }),
    costs,
  };
}

function round(n: number): string {
  return n >= 10 ? n.toFixed(0) : n >= 0.1 || n === 0 ? n.toFixed(2) : n.toFixed(3);
}
