// The freshness rule of a build (harness/util/build-stamp.ts) and the bundlers that follow it, on throwaway roots:
// a fresh build's prebuilt bundle is used as is (esbuild does not run), and any input changed after the build —
// edited, added, removed — sends them back to bundling the sources. The real dist/ is never touched.

import { expect } from 'chai';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createBundler, programEntry } from '../../clusters/local/programs/index.js';
import {
  BUILD_INPUTS,
  buildFreshness,
  bundleKey,
  packageRoot,
  prebuiltBundle,
  stampPath,
} from '../../harness/util/build-stamp.js';
import { workerSource } from '../../harness/util/worker-thread.js';
import { PROGRAM_ENTRIES, WORKER_ENTRIES } from '../../scripts/build.js';

const MARK = '// prebuilt bundle, not esbuild output\n';
const past = (seconds: number): number => Date.now() / 1000 - seconds;

/** root/clusters/demo/main.ts (+ a worker), built 30 s ago from inputs last changed 60 s ago. */
function fakeCheckout(): string {
  const root = mkdtempSync(join(tmpdir(), 'meshdrill-build-stamp-'));
  const files: Record<string, string> = {
    'clusters/demo/main.ts': "const greeting: string = 'from the source';\nconsole.log(greeting);\n",
    'harness/demo/demo-worker.ts': "const answer: number = 42;\nconsole.log('worker', answer);\n",
    'package.json': '{"type":"module"}\n',
    'dist/programs/clusters/demo/main.mjs': MARK,
    'dist/programs/harness/demo/demo-worker.cjs': MARK,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const inputs = [
    'clusters/demo/main.ts',
    'clusters/demo',
    'clusters',
    'harness/demo/demo-worker.ts',
    'harness/demo',
  ];
  for (const path of [...inputs, 'harness', 'package.json']) utimesSync(join(root, path), past(60), past(60));
  writeFileSync(stampPath(root), JSON.stringify({ startedAt: Math.floor(past(30) * 1000) }));
  return root;
}

describe('build freshness', () => {
  let root: string;
  beforeEach(() => {
    root = fakeCheckout();
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('a build no input changed after is fresh (the control for the cases below)', () => {
    expect(buildFreshness(root)).to.deep.equal({ fresh: true });
  });
  it('no stamp (never built, or the build stopped half-way) is stale', () => {
    rmSync(stampPath(root));
    expect(buildFreshness(root)).to.include({ fresh: false });
  });
  it('an edited source makes it stale, and is named', () => {
    writeFileSync(join(root, 'clusters/demo/main.ts'), 'console.log(1);\n');
    expect(buildFreshness(root)).to.deep.equal({
      fresh: false,
      reason: 'clusters/demo/main.ts changed after the build',
    });
  });
  it('an added or removed file makes it stale (its directory changed)', () => {
    writeFileSync(join(root, 'harness/demo/new.ts'), '');
    expect(buildFreshness(root)).to.deep.equal({
      fresh: false,
      reason: 'harness/demo changed after the build',
    });
    rmSync(join(root, 'harness/demo/new.ts'));
    utimesSync(join(root, 'harness/demo'), past(60), past(60));
    expect(buildFreshness(root).fresh).to.equal(true);
    rmSync(join(root, 'harness/demo/demo-worker.ts'));
    expect(buildFreshness(root).fresh).to.equal(false);
  });
  it('a changed package.json (dependencies are bundled in) makes it stale', () => {
    writeFileSync(join(root, 'package.json'), '{"type":"module","dependencies":{}}\n');
    expect(buildFreshness(root)).to.deep.equal({
      fresh: false,
      reason: 'package.json changed after the build',
    });
  });
  it('keys a bundle by its source path, from the sources and from dist/ alike', () => {
    expect(bundleKey(join(root, 'clusters/demo/main.ts'), root)).to.equal('clusters/demo/main');
    expect(bundleKey(join(root, 'dist/clusters/demo/main.js'), root)).to.equal('clusters/demo/main');
    expect(bundleKey('/elsewhere/main.ts', root)).to.equal(undefined);
  });
  it('offers the prebuilt bundle only while fresh and present', () => {
    const entry = join(root, 'clusters/demo/main.ts');
    expect(prebuiltBundle(entry, 'program', root)).to.equal(
      join(root, 'dist/programs/clusters/demo/main.mjs'),
    );
    expect(prebuiltBundle(join(root, 'clusters/demo/other.ts'), 'program', root)).to.equal(undefined);
    utimesSync(entry, new Date(), new Date());
    expect(prebuiltBundle(entry, 'program', root)).to.equal(undefined);
  });
});

describe('the bundlers with a build', function () {
  // esbuild runs in the stale cases.
  this.timeout(30_000);
  let root: string;
  let out: string;
  beforeEach(() => {
    root = fakeCheckout();
    out = mkdtempSync(join(tmpdir(), 'meshdrill-bundles-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('program: a fresh build is copied, esbuild does not run', async () => {
    const file = await createBundler(out, root).ensure(join(root, 'clusters/demo/main.ts'));
    expect(readFileSync(file, 'utf8')).to.equal(MARK);
  });
  it('program: a source touched after the build is bundled now', async () => {
    const entry = join(root, 'clusters/demo/main.ts');
    utimesSync(entry, new Date(), new Date());
    const code = readFileSync(await createBundler(out, root).ensure(entry), 'utf8');
    expect(code).not.to.include(MARK.trim());
    expect(code).to.include('from the source');
  });
  it('worker thread: a fresh build is read, a touched source is bundled now', () => {
    const entry = join(root, 'harness/demo/demo-worker.ts');
    expect(workerSource(entry, root)).to.equal(MARK);
    utimesSync(entry, new Date(), new Date());
    const code = workerSource(entry, root);
    expect(code).not.to.include(MARK.trim());
    expect(code).to.include('worker');
  });
});

describe('what the build bundles ahead of time', () => {
  const root = packageRoot();
  const sources = (dir: string): string[] =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => join(dir, f));

  it('every container program and worker thread the code starts (so no esbuild runs during drills)', () => {
    const programs = new Set<string>();
    const workers = new Set<string>();
    for (const file of [...sources('harness'), ...sources('clusters')]) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const m of text.matchAll(/programEntry\('([^']+)'\)/g))
        programs.add(relative(root, join(root, 'clusters/local/programs', m[1] ?? '')));
      for (const m of text.matchAll(/new URL\('(\.\/[^']+-program\.ts)', import\.meta\.url\)/g))
        programs.add(relative(root, join(root, file, '..', m[1] ?? '')));
      for (const m of text.matchAll(/startWorkerThread\(import\.meta\.url, '([^']+)'/g))
        workers.add(relative(root, join(root, file, '..', `${m[1]}.ts`)));
      // A call the patterns above cannot read would escape this check.
      expect(text.match(/programEntry\((?!'|relative)/g) ?? [], file).to.deep.equal([]);
    }
    expect([...programs].sort()).to.deep.equal([...PROGRAM_ENTRIES].sort());
    expect([...workers].sort()).to.deep.equal([...WORKER_ENTRIES].sort());
    expect(programEntry('./fortio/main.ts')).to.equal(join(root, 'clusters/local/programs/fortio/main.ts'));
  });
  it('watches the sources it is built from', () => {
    for (const input of ['harness', 'clusters', 'reports', 'bin', 'package.json'])
      expect(BUILD_INPUTS).to.include(input);
  });
});
