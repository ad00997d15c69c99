// meshdrill's PromQL check at validate against the real one: each query is also written into a rule file and
// handed to the real `promtool check rules` (Debian's Prometheus 2.42), and both must give the same verdict —
// accepted, or refused. The refused half is the negative control: a checker that accepted everything would fail it.

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { run } from '../../harness/exec/index.js';
import { promqlProblem } from '../../harness/scenario/promql-syntax.js';
import { loadScenarios } from '../../harness/scenario/index.js';

const ACCEPTED = [
  'sum(rate(istio_requests_total{reporter="source"}[1m]))',
  'absent(up{app="istiod"} == 1)',
  'histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket[1m])))',
  'sum(increase(istio_agent_istiod_connection_failures[1m])) > 0',
  'max_over_time(up[5m:30s])',
  'quantile_over_time(0.9, up[1m])',
  'up offset 5m',
  'sum without (pod) (up) / on (app) group_left count by (app) (up)',
  'label_replace(up, "a", "$1", "job", "(.*)")',
  'vector(1) and on() hour() > 3',
  '(rate(x[1m]))',
  '{__name__=~"istio_.*"}',
];

const REFUSED = [
  'sum(rate(x[1m])',
  'rate(x[1m]) >',
  'foo bar',
  'rate(x)',
  'increase(istio_requests_total)',
  'quantile_over_time(0.9, up)',
  'sum(x[5m])',
  'x[5m] > 0',
  'rat(x[5m])',
  'sum by (le) (x) by (y)',
  'rate(x[5x])',
  'up{app="a"',
];

async function promtoolAccepts(dir: string, expr: string, i: number): Promise<boolean> {
  const file = join(dir, `rule-${i}.yaml`);
  writeFileSync(file, stringify({ groups: [{ name: 'g', rules: [{ record: 'test:rule', expr }] }] }));
  const result = await run('promtool', ['check', 'rules', file], { timeoutMs: 20_000 });
  return result.exitCode === 0;
}

describe('PromQL at validate: the same verdict as the real promtool', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'meshdrill-promql-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [i, expr] of [...ACCEPTED, ...REFUSED].entries()) {
    const accepted = i < ACCEPTED.length;
    it(`${accepted ? 'accepts' : 'refuses'} ${expr}`, async () => {
      expect(await promtoolAccepts(dir, expr, i), 'promtool').to.equal(accepted);
      const problem = promqlProblem(expr);
      expect(problem === undefined, problem ?? 'no problem found').to.equal(accepted);
    });
  }

  it("accepts every query and rule of the pack, as promtool accepts the pack's rule files", async () => {
    const result = await loadScenarios(['scenarios/'], { target: 'local' });
    expect(result.problems).to.deep.equal([]);
    for (const file of ['scenarios/alerts/slo.rules.yaml', 'scenarios/alerts/mesh.rules.yaml']) {
      const check = await run('promtool', ['check', 'rules', file], { timeoutMs: 20_000 });
      expect(check.exitCode, check.stdout + check.stderr).to.equal(0);
    }
  });
});
