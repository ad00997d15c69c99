// A drill that ships its own Alertmanager routing: the suite asks the target to run it, a variant's notification
// signals read that routing's Alertmanager (not the target's), and on a target that does not run it they are left
// out with a warning naming the file — never judged against a routing the drill did not ask for.

import { expect } from 'chai';
import type { ProvisionOptions, TargetEnvironment } from '../../clusters/target.js';
import { createVariantContext } from '../../harness/engine/phases/context.js';
import { createJournal } from '../../harness/journal/index.js';
import type { AlertmanagerRoutingFile, EventOf, ScenarioVariant } from '../../harness/model/index.js';
import { createNotificationPort } from '../../harness/signals/index.js';
import { FakeWorld, fakeRunbook, fakeScenario, runOnWorld } from '../support/fake-world.js';

const ROUTING: AlertmanagerRoutingFile = {
  id: 'r-0123456789ab',
  file: '/scenarios/alertmanager/team.yaml',
  yaml: 'route: { receiver: oncall }\nreceivers: [{ name: oncall }]\n',
  receivers: ['oncall'],
};

const scenario = fakeScenario({
  signals: [
    { name: 'errors-visible', kind: 'promql', query: 'fake_errors > 0', withinMs: 3000, pollMs: 200 },
    {
      name: 'page-delivered',
      kind: 'notification',
      alert: 'ErrorBudgetBurnFast',
      withinMs: 600,
      pollMs: 200,
    },
  ],
  variants: [
    { name: 'main', runbook: fakeRunbook('/runbooks/fix.md'), expect: 'recovery', routing: ROUTING },
  ],
});

async function runWith(alertmanager: TargetEnvironment['alertmanager']) {
  const world = new FakeWorld();
  const target = world.target();
  const provision = target.provision;
  const asked: ProvisionOptions[] = [];
  target.provision = async (o) => {
    asked.push(o);
    return { ...(await provision(o)), ...(alertmanager ? { alertmanager } : {}) };
  };
  const { journal } = await runOnWorld(world, [scenario], target);
  const detect = journal.events.find(
    (e): e is EventOf<'assertion'> => e.type === 'assertion' && e.id === 'detect:page-delivered',
  );
  return { asked, detect, events: journal.events };
}

describe("engine: a drill's own Alertmanager routing", function () {
  this.timeout(60_000);
  const target = { url: 'http://127.0.0.1:1', receiverUrl: 'http://127.0.0.1:2', routingDelayMs: 10_000 };

  it('asks the target to run the routing; where it does not, the notification signal is left out, naming the file', async () => {
    const { asked, detect, events } = await runWith(target);
    expect(asked[0]?.routings?.map((r) => r.id)).to.deep.equal([ROUTING.id]);
    expect(detect).to.equal(undefined);
    const warning = events.find(
      (e) => e.type === 'log' && e.level === 'warn' && e.message.includes('page-delivered'),
    );
    expect(warning?.type === 'log' && warning.message).to.equal(
      "page-delivered not judged: this fake target does not run the drill's own Alertmanager routing (/scenarios/alertmanager/team.yaml); only the local target does (docs/targets.md)",
    );
  });

  it('judges the signal where the target runs the routing (the control of the case above)', async () => {
    const { detect } = await runWith({
      ...target,
      routings: { [ROUTING.id]: { url: 'http://127.0.0.1:3', routingDelayMs: 2000, silentReceivers: [] } },
    });
    expect(detect).to.not.equal(undefined);
  });

  it("gives a variant its routing's port, and a variant without one the target's", async () => {
    const world = new FakeWorld();
    const port = (url: string) => createNotificationPort({ alertmanagerUrl: url, routingDelayMs: 1 });
    const targetPort = port('http://127.0.0.1:1');
    const routedPort = port('http://127.0.0.1:3');
    const ctx = {
      ...world.connect(),
      notifications: targetPort,
      routedNotifications: new Map([[ROUTING.id, routedPort]]),
      runId: 'r',
      journal: createJournal(),
      interrupt: new AbortController().signal,
    };
    const variant = (routing?: AlertmanagerRoutingFile): ScenarioVariant => ({
      name: 'main',
      runbook: null,
      expect: 'recovery',
      ...(routing ? { routing } : {}),
    });
    expect((await createVariantContext(ctx, scenario, variant(ROUTING), 1)).notifications).to.equal(
      routedPort,
    );
    expect((await createVariantContext(ctx, scenario, variant(), 1)).notifications).to.equal(targetPort);
  });
});
