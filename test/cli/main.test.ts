// The command line's dispatch: help and version answer at once, an unknown command or none is a usage error
// (exit 2) that names the commands, and each command is found (a wrong entry in the lazy command table would
// only show when that command runs).

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { run } from '../../harness/exec/index.js';

const meshdrill = (args: string[]) =>
  run(process.execPath, ['bin/meshdrill.js', ...args], { timeoutMs: 60_000 });

describe('meshdrill command line', function () {
  this.timeout(120_000);

  it('prints the usage for --help (exit 0) and for no command (exit 2)', async () => {
    const help = await meshdrill(['--help']);
    expect(help.exitCode).to.equal(0);
    expect(help.stdout).to.include('Usage:');
    const none = await meshdrill([]);
    expect(none.exitCode).to.equal(2);
    expect(none.stdout).to.include('Usage:');
  });

  it('refuses an unknown command with exit 2, naming the commands', async () => {
    const bogus = await meshdrill(['deploy']);
    expect(bogus.exitCode).to.equal(2);
    expect(bogus.stderr).to.include('unknown command "deploy"');
    expect(bogus.stderr).to.include('commands: run, validate, report, compare, cleanup, cluster, doctor');
  });

  it('refuses an Istio version the local target does not serve, before anything runs, naming those it serves', async () => {
    const out = mkdtempSync(join(tmpdir(), 'meshdrill-istio-refused-'));
    try {
      // A served version first: refused as a whole, so not even its run starts (no run directory is made).
      const result = await meshdrill([
        'run',
        'scenarios/',
        '--istio',
        '1.30.3',
        '--istio',
        '1.29.4',
        '--out',
        out,
      ]);
      expect(result.exitCode).to.equal(2);
      expect(result.stderr).to.include('--istio 1.29.4: the local target serves Istio 1.29.9, 1.30.3 only');
      expect(result.stderr).to.include(
        'hint: name one of those with --istio (or leave --istio out for 1.30.3)',
      );
      expect(result.stderr).to.include('run other versions with --target kind');
      expect(readdirSync(out)).to.deep.equal([]);
      // `cluster up` is refused the same way, before anything starts.
      const up = await meshdrill(['cluster', 'up', '--istio', '9.9.9']);
      expect(up.exitCode).to.equal(2);
      expect(up.stderr).to.include('--istio 9.9.9: the local target serves Istio 1.29.9, 1.30.3 only');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    // Each version it serves is accepted (planned here, so nothing starts): the negative control.
    for (const version of ['1.29.9', '1.30.3']) {
      const served = await meshdrill([
        'run',
        'test/fixtures/scenarios/quick/scale-to-zero.yaml',
        '--istio',
        version,
        '--dry-run',
      ]);
      expect(served.exitCode, served.stderr).to.equal(0);
    }
  });

  it("checks a --runbook under review by the same rules as a scenario's own runbook (exit 2, file:line)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdrill-runbook-override-'));
    try {
      const scenario = 'test/fixtures/scenarios/quick/scale-to-zero.yaml';
      const cases: [string, string, string][] = [
        [
          'prose.md',
          '# Nothing to run\n\nJust prose.\n',
          'expected a runbook with at least one fenced bash, sh, shell or yaml block',
        ],
        [
          'bad-yaml.md',
          '# Bad\n\n```yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n```\n',
          'bad-yaml.md:6 step "Bad": expected valid YAML',
        ],
        [
          'unbound.md',
          '# Scale\n\n```bash\nkubectl -n <namespace> scale deploy <deployment> --replicas=2\n```\n',
          'placeholder <deployment> is not bound',
        ],
      ];
      for (const [name, text, message] of cases) {
        writeFileSync(join(dir, name), text);
        const result = await meshdrill(['run', scenario, '--runbook', join(dir, name), '--dry-run']);
        expect(result.exitCode, `${name}: ${result.stderr}`).to.equal(2);
        expect(result.stderr).to.include(message);
      }
      // Negative control: a sound runbook under review is accepted (planned, so nothing runs).
      writeFileSync(
        join(dir, 'good.md'),
        '# Scale back\n\n```bash\nkubectl -n <namespace> scale deploy shop --replicas=2\n```\n',
      );
      const good = await meshdrill(['run', scenario, '--runbook', join(dir, 'good.md'), '--dry-run']);
      expect(good.exitCode, good.stderr).to.equal(0);
      expect(good.stdout).to.include(`runbook ${join(dir, 'good.md')}, 1 step(s)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads each command when it is run: each answers its own usage error', async () => {
    const cases: [string[], RegExp][] = [
      [['validate'], /validate: expected at least one scenario file or directory/],
      [['report'], /report/],
      [['compare'], /compare/],
      [['cluster'], /cluster: expected up, down or status/],
      [['run'], /run/],
    ];
    for (const [args, message] of cases) {
      const result = await meshdrill(args);
      expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).to.equal(2);
      expect(result.stderr).to.match(message);
      expect(result.stderr).to.not.include('unexpected error');
    }
  });
});
