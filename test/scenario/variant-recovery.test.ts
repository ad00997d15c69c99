// A runbook variant's own recovery (runbookVariants[].recovery): each field it gives replaces the drill's, each it
// leaves out is the drill's; bad input is refused at its line; names are unique within what one run judges by.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { scenarioOfVariant } from '../../harness/model/index.js';
import { formatProblem, loadScenarios, validateScenarioText } from '../../harness/scenario/index.js';

const F = fileURLToPath(new URL('../fixtures', import.meta.url));
const FILE = `${F}/scenarios/valid/istiod-crash.yaml`;
const TEXT = readFileSync(FILE, 'utf8');
const VARIANT = '      runbook: { path: runbooks/restart-istiod.md, variables: { REPLICAS: 2 } }\n';

/** The fixture with these lines under its runbook variant (scale-by-variable). */
function withVariantLines(lines: string): string {
  expect(TEXT).to.contain(VARIANT);
  return TEXT.replace(VARIANT, `${VARIANT}${lines}`);
}

async function load(text: string) {
  return validateScenarioText(text, FILE, { target: 'local' });
}

async function problems(text: string): Promise<string[]> {
  return (await load(text)).problems.map((p) => formatProblem(p, F));
}

/** The text resolved for the local target, from a file beside the fixture (its relative paths resolve there). */
async function variantScenario(text: string) {
  const file = `${F}/scenarios/valid/variant-recovery-${process.pid}.tmp.yaml`;
  writeFileSync(file, text);
  const loaded = await loadScenarios([file], { target: 'local' }).finally(() =>
    rmSync(file, { force: true }),
  );
  expect(loaded.problems.map((p) => formatProblem(p, F))).to.deep.equal([]);
  const [scenario] = loaded.scenarios;
  if (!scenario) throw new Error('no scenario');
  const variant = scenario.variants.find((v) => v.name === 'scale-by-variable');
  if (!variant) throw new Error('no variant');
  return { scenario, variant, own: scenarioOfVariant(scenario, variant) };
}

const OWN_CONDITIONS = `      recovery:
        conditions:
          - name: two-replicas
            kind: kubernetes
            resource: { kind: Deployment, name: istiod, namespace: istio-system }
            field: status.readyReplicas
            op: ">="
            value: 2
`;

