// Command-line options that decide how drills run: bad values are usage errors (exit 2) that say what is expected,
// and `run --parallel` refuses drills that would clash on the shared cluster before provisioning anything.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { parseCliArgs } from '../../harness/cli/args.js';
import { run } from '../../harness/exec/index.js';
import { MeshdrillError } from '../../harness/model/index.js';

const ROOT = resolve(import.meta.dirname, '../..');

function usageError(argv: string[]): string {
  try {
    parseCliArgs(argv);
  } catch (error) {
    expect(error).to.be.instanceOf(MeshdrillError);
    expect((error as MeshdrillError).exitCode).to.equal(2);
    return (error as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}

describe('cli: --parallel and --repeat', () => {
  it('defaults to one drill at a time and one repetition', () => {
    expect(parseCliArgs(['run', 'scenarios/'])).to.include({ parallel: 1, repeat: 1 });
    expect(parseCliArgs(['run', 'scenarios/', '--parallel', '3'])).to.include({ parallel: 3 });
  });

  it('takes --parallel auto, and N still forces N', () => {
    expect(parseCliArgs(['run', 'scenarios/', '--parallel', 'auto'])).to.include({ parallel: 'auto' });
    expect(parseCliArgs(['run', 'scenarios/', '--parallel', '16'])).to.include({ parallel: 16 });
    expect(parseCliArgs(['run', 'scenarios/', '--parallel=auto'])).to.include({ parallel: 'auto' });
  });

  it('refuses a value that is not a whole number in range, saying what it expected', () => {
    for (const bad of ['0', 'two', '17', '2.5', 'AUTO', 'auto2', '']) {
      expect(usageError(['run', 'x', '--parallel', bad])).to.equal(
        `--parallel: expected auto or a whole number from 1 to 16, got "${bad}"`,
      );
    }
    expect(usageError(['run', 'x', '--parallel'])).to.match(/--parallel/);
    expect(usageError(['run', 'x', '--repeat', '1.5'])).to.equal(
      '--repeat: expected a whole number from 1 to 100, got "1.5"',
    );
  });

  it('run --parallel refuses two side-by-side drills on one ingress host, naming both, before provisioning', async function () {
    this.timeout(60_000);
    const result = await run(
      './bin/meshdrill.js',
      [
        'run',
        'test/fixtures/scenarios/side-by-side/',
        '--parallel',
        '2',
        '--out',
        '/tmp/meshdrill-never-written',
      ],
      { cwd: ROOT, timeoutMs: 50_000 },
    );
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.contain('side-b and side-a');
    expect(result.stderr).to.contain('both use host shop.drill.local');
    expect(result.stderr).to.contain('nothing was run');
    expect(result.stderr).to.not.contain('starting the API server');
    expect(existsSync('/tmp/meshdrill-never-written'), 'no output directory').to.equal(false);
  });

  it('run --parallel auto refuses clashing drills as --parallel N does (auto may choose more than one)', async function () {
    this.timeout(60_000);
    const result = await run(
      './bin/meshdrill.js',
      [
        'run',
        'test/fixtures/scenarios/side-by-side/',
        '--parallel',
        'auto',
        '--out',
        '/tmp/meshdrill-never-written',
      ],
      { cwd: ROOT, timeoutMs: 50_000 },
    );
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.contain('both use host shop.drill.local');
    expect(result.stderr).to.not.contain('starting the API server');
    expect(existsSync('/tmp/meshdrill-never-written'), 'no output directory').to.equal(false);
  });

  it('run --parallel with a bad value is a usage error (exit 2) that names auto', async function () {
    this.timeout(60_000);
    const result = await run('./bin/meshdrill.js', ['run', 'scenarios/', '--parallel', 'many'], {
      cwd: ROOT,
      timeoutMs: 50_000,
    });
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.contain('--parallel: expected auto or a whole number from 1 to 16, got "many"');
  });
});
