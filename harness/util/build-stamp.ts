// Whether the build in dist/ (the compiled CLI and the prebuilt program bundles) still matches the checkout.
// bin/meshdrill.js asks before running dist/ instead of the sources, and the program and worker-thread bundlers
// ask before using a prebuilt bundle instead of running esbuild: a checkout never runs stale code, so an edited
// source is never ignored.
//
// The rule: the build records when it started; it is fresh while nothing it was built from — a file or directory
// under the watched paths — has a modification time at or after that moment. A directory's time changes when a
// file in it is added, removed or renamed, so those count too. Test files are not exempt: simpler to trust, and a
// stale build only means running the sources as before. Walking the ~500 entries takes a few ms (bench/
// cli-startup.bench.ts prints it); the first newer entry ends the walk and is named as the reason.
//
// Plain Node only: bin/meshdrill.js loads the built copy of this module before deciding what else to load.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Everything the build reads: sources, build scripts and settings, and the installed dependencies (bundled in). */
export const BUILD_INPUTS: readonly string[] = [
  'harness',
  'clusters',
  'reports',
  'bin',
  'scripts',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'node_modules/.package-lock.json',
];

export const BUILD_DIR = 'dist';
/** Written last by the build, so an interrupted build has none and counts as stale. */
export const STAMP_FILE = 'build-stamp.json';
/** The prebuilt bundles, by source path: dist/programs/<path without extension>.mjs (programs) or .cjs (workers). */
export const PROGRAMS_DIR = 'programs';

export interface BuildStamp {
  /** Date.now() when the build started, before it read any input. */
  startedAt: number;
}

export type Freshness = { fresh: true } | { fresh: false; reason: string };

/** The checkout (or package) root: this module is harness/util/ in the sources, dist/harness/util/ when built. */
export function packageRoot(): string {
  return fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url));
}

export function stampPath(root: string): string {
  return join(root, BUILD_DIR, STAMP_FILE);
}

/** Whether root/dist was built from what root holds now; when not, why (the first newer input found). */
export function buildFreshness(root: string = packageRoot()): Freshness {
  let stamp: BuildStamp;
  try {
    stamp = JSON.parse(readFileSync(stampPath(root), 'utf8')) as BuildStamp;
  } catch {
    return { fresh: false, reason: `no build (${BUILD_DIR}/${STAMP_FILE} missing: run \`make build\`)` };
  }
  if (typeof stamp.startedAt !== 'number') return { fresh: false, reason: `${STAMP_FILE} unreadable` };
  for (const input of BUILD_INPUTS) {
    const newer = firstNewer(join(root, input), input, stamp.startedAt);
    if (newer) return { fresh: false, reason: `${newer} changed after the build` };
  }
  return { fresh: true };
}

/** The path (relative to root) of the first entry at or under `path` modified at or after `since`. */
function firstNewer(path: string, relative: string, since: number): string | undefined {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    // An input that is absent now: fine if it was absent at build time too, and its removal (if not) changed its
    // directory's time, which the walk of that directory sees.
    return undefined;
  }
  if (stats.mtimeMs >= since) return relative;
  if (!stats.isDirectory()) return undefined;
  for (const entry of readdirSync(path)) {
    const found = firstNewer(join(path, entry), `${relative}/${entry}`, since);
    if (found) return found;
  }
  return undefined;
}

/** The prebuilt bundle of a source entry, when the build is fresh; undefined means: bundle it now, as before. */
export function prebuiltBundle(
  entry: string,
  kind: 'program' | 'worker',
  root: string = packageRoot(),
): string | undefined {
  const key = bundleKey(entry, root);
  if (key === undefined) return undefined;
  if (!buildFreshness(root).fresh) return undefined;
  const file = join(root, BUILD_DIR, PROGRAMS_DIR, `${key}.${kind === 'program' ? 'mjs' : 'cjs'}`);
  try {
    statSync(file);
    return file;
  } catch {
    return undefined;
  }
}

/** clusters/local/programs/fortio/main for root/clusters/…/main.ts and for root/dist/clusters/…/main.js alike. */
export function bundleKey(entry: string, root: string): string | undefined {
  const base = join(root, '/');
  if (!entry.startsWith(base)) return undefined;
  let relative = entry.slice(base.length);
  if (relative.startsWith(`${BUILD_DIR}/`)) relative = relative.slice(BUILD_DIR.length + 1);
  if (!/\.[cm]?[jt]s$/.test(relative)) return undefined;
  return relative.replace(/\.[cm]?[jt]s$/, '');
}
