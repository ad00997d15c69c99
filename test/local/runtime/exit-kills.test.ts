// The exit-time kills of local clusters: one 'exit' listener however many clusters run at once.

import { expect } from 'chai';
import { killOnProcessExit, runExitKillsForTest } from '../../../harness/exec/index.js';

describe('local clusters killed at process exit', () => {
  it('registers one exit listener for any number of clusters, and removes it with the last', () => {
    const before = process.listenerCount('exit');
    const killed: number[] = [];
    const forgets = Array.from({ length: 12 }, (_, i) => killOnProcessExit(() => killed.push(i)));
    expect(process.listenerCount('exit')).to.equal(before + 1);
    expect(runExitKillsForTest()).to.equal(12);
    expect(killed).to.deep.equal([...Array(12).keys()]);
    for (const forget of forgets.slice(0, 11)) forget();
    expect(process.listenerCount('exit')).to.equal(before + 1);
    forgets[11]?.();
    forgets[11]?.(); // forgetting twice changes nothing
    expect(process.listenerCount('exit')).to.equal(before);
    killed.length = 0;
    expect(runExitKillsForTest()).to.equal(0);
    expect(killed).to.deep.equal([]);
  });
});
