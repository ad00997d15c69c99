// Bundles TypeScript container programs with esbuild, so a container starts as plain `node program.mjs` (~50 ms)
// instead of paying a TypeScript compile on every start. Each program is bundled once per process and written into
// each cluster's work dir: a pack run boots a dozen clusters, and bundling the five programs for each cost ≈ 9 CPU-s
// of esbuild on the cores the drills are measured on.

import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { environmentError } from '../../../harness/model/errors.js';

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

async function bundle(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  try {
    const result = await build({
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
  }
}

export function createBundler(outDir: string): ProgramBundler {
  const builds = new Map<string, Promise<string>>();
  const buildOne = async (entry: string): Promise<string> => {
    await mkdir(outDir, { recursive: true });
    const id = createHash('sha256').update(entry).digest('hex').slice(0, 8);
    const outfile = join(
      outDir,
      `${basename(dirname(entry))}-${basename(entry).replace(/\.[cm]?[jt]s$/, '')}-${id}.mjs`,
    );
    await writeFile(outfile, await bundleOnce(entry));
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
