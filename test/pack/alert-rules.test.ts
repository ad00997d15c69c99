// The pack's Prometheus alert rules, unit-tested with `promtool test rules` (Debian promtool 2.42): for every
// alert one case that fires and one that must not (test/fixtures/promtool/*.test.yaml), plus a mutation check
// proving the promtool run can fail.

import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { run } from '../../harness/exec/index.js';
import { parseRuleFile } from '../../harness/slo/detection.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/promtool');
const RULES = join(ROOT, 'scenarios/alerts');

async function promtool(...args: string[]) {
  const result = await run('promtool', args, { timeoutMs: 60_000 });
  if (result.spawnError)
    throw new Error(`promtool could not start (${result.spawnError}); apt-get install prometheus`);
  return result;
}

/** Alert names the tests expect to fire (`alertname` with a non-empty exp_alerts), by file. */
async function alertsTestedFiring(testFile: string): Promise<Set<string>> {
  const text = await readFile(join(FIXTURES, testFile), 'utf8');
  const firing = new Set<string>();
  for (const m of text.matchAll(/alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels/g))
    firing.add(m[1] as string);
  return firing;
}

async function alertsTestedQuiet(testFile: string): Promise<Set<string>> {
  const text = await readFile(join(FIXTURES, testFile), 'utf8');
  return new Set([...text.matchAll(/alertname: (\w+)\n\s+exp_alerts: \[\]/g)].map((m) => m[1] as string));
}

describe('pack alert rules (promtool)', function () {
  this.timeout(90_000);

  for (const file of ['slo.rules.yaml', 'mesh.rules.yaml']) {
    it(`${file} passes promtool check rules`, async () => {
      const result = await promtool('check', 'rules', join(RULES, file));
      expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    });

    it(`${file}: every alert has a firing and a quiet promtool test, and they pass`, async () => {
      const testFile = file.replace('.yaml', '.test.yaml');
      const parsed = parseRuleFile(await readFile(join(RULES, file), 'utf8'), file);
      if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
      const alerts = parsed.rules.map((r) => r.alert);
      expect(alerts.length).to.be.greaterThan(0);
      const firing = await alertsTestedFiring(testFile);
      const quiet = await alertsTestedQuiet(testFile);
      for (const alert of alerts) {
        expect(firing.has(alert), `${alert} has no promtool case where it fires`).to.equal(true);
        expect(quiet.has(alert), `${alert} has no promtool case where it must stay quiet`).to.equal(true);
      }
      const result = await promtool('test', 'rules', join(FIXTURES, testFile));
      expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout + result.stderr).to.contain('SUCCESS');
    });
  }

  it('a broken threshold makes the promtool tests fail (the tests can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-promtool-'));
    try {
      // Same layout relative to the test file: DIR/test/fixtures/promtool and DIR/scenarios/alerts.
      await mkdir(join(dir, 'test/fixtures/promtool'), { recursive: true });
      await mkdir(join(dir, 'scenarios/alerts'), { recursive: true });
      const rules = await readFile(join(RULES, 'slo.rules.yaml'), 'utf8');
      // Page at 24x instead of 14x: the 10 % error case (20x) no longer pages.
      await writeFile(
        join(dir, 'scenarios/alerts/slo.rules.yaml'),
        rules.replaceAll('(14 * 0.005)', '(24 * 0.005)'),
      );
      await copyFile(
        join(FIXTURES, 'slo.rules.test.yaml'),
        join(dir, 'test/fixtures/promtool/slo.rules.test.yaml'),
      );
      const result = await promtool('test', 'rules', join(dir, 'test/fixtures/promtool/slo.rules.test.yaml'));
      expect(result.exitCode).to.equal(1);
      expect(result.stdout + result.stderr).to.contain('ErrorBudgetBurnFast');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
