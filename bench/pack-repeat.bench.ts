// Do the pack's verdicts hold up? Runs `meshdrill run scenarios/ --target local --parallel auto` N times back to
// back, then once more with one core kept busy, and prints per variant the outcome of every run (as results.json
// says it), whether they agree, and per run the wall time, CPU-seconds and peak RSS of the meshdrill process tree.
// Run: npx tsx bench/pack-repeat.bench.ts. Env: MESHDRILL_PACK_REPEATS (default 3), MESHDRILL_PACK_SCENARIOS
// (paths, space-separated; default scenarios/), MESHDRILL_PARALLEL (default auto), MESHDRILL_PACK_BUSY=0 skips the
// busy-core run. The whole pack takes all of the machine, ≈ 4 min a run at the 6 drills at once that auto picks on
// 2 cores: ≈ 16 min at the defaults.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DRILL_CPU_COSTS, estimateTurnCost } from '../harness/engine/parallelism.js';
import { expectedVariantMs } from '../harness/engine/run-suite.js';
import { planTurns } from '../harness/engine/schedule.js';
import { loadScenarios } from '../harness/scenario/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const REPEATS = Number(process.env.MESHDRILL_PACK_REPEATS ?? '3');
if (!Number.isInteger(REPEATS) || REPEATS < 1 || REPEATS > 20) {
  throw new Error(`MESHDRILL_PACK_REPEATS: expected a whole number from 1 to 20, got "${REPEATS}"`);
}
const SCENARIOS = (process.env.MESHDRILL_PACK_SCENARIOS ?? 'scenarios/').split(/\s+/).filter(Boolean);
const PARALLEL = process.env.MESHDRILL_PARALLEL ?? 'auto';
const BUSY = process.env.MESHDRILL_PACK_BUSY !== '0';
/** A run's hard limit: far above the goal (5 min), so a hung run ends the bench rather than the machine's day. */
const RUN_LIMIT_MS = 30 * 60_000;
const GOAL_RUN_MS = 5 * 60_000;
const SAMPLE_MS = 1000;
const TICKS_PER_SECOND = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in these on Linux
const PAGE_BYTES = 4096;
const TIME = '/usr/bin/time';

interface VariantOutcome {
  key: string;
  expect: string;
  negativeControl: boolean;
  outcome: string;
  /** For a negative control: its `recover:negative-control` assertion passed (it did not recover). */
  notRecovered: boolean | undefined;
  durationMs: number;
}

interface RunFigures {
  label: string;
  exitCode: number | null;
  wallMs: number;
  /** user + system CPU of every waited-for descendant (getrusage of children, through /usr/bin/time). */
  rusageCpuSeconds: number | undefined;
  /** Sum over every process seen in the tree of its last sampled utime + stime (misses ≤ 1 s before each exit). */
  sampledCpuSeconds: number;
  /** Largest sum of the tree's RSS at one sample. */
  peakTreeRssMiB: number;
  /** Largest RSS of one process (getrusage ru_maxrss). */
  maxProcessRssMiB: number | undefined;
  parallel: string;
  variants: VariantOutcome[];
  problem?: string;
  /** What results.json says went wrong (verdict failures, run-level errors). */
  failures: string[];
}

interface ProcStat {
  pid: number;
  ppid: number;
  startTime: string;
  ticks: number;
  rssPages: number;
}

function readProcStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command, which may hold spaces and parentheses: state is field 3 (index 0 here).
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.push({
        pid: Number(name),
        ppid: Number(f[1]),
        ticks: Number(f[11]) + Number(f[12]),
        startTime: f[19] ?? '',
        rssPages: Number(f[21]),
      });
    } catch {
      // The process ended between readdir and read.
    }
  }
  return stats;
}

/** Samples the process tree under `root` every second: last CPU ticks per process, peak summed RSS. */
function sampleTree(root: number): { stop(): { cpuSeconds: number; peakRssMiB: number } } {
  const lastTicks = new Map<string, number>();
  let peakRss = 0;
  const sample = (): void => {
    const stats = readProcStats();
    const children = new Map<number, ProcStat[]>();
    for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
    const tree: ProcStat[] = stats.filter((s) => s.pid === root);
    for (let i = 0; i < tree.length && i < 10_000; i++)
      tree.push(...(children.get(tree[i]?.pid ?? -1) ?? []));
    let rss = 0;
    for (const s of tree) {
      lastTicks.set(`${s.pid}@${s.startTime}`, s.ticks);
      rss += s.rssPages * PAGE_BYTES;
    }
    peakRss = Math.max(peakRss, rss);
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      const ticks = [...lastTicks.values()].reduce((a, b) => a + b, 0);
      return { cpuSeconds: ticks / TICKS_PER_SECOND, peakRssMiB: peakRss / 2 ** 20 };
    },
  };
}

