// Wall time of `meshdrill run scenarios/` on the local target, per scenario (its variants summed) and in total,
// read from the journal. Run: npx tsx bench/pack.bench.ts [PATH…] (default scenarios/), with MESHDRILL_PARALLEL
// drills side by side (default auto, as `make demo` and the pack test: chosen from the cores and each drill's
// measured cost; a number forces it, 1 runs them one after the other). Prints figures only.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../harness/exec/index.js';
import { readPackVerdicts } from '../test/pack/journal-verdicts.js';

const ROOT = resolve(import.meta.dirname, '..');
const paths = process.argv.slice(2);
const parallel = process.env.MESHDRILL_PARALLEL ?? 'auto';
const dir = await mkdtemp(join(tmpdir(), 'meshdrill-pack-bench-'));
try {
  const started = performance.now();
  const result = await run(
    './bin/meshdrill.js',
    ['run', ...(paths.length ? paths : ['scenarios/']), '--parallel', parallel, '--out', dir],
    {
      cwd: ROOT,
      timeoutMs: 40 * 60_000,
    },
  );
  const wallMs = performance.now() - started;
  const verdicts = await readPackVerdicts(dir);
  const byScenario = new Map<string, { ms: number; variants: string[] }>();
  for (const v of verdicts.variants) {
    const entry = byScenario.get(v.scenario) ?? { ms: 0, variants: [] };
    entry.ms += v.durationMs ?? 0;
    entry.variants.push(`${v.variant} ${((v.durationMs ?? 0) / 1000).toFixed(1)}s ${v.outcome ?? '?'}`);
    byScenario.set(v.scenario, entry);
  }
  // What auto chose (run-start records the figure the run used).
  const firstLine = (await readFile(join(dir, 'journal.jsonl'), 'utf8').catch(() => '')).split('\n')[0] ?? '';
  const used = firstLine ? (JSON.parse(firstLine) as { parallel?: number }).parallel : undefined;
  console.log(
    `meshdrill run scenarios/ --parallel ${parallel}${used !== undefined && String(used) !== parallel ? ` (${used} at once)` : ''} on the local target`,
  );
  for (const [name, e] of byScenario) {
    console.log(
      `  ${name.padEnd(20)} ${(e.ms / 1000).toFixed(1).padStart(7)} s   (${e.variants.join(', ')})`,
    );
  }
  const journalMs = (verdicts.endedAt ?? 0) - (verdicts.startedAt ?? 0);
  const scenariosMs = [...byScenario.values()].reduce((s, e) => s + e.ms, 0);
  console.log(
    `  ${'scenarios summed'.padEnd(20)} ${(scenariosMs / 1000).toFixed(1).padStart(7)} s   (what one at a time would take)`,
  );
  console.log(
    `  ${'run (journal)'.padEnd(20)} ${(journalMs / 1000).toFixed(1).padStart(7)} s   (provision, variants, final cleanup)`,
  );
  console.log(
    `  ${'wall (process)'.padEnd(20)} ${(wallMs / 1000).toFixed(1).padStart(7)} s   exit ${result.exitCode}`,
  );
  console.log(`  goal: under 300 s for the pack with negative controls`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
