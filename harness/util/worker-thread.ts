// The one door to a worker thread of the harness's own code (the load generator, the kube-proxy stand-in): work
// that must keep its own event loop, so nothing else the harness process does can delay it.
//
// Built (JavaScript), a worker starts from the module beside its caller. In a checkout the sources are TypeScript
// run through a loader that worker threads do not inherit: the module is bundled once per process into one
// CommonJS script, held in memory and evaluated as the worker's code — no loader or transform service per worker,
// no file written. The bundle comes from esbuild's command line, run once and waited for: nothing keeps running
// afterwards. (esbuild's own synchronous API keeps a worker thread and a service process for the life of the
// process; at exit Node joins that thread, and here its handle cleanup once spun at 100 % CPU for minutes —
// the run had printed its verdict and never exited.) After `make build` the bundle is already in dist/programs/
// (scripts/build.ts, with this file's bundle()) and is read from there while that build is fresh.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { runSyncChecked } from '../exec/index.js';
import { packageRoot, prebuiltBundle } from './build-stamp.js';

const bundles = new Map<string, string>();

/**
 * Starts `./<name>.ts` (checkout) or `./<name>.js` (built) beside `callerUrl` (the caller's `import.meta.url`) on
 * a thread of its own.
 */
export function startWorkerThread(
  callerUrl: string,
  name: string,
  options: Pick<WorkerOptions, 'workerData'> = {},
): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const entry = fileURLToPath(new URL(`./${name}.ts`, callerUrl));
  let source = bundles.get(entry);
  if (source === undefined) {
    source = workerSource(entry);
    bundles.set(entry, source);
  }
  return new Worker(source, { ...options, eval: true });
}

/** The worker's code: the prebuilt bundle while the build in `root`/dist is fresh, else bundled now. */
export function workerSource(entry: string, root: string = packageRoot()): string {
  const prebuilt = prebuiltBundle(entry, 'worker', root);
  return prebuilt ? readFileSync(prebuilt, 'utf8') : bundle(entry);
}

/** A worker module bundled as one CommonJS script (the code); also how the build makes dist/programs/. */
export function bundle(entry: string): string {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('esbuild/package.json')), 'bin', 'esbuild');
  const args = [entry, '--bundle', '--platform=node', '--format=cjs', '--target=node20', '--log-level=error'];
  // bin/esbuild is the native binary once esbuild's install script ran, a Node launcher before.
  const [file, argv] = isScript(bin) ? [process.execPath, [bin, ...args]] : [bin, args];
  return runSyncChecked(file, argv, { maxBuffer: 64 * 1024 * 1024 });
}

function isScript(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    readSync(fd, head, 0, 2, 0);
    return head.toString('latin1') === '#!';
  } finally {
    closeSync(fd);
  }
}
