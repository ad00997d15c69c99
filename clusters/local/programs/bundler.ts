// Bundles TypeScript container programs once per work dir with esbuild, so a container starts as plain
// `node program.mjs` (~50 ms) instead of paying a TypeScript compile on every start.

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { environmentError } from '../../../harness/model/errors.js';

export interface ProgramBundler {
  /** The bundled file for an entry, building it on first use. */
  ensure(entry: string): Promise<string>;
  readonly outDir: string;
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
    const { build } = await import('esbuild');
    try {
      await build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        logLevel: 'silent',
        // ESM bundles of CommonJS dependencies need a require.
        banner: {
          js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        },
      });
    } catch (error) {
      throw environmentError(`could not bundle the container program ${entry}: ${(error as Error).message}`, {
        hint: 'esbuild comes with tsx; run `npm ci` to restore node_modules',
        cause: error,
      });
    }
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