/** A node process spinning on one core, for at most `ms`; stopped by its PID when the run is over. */
function startBusyCore(ms: number): ChildProcess {
  return spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end) {}`], {
    stdio: 'ignore',
  });
}

function stopByPid(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

async function readOutcomes(
  dir: string,
): Promise<{ parallel: string; variants: VariantOutcome[]; failures: string[] }> {
  const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as {
    run?: { parallel?: unknown };
    verdict?: { failures?: { what?: unknown }[] };
    logs?: { level?: unknown; message?: unknown }[];
    scenarios?: {
      key?: unknown;
      durationMs?: unknown;
      expect?: unknown;
      negativeControl?: unknown;
      outcome?: unknown;
      assertions?: { id?: unknown; passed?: unknown }[];
    }[];
  };
  const variants = (results.scenarios ?? []).map((s): VariantOutcome => {
    const negativeControl = s.negativeControl === true;
    const nc = (s.assertions ?? []).find((a) => a.id === 'recover:negative-control');
    return {
      key: String(s.key),
      expect: String(s.expect),
      negativeControl,
      outcome: String(s.outcome),
      notRecovered: negativeControl ? nc?.passed === true : undefined,
      durationMs: typeof s.durationMs === 'number' ? s.durationMs : 0,
    };
  });
  // Why a run did not pass, in its own words: the verdict's failures and the run-level errors.
  const failures = [
    ...(results.verdict?.failures ?? []).map((f) => String(f.what)),
    ...(results.logs ?? []).filter((l) => l.level === 'error').map((l) => String(l.message)),
  ];
  return { parallel: String(results.run?.parallel ?? '?'), variants, failures };
}

async function runPack(label: string, busy: boolean): Promise<RunFigures> {
  const out = await mkdtemp(join(tmpdir(), 'meshdrill-pack-repeat-'));
  const timeFile = join(out, 'rusage.txt');
  const meshdrill = [
    './bin/meshdrill.js',
    'run',
    ...SCENARIOS,
    '--target',
    'local',
    '--parallel',
    PARALLEL,
    '--out',
    join(out, 'run'),
  ];
  // /usr/bin/time reports getrusage(RUSAGE_CHILDREN): the CPU of meshdrill and of every descendant it waited for.
  const useTime = existsSync(TIME);
  const [command, ...args] = useTime ? [TIME, '-f', '%U %S %M', '-o', timeFile, ...meshdrill] : meshdrill;
  const spinner = busy ? startBusyCore(RUN_LIMIT_MS) : undefined;
  try {
    return await measureRun(label, command as string, args, out, timeFile, useTime);
  } finally {
    if (spinner) stopByPid(spinner);
    await rm(out, { recursive: true, force: true });
  }
}

async function measureRun(
  label: string,
  command: string,
  args: string[],
  out: string,
  timeFile: string,
  useTime: boolean,
): Promise<RunFigures> {
  const started = performance.now();
  // Spawned directly, not through harness/exec: the bench samples the tree under this PID while it runs.
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });
  const sampler = sampleTree(child.pid ?? -1);
  const limit = setTimeout(() => stopByPid(child), RUN_LIMIT_MS);
  const exitCode = await new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  clearTimeout(limit);
  const wallMs = performance.now() - started;
  const sampled = sampler.stop();
  let rusageCpuSeconds: number | undefined;
  let maxProcessRssMiB: number | undefined;
  if (useTime && existsSync(timeFile)) {
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const [user, system, maxKiB] = last.split(' ').map(Number);
    if (user !== undefined && system !== undefined && Number.isFinite(user + system)) {
      rusageCpuSeconds = user + system;
    }
    if (maxKiB !== undefined && Number.isFinite(maxKiB)) maxProcessRssMiB = maxKiB / 1024;
  }
  const figures: RunFigures = {
    label,
    exitCode,
    wallMs,
    rusageCpuSeconds,
    sampledCpuSeconds: sampled.cpuSeconds,
    peakTreeRssMiB: sampled.peakRssMiB,
    maxProcessRssMiB,
    parallel: '?',
    variants: [],
    failures: [],
  };
  try {
    const read = await readOutcomes(join(out, 'run'));
    figures.parallel = read.parallel;
    figures.variants = read.variants;
    figures.failures = read.failures;
  } catch (error) {
    figures.problem = `no results.json (${(error as Error).message}); stderr ends: ${stderrTail.slice(-400)}`;
  }
  return figures;
}

const { scenarios: resolved } = await loadScenarios(SCENARIOS, { target: 'local', cwd: ROOT });

/**
 * What the cost model of --parallel auto (DRILL_CPU_COSTS) predicts for a run: the shared cluster over the run,
 * and each turn's demand over the measured length of its variants — to check the model against the measurement.
 */
function predictCpuSeconds(r: RunFigures): number | undefined {
  const parallel = Number(r.parallel);
  if (!Number.isInteger(parallel) || r.variants.length === 0) return undefined;
  const turns = planTurns(resolved, {
    repeat: 1,
    parallel,
    ownClusters: true,
    expectedMs: expectedVariantMs,
  });
  const lengthMs = new Map(r.variants.map((v) => [v.key, v.durationMs]));
  let cpu = (DRILL_CPU_COSTS.clusterIdleCores * r.wallMs) / 1000;
  for (const turn of turns) {
    const { cores } = estimateTurnCost(turn);
    for (const run of turn.runs) {
      cpu +=
        (cores * (lengthMs.get(`${turn.scenario.name}/${run.variant.name}#${run.iteration}`) ?? 0)) / 1000;
    }
  }
  return cpu;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const orDash = (n: number | undefined, digits = 0): string => (n === undefined ? '–' : n.toFixed(digits));

