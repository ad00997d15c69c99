// The istioctl program of the local target (bundled by installIstioctl and run through bin/istioctl).

import { createInterface } from 'node:readline';
import { runIstioctl } from './cli.js';

/** Lines of stdin, read only when a prompt asks (a run with stdin closed or /dev/null reads its end at once). */
function stdinLines(): () => Promise<string | undefined> {
  let lines: AsyncIterator<string> | undefined;
  return async () => {
    lines ??= createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
    const next = await lines.next();
    return next.done ? undefined : next.value;
  };
}

const code = await runIstioctl(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  readLine: stdinLines(),
});
process.exitCode = code;
// The prompt's reader may hold stdin open; the answer is in, so nothing more is read.
process.stdin.destroy();
