// `silent` in a variant, end to end on the in-process fake world: the detect phase judges a signal the variant
// requires silent the other way round. A silent signal that stays quiet passes; one that fires fails the variant
// (the negative control: a silent check that cannot fail would prove nothing); other variants are judged as ever.

import { expect } from 'chai';
import type { EventOf, JournalEvent, SignalSpec } from '../../harness/model/index.js';
import { FakeWorld, fakeRunbook, fakeScenario, runOnWorld } from '../support/fake-world.js';

/** True only for a Deployment the fake world never has: a signal that never fires. */
const NEVER: SignalSpec = {
  name: 'page-inhibited',
  kind: 'kubernetes',
  resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'md-fake', name: 'no-such-deployment' },
  field: 'status.readyReplicas',
  op: 'exists',
  match: 'any',
  withinMs: 1500,
  pollMs: 200,
};
const FIRES: SignalSpec = {
  name: 'errors-visible',
  kind: 'promql',
  query: 'fake_errors > 0',
  withinMs: 3000,
  pollMs: 200,
};

const assertion = (events: readonly JournalEvent[], variant: string, id: string) =>
  events.find(
    (e): e is EventOf<'assertion'> => e.type === 'assertion' && e.variant === variant && e.id === id,
  );
const outcomeOf = (events: readonly JournalEvent[], variant: string) =>
  events.find((e): e is EventOf<'scenario-end'> => e.type === 'scenario-end' && e.variant === variant)
    ?.outcome;

describe('engine: signals a variant requires silent', function () {
  this.timeout(60_000);

  it('passes a silent signal that stayed quiet and fails the variant whose silent signal fired', async () => {
    const fix = fakeRunbook('/runbooks/fix.md');
    const scenario = fakeScenario({
      signals: [FIRES, NEVER],
      variants: [
        { name: 'main', runbook: fix, expect: 'recovery', silent: ['page-inhibited'] },
        { name: 'must-not-page', runbook: fix, expect: 'recovery', silent: ['errors-visible'] },
      ],
    });
    const { journal } = await runOnWorld(new FakeWorld(), [scenario]);
    const events = journal.events;

    const quiet = assertion(events, 'main', 'detect:page-inhibited');
    expect(quiet?.passed, quiet?.message).to.equal(true);
    expect(quiet?.message).to.match(/^stayed silent as expected: /);
    expect(assertion(events, 'main', 'detect:errors-visible')?.passed).to.equal(true);
    expect(outcomeOf(events, 'main')).to.equal('passed');

    const loud = assertion(events, 'must-not-page', 'detect:errors-visible');
    expect(loud?.passed).to.equal(false);
    expect(loud?.message).to.match(/^fired though it must stay silent in this variant: /);
    // Not silent in this variant: judged as ever, it must fire — and does not.
    const missed = assertion(events, 'must-not-page', 'detect:page-inhibited');
    expect(missed?.passed).to.equal(false);
    expect(missed?.message).to.match(/^did not fire within/);
    expect(outcomeOf(events, 'must-not-page')).to.equal('failed');
  });
});
