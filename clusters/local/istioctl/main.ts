// The istioctl program of the local target (bundled by installIstioctl and run through bin/istioctl).

import { runIstioctl } from './cli.js';

const code = await runIstioctl(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
process.exitCode = code;
