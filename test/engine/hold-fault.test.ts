// duringFault.holdFor on the in-process fake world: the runbook waits until that long after the injection, however
// soon detection ended, and the during-fault window spans it; without it (the control) the runbook starts as soon
// as detection ends, well inside the same time.

import { expect } from 'chai';
import type { EventOf, JournalEvent } from '../../harness/model/index.js';
import { FakeWorld, fakeScenario, runOnWorld } from '../support/fake-world.js';

const HOLD_MS = 4000;

/** From the injection to the runbook's start: the during-fault window the engine journals. */
function duringFaultMs(events: readonly JournalEvent[]): number {
  const window = events.find(
    (e): e is EventOf<'slo-window'> => e.type === 'slo-window' && e.window === 'during-fault',
  );
  if (!window) throw new Error('no during-fault window');
  return window.to - window.from;
}

describe('engine: duringFault.holdFor', function () {
  this.timeout(60_000);

  it('starts the runbook no earlier than holdFor after the injection, and says so', async () => {
    const held = fakeScenario({ duringFault: { slos: 'ignore', holdForMs: HOLD_MS } });
    const { journal, result } = await runOnWorld(new FakeWorld(), [held]);
    expect(result.outcome).to.equal('passed');
    expect(duringFaultMs(journal.events)).to.be.at.least(HOLD_MS);
    const note = journal.events.find((e) => e.type === 'log' && e.message.includes('duringFault.holdFor'));
    expect(note?.type === 'log' && note.message).to.match(/^the fault is held .* more before the runbook/);
  });

  it('control: without holdFor the runbook starts once detection ends, inside the same time', async () => {
    const { journal } = await runOnWorld(new FakeWorld(), [fakeScenario()]);
    expect(duringFaultMs(journal.events)).to.be.below(HOLD_MS);
  });
});
