// Load samples arrive a little after the second they describe: a window is judged once its last one is in.

import type { LoadSample } from '../../model/index.js';
import { sleep } from '../phase-runner.js';

/** Waits (at most a little over a second) until the sample of the second holding `until` has arrived. */
export async function waitForSample(
  samples: readonly LoadSample[],
  until: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 1500;
  while (Date.now() < deadline && !samples.some((s) => s.t + 1000 >= until)) await sleep(50, signal);
}
