// Spreading one suite over machines (`meshdrill run --shard i/n`): which (scenario, variant, iteration) runs each
// shard takes. Pure and deterministic — every machine computes the same shards from the same scenario files,
// whatever order the files were listed in and however fast the machine is — so no coordinator is needed.

/** Shard `index` (1-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** The most shards `--shard i/n` allows (a CI matrix rarely goes wider; more shards than runs leaves some empty). */
export const MAX_SHARDS = 64;

/** One run of the suite: a variant of a scenario, in one of the `--repeat` iterations. */
export interface SuiteRun<S, V> {
  scenario: S;
  variant: V;
  iteration: number;
  /** `scenario/variant#iteration`, as the reports key an execution (reports/results.ts formatScenarioKey). */
  key: string;
  /** Its rough length (the schedule's estimate), what the shards are balanced by. */
  expectedMs: number;
}

export interface Shard<S, V> {
  index: number;
  count: number;
  /** This shard's runs, by key. */
  runs: SuiteRun<S, V>[];
  /** The sum of its runs' expected lengths. */
  expectedMs: number;
}

export interface ShardableScenario {
  name: string;
  variants: readonly { name: string }[];
}

/** Plain code-unit order: unlike localeCompare, the same on every machine whatever its locale. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Cuts the suite's runs into `count` shards, balanced by expected length: longest-processing-time first — runs
 * taken longest first (equal lengths by key), each given to the shard with the least expected work so far (equal
 * loads: the lowest index). Every run lands in exactly one shard; no two shards differ by more than the longest
 * run (a run only ever goes to a shard with the least work); the order the scenarios are given in changes nothing.
 * Runs, not scenarios, are the unit: a scenario's variants and iterations may run on different machines, which
 * is safe since each run starts from a freshly deployed namespace.
 */
export function splitIntoShards<
  S extends ShardableScenario,
  V extends { name: string } = S['variants'][number],
>(
  scenarios: readonly S[],
  options: { count: number; repeat: number; expectedMs: (scenario: S, variant: V) => number },
): Shard<S, V>[] {
  const runs = scenarios.flatMap((scenario) =>
    (scenario.variants as readonly V[]).flatMap((variant) => {
      const expectedMs = options.expectedMs(scenario, variant);
      return Array.from({ length: options.repeat }, (_, i) => ({
        scenario,
        variant,
        iteration: i + 1,
        key: `${scenario.name}/${variant.name}#${i + 1}`,
        expectedMs,
      }));
    }),
  );
  runs.sort((a, b) => b.expectedMs - a.expectedMs || compareKeys(a.key, b.key));
  const shards: Shard<S, V>[] = Array.from({ length: options.count }, (_, i) => ({
    index: i + 1,
    count: options.count,
    runs: [],
    expectedMs: 0,
  }));
  for (const run of runs) {
    let least = shards[0] as Shard<S, V>;
    for (const shard of shards) if (shard.expectedMs < least.expectedMs) least = shard;
    least.runs.push(run);
    least.expectedMs += run.expectedMs;
  }
  for (const shard of shards) shard.runs.sort((a, b) => compareKeys(a.key, b.key));
  return shards;
}

/** The shard `spec` names, and the whole suite's runs and expected length (for the lines that describe it). */
export function pickShard<S extends ShardableScenario, V extends { name: string } = S['variants'][number]>(
  scenarios: readonly S[],
  spec: ShardSpec,
  options: { repeat: number; expectedMs: (scenario: S, variant: V) => number },
): Shard<S, V> & { suiteRuns: number; suiteExpectedMs: number } {
  const shards = splitIntoShards<S, V>(scenarios, { ...options, count: spec.count });
  const shard = shards[spec.index - 1];
  if (!shard) throw new RangeError(`shard ${spec.index}/${spec.count} does not exist`);
  return {
    ...shard,
    suiteRuns: shards.reduce((n, s) => n + s.runs.length, 0),
    suiteExpectedMs: shards.reduce((ms, s) => ms + s.expectedMs, 0),
  };
}

/** Whether the shard holds this run (a filter for the schedule). */
export function holdsRun<S extends { name: string }, V extends { name: string }>(
  shard: Pick<Shard<S, V>, 'runs'>,
): (scenario: S, run: { variant: V; iteration: number }) => boolean {
  const keys = new Set(shard.runs.map((r) => r.key));
  return (scenario, run) => keys.has(`${scenario.name}/${run.variant.name}#${run.iteration}`);
}

/**
 * The scenarios as this shard sees them: those it runs at least once, each with only the variants it runs
 * (for the plan and the cluster's needs; the iterations are filtered by `holdsRun`).
 */
export function restrictToShard<S extends ShardableScenario>(
  scenarios: readonly S[],
  shard: Pick<Shard<S, { name: string }>, 'runs'>,
): S[] {
  return scenarios.flatMap((scenario) => {
    const variants = scenario.variants.filter((v) =>
      shard.runs.some((r) => r.scenario.name === scenario.name && r.variant.name === v.name),
    );
    return variants.length === 0 ? [] : [{ ...scenario, variants }];
  });
}

/** One line that says what a shard holds, for the journal, the progress and the plan. */
export function describeShard(
  shard: Shard<unknown, unknown> & { suiteRuns: number; suiteExpectedMs: number },
  formatMs: (ms: number) => string,
): string {
  const head = `shard ${shard.index}/${shard.count}`;
  if (shard.runs.length === 0) {
    return `${head}: no drill run falls to this shard (the suite has ${shard.suiteRuns} run(s) for ${shard.count} shards); nothing to run`;
  }
  return `${head}: ${shard.runs.length} of ${shard.suiteRuns} drill run(s), expected ${formatMs(shard.expectedMs)} of ${formatMs(shard.suiteExpectedMs)} — ${shard.runs.map((r) => r.key).join(', ')}`;
}
