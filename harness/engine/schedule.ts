// Which drills run at the same time. Up to `parallel` drills that keep to their own namespace (`isolation:
// namespace`) run side by side; a drill that changes what every workload shares (istiod, the CA, the mesh-wide
// config: `isolation: cluster`) runs alone, so its fault never lands in another drill's measurement. With
// parallel > 1 the namespace-isolated drills go first, together, then the others one at a time, each group in the
// order given; with parallel 1 the order given is kept exactly.

export interface ScheduleOptions<T> {
  /** How many drills may run at once (1: one after the other, whatever their isolation). */
  parallel: number;
  /** True when the item may run beside others. */
  shares(item: T): boolean;
  /** Checked before each start: once true (an interrupt), nothing new starts. */
  stopped(): boolean;
}

/**
 * Runs `runOne` for each item under the options' rules and resolves when every started run has ended. The first
 * error stops new starts; it is rethrown once the runs already going have ended (they are never abandoned).
 */
export async function runScheduled<T>(
  items: readonly T[],
  options: ScheduleOptions<T>,
  runOne: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  const errors: unknown[] = [];
  const halted = () => options.stopped() || errors.length > 0;
  const ordered =
    options.parallel <= 1
      ? items
      : [...items.filter((i) => options.shares(i)), ...items.filter((i) => !options.shares(i))];
  for (const item of ordered) {
    if (halted()) break;
    const alone = options.parallel <= 1 || !options.shares(item);
    while (running.size > 0 && (alone || running.size >= options.parallel)) await Promise.race(running);
    if (halted()) break;
    if (alone) {
      await runOne(item).catch((error: unknown) => {
        errors.push(error);
      });
      continue;
    }
    const run: Promise<void> = runOne(item)
      .catch((error: unknown) => {
        errors.push(error);
      })
      .finally(() => running.delete(run));
    running.add(run);
  }
  await Promise.all(running);
  if (errors.length > 0) throw errors[0];
}

/** What a drill claims on the shared cluster while it runs: its namespace and the host its load is sent to. */
export interface DrillClaims {
  name: string;
  file: string;
  namespace: string;
  /** The Host header of its load through the shared ingress gateway; undefined: the gateway's default. */
  host: string | undefined;
}

/**
 * Drills that will run side by side must not claim the same namespace or ingress host: two VirtualServices for
 * one host on the shared gateway would split each other's traffic. One line per clash, saying how to fix it.
 */
export function findSideBySideClashes(drills: readonly DrillClaims[]): string[] {
  const clashes: string[] = [];
  const seen = { namespace: new Map<string, DrillClaims>(), host: new Map<string, DrillClaims>() };
  for (const drill of drills) {
    const claims: [keyof typeof seen, string, string][] = [
      ['namespace', drill.namespace, 'workload.namespace'],
      [
        'host',
        drill.host ?? '(no load.host: the gateway default)',
        'load.host and its Gateway/VirtualService',
      ],
    ];
    for (const [kind, value, field] of claims) {
      const earlier = seen[kind].get(value);
      if (earlier) {
        clashes.push(
          `${drill.file}: ${drill.name} and ${earlier.name} (${earlier.file}) both use ${kind} ${value} and would run side by side (isolation: namespace, --parallel); give one its own ${field}`,
        );
      } else seen[kind].set(value, drill);
    }
  }
  return clashes;
}

/** One run of a variant: which variant, and which of the `--repeat` iterations. */
export interface VariantRun<V> {
  variant: V;
  iteration: number;
}

/** A unit of the schedule: runs of one scenario, one after the other, on the shared cluster or one of its own. */
export interface Turn<S, V> {
  scenario: S;
  runs: VariantRun<V>[];
  /** Runs on a cluster provisioned for this turn alone (and torn down after it). */
  ownCluster: boolean;
  /** May run beside other turns. */
  shares: boolean;
}

export interface PlannableScenario {
  name: string;
  isolation: 'cluster' | 'namespace';
  variants: readonly unknown[];
}

/**
 * Cuts the scenarios into turns. A scenario's variants share its namespace, so on a shared cluster they form one
 * turn, in order. When the target can give a drill a cluster of its own (`ownClusters`, the local target) and
 * drills may run at once, runs are spread over fresh clusters: each run of an `isolation: cluster` drill, and
 * each run after the first of an `isolation: namespace` drill (the first keeps to the shared cluster). Nothing
 * else lives on such a cluster, so the run may go beside the rest and starts without what an earlier variant left
 * behind — a drill's variants no longer queue behind each other (the pack's longest chain was two variants of
 * one drill, ≈ 230 s). Then the longest expected turns go first, so the run does not end waiting on one long
 * drill started last.
 */
export function planTurns<S extends PlannableScenario, V = S['variants'][number]>(
  scenarios: readonly S[],
  options: {
    repeat: number;
    parallel: number;
    ownClusters: boolean;
    /** Rough length of one run of a variant in ms, to start the longest turns first. */
    expectedMs: (scenario: S, variant: V) => number;
    /** Only the runs this says yes to (`--shard`: this machine's share of the suite); absent: every run. */
    includes?: (scenario: S, run: VariantRun<V>) => boolean;
  },
): Turn<S, V>[] {
  const runsOf = (scenario: S): VariantRun<V>[] =>
    (scenario.variants as readonly V[])
      .flatMap((variant) => Array.from({ length: options.repeat }, (_, i) => ({ variant, iteration: i + 1 })))
      .filter((run) => options.includes?.(scenario, run) ?? true);
  const ownClusters = options.ownClusters && options.parallel > 1;
  const turns = scenarios.flatMap((scenario): Turn<S, V>[] => {
    const runs = runsOf(scenario);
    if (runs.length === 0) return [];
    if (!ownClusters) {
      return [{ scenario, runs, ownCluster: false, shares: scenario.isolation === 'namespace' }];
    }
    const onShared = (i: number) => scenario.isolation === 'namespace' && i === 0;
    return runs.map((run, i) => ({ scenario, runs: [run], ownCluster: !onShared(i), shares: true }));
  });
  if (!ownClusters) return turns;
  const length = (t: Turn<S, V>) =>
    t.runs.reduce((sum, r) => sum + options.expectedMs(t.scenario, r.variant), 0);
  return turns
    .map((turn, index) => ({ turn, index }))
    .sort((a, b) => length(b.turn) - length(a.turn) || a.index - b.index)
    .map((x) => x.turn);
}
