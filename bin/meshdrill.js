#!/usr/bin/env node
// meshdrill entry point. In a checkout it runs dist/ (built by `make build`, JavaScript that starts without a
// TypeScript compile) while that build is fresh — no source, setting or dependency newer than the build
// (harness/util/build-stamp.ts has the rule) — and the TypeScript sources through tsx otherwise: a checkout never
// runs stale code, and a stale build is not rebuilt here, since tests spawn this CLI while sources change.
// MESHDRILL_FROM=sources runs the sources regardless; MESHDRILL_TRACE_START=1 says on stderr which ran and why.
// A published package without the sources runs dist/ directly.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'harness', 'cli', 'main.ts');
const built = join(root, 'dist', 'harness', 'cli', 'main.js');
const trace = process.env.MESHDRILL_TRACE_START
  ? (line) => process.stderr.write(`meshdrill: ${line}\n`)
  : () => {};

async function freshness() {
  if (process.env.MESHDRILL_FROM === 'sources') return { fresh: false, reason: 'MESHDRILL_FROM=sources' };
  const checker = join(root, 'dist', 'harness', 'util', 'build-stamp.js');
  if (!existsSync(checker)) return { fresh: false, reason: 'no build (run `make build`)' };
  // The built copy of the rule: if its source changed, that change alone makes the build stale.
  const { buildFreshness } = await import(pathToFileURL(checker).href);
  return buildFreshness(root);
}

if (!existsSync(source)) {
  await import(pathToFileURL(built).href);
} else {
  const { fresh, reason } = await freshness();
  if (fresh) {
    trace('running dist/ (fresh build)');
    await import(pathToFileURL(built).href);
  } else {
    trace(`running the sources through tsx: ${reason}`);
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(source).href);
  }
}