function printRun(r: RunFigures): void {
  const ok = r.variants.filter((v) => v.outcome === 'passed').length;
  console.log(
    `  ${r.label.padEnd(12)} exit ${String(r.exitCode).padEnd(4)} wall ${seconds(r.wallMs).padStart(8)}  CPU ${orDash(r.rusageCpuSeconds, 1).padStart(6)} s (rusage) / ${r.sampledCpuSeconds.toFixed(1).padStart(6)} s (sampled tree)  peak RSS ${r.peakTreeRssMiB.toFixed(0)} MiB tree, ${orDash(r.maxProcessRssMiB)} MiB largest process  --parallel → ${r.parallel}  ${ok}/${r.variants.length} variants passed`,
  );
  const predicted = predictCpuSeconds(r);
  if (predicted !== undefined) {
    const measured = r.rusageCpuSeconds ?? r.sampledCpuSeconds;
    console.log(
      `    cost model (harness/engine/parallelism.ts) predicts ${predicted.toFixed(1)} CPU-s for this run: measured ${((measured / predicted) * 100).toFixed(0)} % of it`,
    );
  }
  if (r.problem) console.log(`    ${r.problem}`);
  for (const what of r.failures.slice(0, 8)) console.log(`    ✗ ${what.slice(0, 400)}`);
}

/** Right: a main variant passed; a negative control passed because it did not recover; a measured one ran. */
function isRight(v: VariantOutcome): boolean {
  if (v.negativeControl) return v.outcome === 'passed' && v.notRecovered === true;
  if (v.expect === 'recovery') return v.outcome === 'passed';
  return v.outcome !== 'error' && v.outcome !== 'incomplete';
}

const runs: RunFigures[] = [];
console.log(
  `meshdrill run ${SCENARIOS.join(' ')} --target local --parallel ${PARALLEL}: ${REPEATS} run(s)${BUSY ? ', then one with a core kept busy' : ''}`,
);
for (let i = 1; i <= REPEATS; i++) {
  const r = await runPack(`run ${i}`, false);
  printRun(r);
  runs.push(r);
}
const busyRun = BUSY ? await runPack('busy core', true) : undefined;
if (busyRun) printRun(busyRun);

const keys = [
  ...new Set([...runs, ...(busyRun ? [busyRun] : [])].flatMap((r) => r.variants.map((v) => v.key))),
];
const outcomeOf = (r: RunFigures, key: string): VariantOutcome | undefined =>
  r.variants.find((v) => v.key === key);
console.log(`\nper variant (outcome of each run${busyRun ? '; busy core last' : ''}):`);
let identical = true;
let allRight = runs.every((r) => !r.problem);
let busyHonest = busyRun ? !busyRun.problem : true;
for (const key of keys) {
  const outcomes = runs.map((r) => outcomeOf(r, key));
  const strings = outcomes.map((v) => v?.outcome ?? 'missing');
  const same = strings.every((s) => s === strings[0]);
  identical &&= same;
  const right = outcomes.every((v) => v !== undefined && isRight(v));
  allRight &&= right;
  const b = busyRun ? outcomeOf(busyRun, key) : undefined;
  // Under a busy core: the same verdict as the quiet runs, or inconclusive — never a different pass or fail.
  const busyOk = !busyRun || (b !== undefined && (b.outcome === strings[0] || b.outcome === 'inconclusive'));
  busyHonest &&= busyOk;
  const kind = outcomes[0]?.negativeControl ? 'control' : (outcomes[0]?.expect ?? '?');
  console.log(
    `  ${key.padEnd(44)} ${kind.padEnd(9)} ${strings.join(', ').padEnd(30)} ${same ? 'all same' : 'DIFFER'}${right ? '' : ' (not right)'}${busyRun ? `   busy: ${b?.outcome ?? 'missing'}${busyOk ? '' : ' (NOT the same, not inconclusive)'}` : ''}`,
  );
}
const underGoal = [...runs, ...(busyRun ? [busyRun] : [])].every((r) => r.wallMs < GOAL_RUN_MS);
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
console.log('\ngoals:');
console.log(
  `  every run's verdicts identical and right (every main variant passed, every negative control not recovered): ${met(identical && allRight)}`,
);
if (busyRun) {
  console.log(
    `  under the busy core identical or inconclusive, never a false failure or false pass: ${met(busyHonest)}`,
  );
}
console.log(`  each run under 5 minutes: ${met(underGoal)}`);
