// The harness's own event-loop stalls, reported beside a drill's latency: measured, and worded only when long.

import { expect } from 'chai';
import { describeLoopStalls, LOOP_STALL_LIMITS, watchLoopStalls } from '../../harness/engine/loop-stalls.js';

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

  it('says nothing for a lone short stall, and names the figures for frequent or long ones', () => {
    const { p99Ms, maxMs } = LOOP_STALL_LIMITS;
    expect(describeLoopStalls({ maxMs: maxMs - 1, p99Ms: p99Ms - 1 })).to.equal(undefined);
    expect(describeLoopStalls({ maxMs: 140, p99Ms })).to.match(
      new RegExp(`up to 140 ms .*p99 of its delays ${p99Ms} ms`),
    );
    expect(describeLoopStalls({ maxMs, p99Ms: 5 })).to.match(new RegExp(`up to ${maxMs} ms`));
  });
});
