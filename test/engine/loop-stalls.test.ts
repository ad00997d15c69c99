// The harness's own event-loop stalls, reported beside a drill's latency: measured, and worded only when long.

import { expect } from 'chai';
import { describeLoopStalls, LOOP_STALL_WARN_MS, watchLoopStalls } from '../../harness/engine/loop-stalls.js';

describe('event-loop stalls while the load runs', () => {
  it('measures a stall of the loop (a 300 ms synchronous block)', async () => {
    const watch = watchLoopStalls();
    await new Promise((resolve) => setTimeout(resolve, 60));
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // a synchronous block, as a large JSON parse or a sync file write would be
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
    const report = watch.stop();
    expect(report.maxMs).to.be.at.least(250);
    expect(watch.stop()).to.equal(report); // stopping again returns the same figures
    expect(describeLoopStalls(report)).to.match(/stalled for up to \d+ ms .*--parallel/);
  });

  it('says nothing below the threshold, and names the figures at it', () => {
    expect(describeLoopStalls({ maxMs: LOOP_STALL_WARN_MS - 1, p99Ms: 5 })).to.equal(undefined);
    expect(describeLoopStalls({ maxMs: LOOP_STALL_WARN_MS, p99Ms: 42 })).to.match(
      new RegExp(`up to ${LOOP_STALL_WARN_MS} ms .*p99 of its delays 42 ms`),
    );
  });
});
