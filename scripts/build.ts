// `make build`: dist/ holds the compiled CLI and everything it loads, the emulation's container programs and the
// worker threads bundled ahead of time (dist/programs/), and last a stamp of when the build started. While no
// input is newer than the stamp, bin/meshdrill.js runs dist/ and no esbuild runs during drills
// (harness/util/build-stamp.ts has the rule). Run: npx tsx scripts/build.ts [root] (root: a checkout; default this
// one — tests build a copy).

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bundleProgram } from '../clusters/local/programs/index.js';
import {
  BUILD_DIR,
  type BuildStamp,
  bundleKey,
  PROGRAMS_DIR,
  stampPath,
} from '../harness/util/build-stamp.js';
import { bundle as bundleWorker } from '../harness/util/worker-thread.js';

/** Every container program a cluster of the local target bundles (test/build/prebuilt-entries.test.ts checks it). */
export const PROGRAM_ENTRIES: readonly string[] = [
  'clusters/local/programs/fortio/main.ts',
  'clusters/local/programs/k6/main.ts',
  'clusters/local/programs/stress/main.ts',
  'clusters/local/mesh/proxy/main.ts',
  'clusters/local/mesh/istiod/main.ts',
  'clusters/local/istioctl/main.ts',
  'clusters/local/chaos/pause-program.ts',
];

/** Every module started with startWorkerThread (same test). */
export const WORKER_ENTRIES: readonly string[] = [
  'harness/load/isolated/load-worker.ts',
  'clusters/local/network/kube-proxy-worker.ts',
];

export async function build(root: string): Promise<void> {
  // Taken before anything is read: an input edited while the build runs makes it stale at once.
  const stamp: BuildStamp = { startedAt: Date.now() };
  // From scratch, so no module of a removed source lingers, and no stamp until the build is whole.
  rmSync(join(root, BUILD_DIR), { recursive: true, force: true });
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  // Data files beside the modules that read them: the upstream CRDs.
  const crds = 'clusters/shared/crd/upstream';
  mkdirSync(join(root, BUILD_DIR, crds), { recursive: true });
  for (const file of readdirSync(join(root, crds)).filter((f) => f.endsWith('.yaml')))
    copyFileSync(join(root, crds, file), join(root, BUILD_DIR, crds, file));
  // One at a time: the build shares the machine with whatever else runs.
  for (const entry of PROGRAM_ENTRIES) write(root, entry, 'mjs', await bundleProgram(join(root, entry)));
  for (const entry of WORKER_ENTRIES) write(root, entry, 'cjs', bundleWorker(join(root, entry)));
  writeFileSync(stampPath(root), `${JSON.stringify(stamp)}\n`);
}

function write(root: string, entry: string, extension: string, code: string): void {
  const file = join(root, BUILD_DIR, PROGRAMS_DIR, `${bundleKey(join(root, entry), root)}.${extension}`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, code);
}

if (process.argv[1] === import.meta.filename) await build(process.argv[2] ?? join(import.meta.dirname, '..'));
