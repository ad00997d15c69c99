// Bundles TypeScript container programs with esbuild, so a container starts as plain `node program.mjs` (~50 ms)
// instead of paying a TypeScript compile on every start. Each program is bundled once per process and written into
// each cluster's work dir: a pack run boots a dozen clusters, and bundling the five programs for each cost ≈ 9 CPU-s
// of esbuild on the cores the drills are measured on. After `make build` the bundles are already in dist/programs/
// (scripts/build.ts, with this file's bundle()): while that build is fresh they are copied, and esbuild does not run
// during drills at all.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { environmentError } from '../../../harness/model/index.js';
import { packageRoot, prebuiltBundle } from '../../../harness/util/build-stamp.js';

export interface ProgramBundler {
  /** The bundled file for an entry, building it on first use. */
  ensure(entry: string): Promise<string>;
  readonly outDir: string;
}

/** Bundled code by entry file, for every cluster of this process. */
const bundled = new Map<string, Promise<string>>();

function bundleOnce(entry: string): Promise<string> {
  let code = bundled.get(entry);
  if (!code) {
    code = bundle(entry);
    bundled.set(entry, code);
    code.catch(() => bundled.delete(entry));
  }
  return code;
}

/** Bundles under way: esbuild's service process is stopped once none is (see bundle). */
let inFlight = 0;

/** A container program bundled as one ESM file (the code); also how the build makes dist/programs/. */
export async function bundle(entry: string): Promise<string> {
  const esbuild = await import('esbuild');
  inFlight++;
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      // ESM bundles of CommonJS dependencies need a require.
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    const output = result.outputFiles[0];
    if (!output) throw new Error('esbuild produced no output');
    return output.text;
  } catch (error) {
    throw environmentError(`could not bundle the container program ${entry}: ${(error as Error).message}`, {
      hint: 'esbuild is a dependency of meshdrill; run `npm install` to restore node_modules',
      cause: error,
    });
  } finally {
    // esbuild's API keeps a service process until stopped. Programs are bundled once per process, so once none is
    // pending the service goes (a later bundle starts another): it never outlives meshdrill, even by the
    // moments it takes to notice its parent is gone.
    inFlight--;
    if (inFlight === 0) await esbuild.stop();
  }
}

/** `root`: the checkout whose dist/ may hold prebuilt bundles (tests point it at a copy). */
export function createBundler(outDir: string, root: string = packageRoot()): ProgramBundler {
  const builds = new Map<string, Promise<string>>();
  const buildOne = async (entry: string): Promise<string> => {
    await mkdir(outDir, { recursive: true });
    const id = createHash('sha256').update(entry).digest('hex').slice(0, 8);
    const outfile = join(
      outDir,
      `${basename(dirname(entry))}-${basename(entry).replace(/\.[cm]?[jt]s$/, '')}-${id}.mjs`,
    );
    // Decided per cluster, not once per process: a source edited since the build is bundled afresh.
    const prebuilt = prebuiltBundle(entry, 'program', root);
    if (prebuilt) await copyFile(prebuilt, outfile);
    else await writeFile(outfile, await bundleOnce(entry));
    return outfile;
  };
  return {
    outDir,
    ensure(entry): Promise<string> {
      let pending = builds.get(entry);
      if (!pending) {
        pending = buildOne(entry);
        builds.set(entry, pending);
        pending.catch(() => builds.delete(entry));
      }
      return pending;
    },
  };
}
