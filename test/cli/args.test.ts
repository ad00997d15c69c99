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

  it('refuses a value that is not a whole number in range, saying what it expected', () => {
    expect(usageError(['run', 'x', '--parallel', '0'])).to.equal(
      '--parallel: expected a whole number from 1 to 16, got "0"',
    );
    expect(usageError(['run', 'x', '--parallel', 'two'])).to.equal(
      '--parallel: expected a whole number from 1 to 16, got "two"',
    );
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
});
