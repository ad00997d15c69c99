// `make bench`: every bench/*.bench.ts (or those whose name holds one of the arguments), one after the other —
// never two at once, since each measures this machine — each in a process of its own whose figures go straight
// to the terminal, then a table of how long each took. Stops at the first benchmark that fails.

import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { $, ProcessOutput } from 'zx';

const dir = import.meta.dirname;
const filters = process.argv
  .slice(2)
  .flatMap((a) => a.split(','))
  .filter(Boolean);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((name) => f.includes(name)))
  .sort();
if (benches.length === 0) {
  console.error(
    `no benchmark matches ${filters.join(', ')}; there are: ${readdirSync(dir)
      .filter((f) => f.endsWith('.bench.ts'))
      .join(', ')}`,
  );
  process.exit(2);
}

const tsx = join(dir, '..', 'node_modules', '.bin', 'tsx');
const ran: { name: string; seconds: number }[] = [];
for (const file of benches) {
  console.log(`== bench/${file}`);
  const started = performance.now();
  try {
    await $({ stdio: 'inherit' })`${tsx} ${join(dir, file)}`;
  } catch (error) {
    const code = error instanceof ProcessOutput ? error.exitCode : 1;
    console.error(`bench/${file} failed (exit ${code}); the benchmarks after it did not run`);
    process.exit(1);
  }
  ran.push({ name: basename(file, '.bench.ts'), seconds: (performance.now() - started) / 1000 });
}
console.log('\nbenchmark             wall');
for (const { name, seconds } of ran) console.log(`${name.padEnd(20)} ${seconds.toFixed(1).padStart(6)} s`);
