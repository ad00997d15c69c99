// Benchmark: how fast meshdrill's command line starts, side by side with kubectl's (goal: `meshdrill --help`
// ≤ 0.3 s wall and ≤ 100 MiB; `meshdrill validate scenarios/` ≤ 0.8 s), both as a checkout runs it after
// `make build` (dist/, JavaScript) and from the sources through tsx (MESHDRILL_FROM=sources, as when a source is
// newer than the build). Each command runs N times in turn; wall time is measured around the process, peak RSS is
// the kernel's high-water mark (VmHWM) read from /proc every 5 ms while it runs (the last read before exit, so a
// late peak can be missed by at most 5 ms of growth). Also: what bin/meshdrill.js's freshness check costs.
// Builds dist/ first when it is not fresh. Run: npx tsx bench/cli-startup.bench.ts

import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFreshness } from '../harness/util/build-stamp.js';

const ROOT = join(import.meta.dirname, '..');
const RUNS = 7;

interface Sample {
  wallMs: number;
  peakKiB: number;
}

function measure(file: string, args: string[], env: Record<string, string> = {}): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { cwd: ROOT, stdio: 'ignore', env: { ...process.env, ...env } });
    let peakKiB = 0;
    const poll = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        if (hwm) peakKiB = Math.max(peakKiB, Number(hwm));
      } catch {
        // exited between two reads
      }
    }, 5);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      if (code !== 0) reject(new Error(`${file} ${args.join(' ')} exited ${code}`));
      else resolve({ wallMs: performance.now() - started, peakKiB });
    });
  });
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const CLI = join(ROOT, 'bin', 'meshdrill.js');
const SOURCES = { MESHDRILL_FROM: 'sources' };
const COMMANDS: {
  label: string;
  file: string;
  args: string[];
  env?: Record<string, string>;
  goalMs?: number;
  goalMiB?: number;
}[] = [
  { label: 'kubectl --help', file: 'kubectl', args: ['--help'] },
  { label: 'meshdrill --help (dist)', file: CLI, args: ['--help'], goalMs: 300, goalMiB: 100 },
  { label: 'meshdrill --help (tsx)', file: CLI, args: ['--help'], env: SOURCES, goalMs: 300, goalMiB: 100 },
  { label: 'meshdrill validate (dist)', file: CLI, args: ['validate', 'scenarios/'], goalMs: 800 },
  {
    label: 'meshdrill validate (tsx)',
    file: CLI,
    args: ['validate', 'scenarios/'],
    env: SOURCES,
    goalMs: 800,
  },
];

const before = buildFreshness(ROOT);
if (!before.fresh) {
  console.log(`building dist/ first (${before.reason})`);
  execFileSync('make', ['build'], { cwd: ROOT, stdio: 'ignore' });
}
// The check bin/meshdrill.js makes on every start, with the page cache warm as it is then.
const checks: number[] = [];
for (let i = 0; i < 50; i++) {
  const started = performance.now();
  if (!buildFreshness(ROOT).fresh) throw new Error('dist/ went stale during the benchmark');
  checks.push(performance.now() - started);
}

// One warm-up each (tsx's transform cache, the page cache), then the runs interleaved so drift hits all alike.
for (const c of COMMANDS) await measure(c.file, c.args, c.env);
const samples = new Map<string, Sample[]>(COMMANDS.map((c) => [c.label, []]));
for (let i = 0; i < RUNS; i++)
  for (const c of COMMANDS) samples.get(c.label)?.push(await measure(c.file, c.args, c.env));

const kubectlMs = median((samples.get('kubectl --help') ?? []).map((s) => s.wallMs));
console.log(
  `command start-up, median of ${RUNS} (after one warm-up each); dist = after make build, tsx = sources`,
);
for (const c of COMMANDS) {
  const runs = samples.get(c.label) ?? [];
  const wall = median(runs.map((s) => s.wallMs));
  const mib = median(runs.map((s) => s.peakKiB)) / 1024;
  const goals = [
    c.goalMs === undefined ? '' : `wall goal ${c.goalMs} ms ${wall <= c.goalMs ? 'met' : 'NOT met'}`,
    c.goalMiB === undefined ? '' : `memory goal ${c.goalMiB} MiB ${mib <= c.goalMiB ? 'met' : 'NOT met'}`,
  ].filter(Boolean);
  console.log(
    `${c.label.padEnd(32)} ${wall.toFixed(0).padStart(5)} ms  ${mib.toFixed(0).padStart(4)} MiB  ` +
      `${(wall / kubectlMs).toFixed(1).padStart(5)}× kubectl${goals.length > 0 ? `  (${goals.join('; ')})` : ''}`,
  );
}
console.log(
  `freshness check of dist/ (each start from a checkout): median ${median(checks).toFixed(1)} ms of 50`,
);
