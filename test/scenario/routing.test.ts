// Alertmanager routing files at validate (harness/scenario/routing.ts): checked once per distinct file, by the
// real amtool when it is on PATH and structurally (with a warning) when it is not; amtool's output read into
// positions; meshdrill's default receiver the same name on both sides of the layer boundary.

import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { MESHDRILL_RECEIVER } from '../../clusters/shared/alertmanager/config.js';
import { DEFAULT_ROUTING_RECEIVER } from '../../harness/model/index.js';
import { formatProblem, loadScenarios, validateScenarioText } from '../../harness/scenario/index.js';
import { parseAmtoolOutput } from '../../harness/scenario/routing.js';

const F = fileURLToPath(new URL('../fixtures', import.meta.url));
const ROUTING = `${F}/scenarios/routing`;
const GOOD = `${ROUTING}/own-routing.yaml`;

describe('scenario: Alertmanager routing files', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'meshdrill-amtool-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('identifies a routing by its content and lists its receivers in order', async () => {
    const { scenarios } = await loadScenarios([GOOD], { target: 'local' });
    const routing = scenarios[0]?.variants[0]?.routing;
    const text = readFileSync(`${ROUTING}/team.alertmanager.yml`, 'utf8');
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
    expect(routing).to.deep.equal({
      id: `r-${hash}`,
      file: `${ROUTING}/team.alertmanager.yml`,
      yaml: text,
      receivers: ['team-pager', 'tickets', 'blackhole'],
    });
    expect(routing?.id).to.match(/^r-[0-9a-f]{12}$/);
  });

  it('runs amtool once per distinct file per validation, whichever scenarios and variants name it', async () => {
    const log = join(dir, 'calls.log');
    const counting = join(dir, 'amtool');
    writeFileSync(counting, `#!/bin/sh\necho "$2" >> '${log}'\nexec amtool "$@"\n`);
    chmodSync(counting, 0o755);
    const result = await loadScenarios([ROUTING], { target: 'local', amtool: counting });
    expect(result.problems).to.deep.equal([]);
    expect(result.scenarios.map((s) => s.name)).to.deep.equal(['own-routing', 'shared-routing']);
    const calls = readFileSync(log, 'utf8').trim().split('\n').sort();
    expect(calls).to.deep.equal([`${ROUTING}/quiet.alertmanager.yml`, `${ROUTING}/team.alertmanager.yml`]);
  });

  it('without amtool, checks the structure only and says so in a warning, not an error', async () => {
    const text = readFileSync(GOOD, 'utf8').replace('team.alertmanager.yml', 'typo.alertmanager.yml');
    const absent = join(dir, 'no-such-amtool');
    const checked = await validateScenarioText(text, GOOD, { target: 'local', amtool: absent });
    // The misspelt field only amtool sees goes through; the warning says the file was not checked as Alertmanager would.
    expect(checked.problems).to.deep.equal([]);
    const warnings = (checked.warnings ?? []).map((w) => formatProblem(w, F)).sort();
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.match(
      /^scenarios\/routing\/quiet\.alertmanager\.yml warning: checked structurally only \(route and named receivers\), not as Alertmanager loads it: \S+no-such-amtool was not found; install amtool \(Debian: prometheus-alertmanager\) to check it with amtool check-config$/,
    );
    expect(warnings[1]).to.match(
      /^scenarios\/routing\/typo\.alertmanager\.yml warning: checked structurally only/,
    );
    // Through loadScenarios too, which the CLI prints before the verdict.
    const loaded = await loadScenarios([GOOD], { target: 'local', amtool: absent });
    expect(loaded.problems).to.deep.equal([]);
    expect(loaded.warnings).to.have.length(2);
  });

  it('still refuses a file that is not an Alertmanager configuration without amtool', async () => {
    const file = `${F}/scenarios/invalid/51-routing-shape.yaml`;
    const result = await loadScenarios([file], { target: 'local', amtool: join(dir, 'no-such-amtool') });
    expect(result.problems.map((p) => p.rule)).to.deep.equal([
      'alertmanager-routing-valid',
      'alertmanager-routing-valid',
    ]);
    expect(result.warnings).to.deep.equal([]);
  });

  it("reads amtool's objections: each line it names, else its message", () => {
    const unmarshal =
      "Checking 'x.yml'  FAILED: yaml: unmarshal errors:\n  line 11: field bogus not found in type config.plain\n  line 14: field other not found in type config.plain\n\namtool: error: failed to validate 1 file(s)\n";
    expect(parseAmtoolOutput(unmarshal)).to.deep.equal([
      { line: 11, message: 'field bogus not found in type config.plain' },
      { line: 14, message: 'field other not found in type config.plain' },
    ]);
    const syntax = "Checking 'x.yml'  FAILED: yaml: line 3: did not find expected key\n\namtool: error: x\n";
    expect(parseAmtoolOutput(syntax)).to.deep.equal([{ line: 3, message: 'did not find expected key' }]);
    const semantic = `Checking 'x.yml'  FAILED: undefined receiver "pagr" used in route\n\namtool: error: x\n`;
    expect(parseAmtoolOutput(semantic)).to.deep.equal([
      { message: 'undefined receiver "pagr" used in route' },
    ]);
    expect(parseAmtoolOutput('amtool: error: something else\n')).to.deep.equal([
      { message: 'amtool: error: something else' },
    ]);
  });

  it("names meshdrill's default receiver as clusters/shared/alertmanager does", () => {
    expect(DEFAULT_ROUTING_RECEIVER).to.equal(MESHDRILL_RECEIVER);
  });
});
