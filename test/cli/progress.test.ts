// Plain progress lines: one drill at a time reads top to bottom; drills side by side (--parallel) prefix each
// line with its scenario/variant so the lines of one drill can be followed (and grepped).

import { expect } from 'chai';
import { createProgress } from '../../harness/cli/progress.js';
import type { JournalEvent } from '../../harness/model/index.js';

function capture(interleaved: boolean, events: JournalEvent[]): string[] {
  const chunks: string[] = [];
  const out = {
    write: (chunk: string) => {
      chunks.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const progress = createProgress('plain', out, { interleaved });
  for (const event of events) progress.onEvent(event);
  progress.stop();
  return chunks.join('').trimEnd().split('\n');
}

const t = 0;
const EVENTS: JournalEvent[] = [
  {
    t,
    type: 'phase-start',
    scenario: 'canary-shift',
    variant: 'main',
    iteration: 1,
    phase: 'deploy',
    deadlineMs: 1000,
  },
  {
    t,
    type: 'phase-start',
    scenario: 'retry-storm',
    variant: 'main',
    iteration: 1,
    phase: 'load',
    deadlineMs: 1000,
  },
  { t, type: 'log', level: 'warn', scenario: 'retry-storm', message: 'floor above budget' },
  { t, type: 'cleanup', ok: true, removed: ['Namespace drill-a'], leftover: [] },
];

describe('progress lines', () => {
  it('are unprefixed when drills run one at a time', () => {
    expect(capture(false, EVENTS)).to.deep.equal([
      '  · deploy',
      '  · load',
      'warn: floor above budget',
      'cleanup: 1 object(s) removed, none left',
    ]);
  });

  it("carry the drill's scenario/variant when drills run side by side; run-level lines stay bare", () => {
    expect(capture(true, EVENTS)).to.deep.equal([
      'canary-shift/main │   · deploy',
      'retry-storm/main │   · load',
      'retry-storm │ warn: floor above budget',
      'cleanup: 1 object(s) removed, none left',
    ]);
  });
});
