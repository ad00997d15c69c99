// The one door to a worker thread of the harness's own code (the load generator, the kube-proxy stand-in): work
// that must keep its own event loop, so nothing else the harness process does can delay it.
//
// Built (JavaScript), a worker starts from the module beside its caller. In a checkout the sources are TypeScript
// run through a loader that worker threads do not inherit: the module is bundled once per process into one
// CommonJS script, held in memory and evaluated as the worker's code — no loader or transform service per worker,
// no file written. esbuild's synchronous API runs its binary once and waits: nothing keeps running afterwards.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

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
    source = bundle(entry);
    bundles.set(entry, source);
  }
  return new Worker(source, { ...options, eval: true });
}

function bundle(entry: string): string {
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`bundling the worker ${entry} produced no output`);
  return output.text;
}
