// bin/meshdrill.js on a built copy of this checkout: it runs dist/ while the build is fresh and the sources through
// tsx once a source is newer, and both print the same for `--help` and `validate scenarios/`. The copy (built with
// `make build`, ~20 s of tsc) keeps this checkout's own dist/ out of it: other tests may be running from it.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot, prebuiltBundle } from '../../harness/util/build-stamp.js';
import { PROGRAM_ENTRIES, WORKER_ENTRIES } from '../../scripts/build.js';

const NOT_COPIED = new Set([
  'node_modules',
  'dist',
  '.git',
  'runs',
  '.meshdrill',
  'test',
  'docs',
  'examples',
]);

interface Ran {
  stdout: string;
  status: number | null;
  /** What bin/meshdrill.js said it ran (MESHDRILL_TRACE_START). */
  ran: string;
}

describe('the built CLI (make build on a copy of the checkout)', function () {
  this.timeout(240_000);
  let copy: string;

  const cli = (args: string[], env: Record<string, string> = {}): Ran => {
    const { MESHDRILL_FROM: _ignored, ...inherited } = process.env;
    const r = spawnSync(process.execPath, [join(copy, 'bin', 'meshdrill.js'), ...args], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...inherited, MESHDRILL_TRACE_START: '1', NO_COLOR: '1', ...env },
      timeout: 60_000,
    });
    const ran = /^meshdrill: (running [^\n]*)/m.exec(r.stderr)?.[1] ?? `nothing said (stderr: ${r.stderr})`;
    return { stdout: r.stdout, status: r.status, ran };
  };

  before(() => {
    const root = packageRoot();
    copy = mkdtempSync(join(tmpdir(), 'meshdrill-dist-cli-'));
    for (const name of readdirSync(root).filter((n) => !NOT_COPIED.has(n)))
      cpSync(join(root, name), join(copy, name), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const made = spawnSync('make', ['build'], { cwd: copy, encoding: 'utf8' });
    expect(made.status, made.stdout + made.stderr).to.equal(0);
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it('a fresh build runs dist/, with the same --help as the sources', () => {
    const built = cli(['--help']);
    const sources = cli(['--help'], { MESHDRILL_FROM: 'sources' });
    expect(built.ran).to.equal('running dist/ (fresh build)');
    expect(sources.ran).to.equal('running the sources through tsx: MESHDRILL_FROM=sources');
    expect(built.status).to.equal(0);
    expect(built.stdout).to.include('validate').and.to.equal(sources.stdout);
  });
  it('validate scenarios/ from dist/ prints and exits as from the sources', () => {
    const built = cli(['validate', 'scenarios/']);
    const sources = cli(['validate', 'scenarios/'], { MESHDRILL_FROM: 'sources' });
    expect(built.ran).to.equal('running dist/ (fresh build)');
    expect(built.status).to.equal(0);
    expect(built.stdout).to.match(/scenarios valid/);
    expect([built.stdout, built.status]).to.deep.equal([sources.stdout, sources.status]);
  });
  it('the build holds every program and worker thread bundled, and offers them while fresh', () => {
    for (const entry of PROGRAM_ENTRIES)
      expect(prebuiltBundle(join(copy, entry), 'program', copy), entry).to.be.a('string');
    for (const entry of WORKER_ENTRIES)
      expect(prebuiltBundle(join(copy, entry), 'worker', copy), entry).to.be.a('string');
  });
  it('a source touched after the build runs the sources (an edit is never ignored)', () => {
    utimesSync(join(copy, 'harness', 'cli', 'main.ts'), new Date(), new Date());
    const r = cli(['--help']);
    expect(r.ran).to.equal('running the sources through tsx: harness/cli/main.ts changed after the build');
    expect(r.status).to.equal(0);
  });
});