describe('scenario: a runbook variant with a recovery of its own', () => {
  it('its conditions replace the whole list; budget and verify stay the drill’s, time-scaled (0.2)', async () => {
    const { scenario, variant, own } = await variantScenario(withVariantLines(OWN_CONDITIONS));
    expect(own.recovery.conditions.map((c) => c.name)).to.deep.equal(['two-replicas']);
    expect(own.recovery.conditions[0]).to.include({ kind: 'kubernetes', op: '>=', value: 2 });
    expect(own.recovery.budgetMs).to.equal(60_000);
    expect(own.recovery.verifyMs).to.equal(12_000);
    expect(own.timeouts.recover).to.equal(scenario.timeouts.recover);
    // The drill and its other variants keep the drill's.
    expect(scenario.recovery.conditions.map((c) => c.name)).to.deep.equal(['istiod-pushes', 'istiod-ready']);
    const main = scenario.variants[0];
    if (!main) throw new Error('no main');
    expect(scenarioOfVariant(scenario, main)).to.equal(scenario);
    expect(variant.ownRecovery).to.not.equal(undefined);
  });

  it('budget and verify replace the drill’s and set its remediate and recover deadlines; conditions stay', async () => {
    const { scenario, own } = await variantScenario(
      withVariantLines('      recovery: { budget: 10m, verify: 2m }\n'),
    );
    expect(own.recovery.budgetMs).to.equal(120_000);
    expect(own.recovery.verifyMs).to.equal(24_000);
    expect(own.recovery.conditions.map((c) => c.name)).to.deep.equal(['istiod-pushes', 'istiod-ready']);
    expect(own.timeouts.remediate).to.equal(120_000);
    // budget + verify + the phase slack (30s), all scaled.
    expect(own.timeouts.recover).to.equal(120_000 + 24_000 + 6_000);
    expect(scenario.timeouts.recover).to.equal(60_000 + 12_000 + 6_000);
    // The load lasts as long as the longest variant may need.
    expect(scenario.load.maxDurationMs).to.be.greaterThan(
      (await variantScenario(TEXT)).scenario.load.maxDurationMs,
    );
  });

  it('absent: the variant runs with the drill’s recovery (negative control of the override)', async () => {
    const { scenario, variant, own } = await variantScenario(TEXT);
    expect(variant.ownRecovery).to.equal(undefined);
    expect(own).to.equal(scenario);
    expect(own.recovery.conditions.map((c) => c.name)).to.deep.equal(['istiod-pushes', 'istiod-ready']);
  });

  it('a bad field is refused at its line, with what was expected and what was got', async () => {
    expect(await problems(withVariantLines('      recovery: { budget: 5 }\n'))).to.deep.equal([
      'scenarios/valid/istiod-crash.yaml:75:27 runbookVariants[0].recovery.budget: expected a duration like "60s", got 5 (number)',
    ]);
    expect(await problems(withVariantLines('      recovery: { conditons: [] }\n'))).to.deep.equal([
      'scenarios/valid/istiod-crash.yaml:75:19 runbookVariants[0].recovery.conditons: unknown field "conditons" (did you mean "conditions"?); valid fields: budget, verify, conditions',
    ]);
    // A condition of its own is checked as the drill's are: a recovery condition has no within.
    const within = OWN_CONDITIONS.replace('value: 2\n', 'value: 2\n            within: 1m\n');
    expect(await problems(withVariantLines(within))).to.deep.equal([
      'scenarios/valid/istiod-crash.yaml:83:13 runbookVariants[0].recovery.conditions[0].within: unknown field "within"; valid fields: name, poll, kind, resource, field, op, value, match',
    ]);
  });

  it('its own verify may not outlast the budget it runs with (the drill’s when it gives none)', async () => {
    expect(await problems(withVariantLines('      recovery: { verify: 6m }\n'))).to.deep.equal([
      'scenarios/valid/istiod-crash.yaml:75:27 runbookVariants[0].recovery.verify: expected a verification window no longer than the recovery budget (5m), got "6m"; shorten verify or raise budget',
    ]);
    expect(await problems(withVariantLines('      recovery: { verify: 4m }\n'))).to.deep.equal([]);
  });

  it('names are unique within what one run judges by: its own list and efficacy/detect, not the drill’s recovery', async () => {
    // The drill's recovery condition name again: it replaces that list, so no clash.
    const reuse = OWN_CONDITIONS.replace('two-replicas', 'istiod-ready');
    expect(await problems(withVariantLines(reuse))).to.deep.equal([]);
    // An efficacy check's name: both are judged in the variant's run.
    const clash = OWN_CONDITIONS.replace('two-replicas', 'istiod-down');
    expect(await problems(withVariantLines(clash))).to.deep.equal([
      'scenarios/valid/istiod-crash.yaml:77:19 runbookVariants[0].recovery.conditions[0].name: "istiod-down" is already used by efficacy[0]; give each efficacy check, signal and recovery condition its own name',
    ]);
    // Twice in its own list.
    const twice = `${OWN_CONDITIONS}${OWN_CONDITIONS.split('\n').slice(2).join('\n')}`;
    expect(await problems(withVariantLines(twice))).to.deep.equal([
      'scenarios/valid/istiod-crash.yaml:83:19 runbookVariants[0].recovery.conditions[1].name: "two-replicas" is already used by runbookVariants[0].recovery.conditions[0]; give each efficacy check, signal and recovery condition its own name',
    ]);
  });
});

describe('scenario: the receiver of a runbook variant’s own notification condition', () => {
  const file = `${F}/scenarios/invalid/53-receiver-unrouted.yaml`;
  const text = readFileSync(file, 'utf8');
  const variant =
    '    - { name: tickets, runbook: none, alertmanager: { routing: routing/tickets-only.yml } }\n';
  const own = (receiver: string) =>
    text.replace(
      variant,
      `    - name: tickets
      runbook: none
      alertmanager: { routing: routing/tickets-only.yml }
      recovery:
        conditions:
          - { name: ticket-filed, kind: notification, alert: IstiodDown, receiver: ${receiver} }
`,
    );
  const receiverProblems = async (t: string) =>
    (await validateScenarioText(t, file, { target: 'local' })).problems
      .map((p) => formatProblem(p, F))
      .filter((m) => m.includes('recovery.conditions'));

  it('is checked against that variant’s routing alone, and the drill’s no longer against it', async () => {
    expect(text).to.contain(variant);
    // As written, the drill's recovery condition is judged in the tickets variant too, whose routing lacks it.
    expect(await receiverProblems(text)).to.have.length(1);
    expect(await receiverProblems(own('tickets'))).to.deep.equal([]);
    expect(await receiverProblems(own('team-pager'))).to.deep.equal([
      `scenarios/invalid/53-receiver-unrouted.yaml:44:84 runbookVariants[0].recovery.conditions[0].receiver: expected a receiver of the routing "routing/tickets-only.yml", which variant tickets runs with (tickets), got "team-pager": no notification could reach it there; name one of those receivers, define and route to it in that file, or leave receiver out to accept any`,
    ]);
  });
});
