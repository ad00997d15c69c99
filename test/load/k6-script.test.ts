// Tests of the generated k6 scripts: golden files (UPDATE_GOLDEN=1 regenerates them) and a type check of each
// script against @types/k6 with tsc (allowJs + checkJs, strict), run through harness/exec.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { run } from '../../harness/exec/index.js';
import { buildK6Thresholds, formatK6Duration, generateK6Script } from '../../harness/load/k6/script.js';
import type { LoadProfile } from '../../harness/model/load.js';
import type { SloThreshold } from '../../harness/model/scenario.js';
import { parseThreshold } from '../../harness/slo/threshold.js';
import { makeProfile } from './support.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(ROOT, 'test/fixtures/k6');

function slos(...texts: string[]): SloThreshold[] {
  return texts.map((text) => {
    const parsed = parseThreshold(text);
    if (!parsed.ok) throw new Error(`bad threshold in test: ${text}`);
    return parsed.threshold;
  });
}

const CASES: { name: string; profile: LoadProfile; slos: SloThreshold[] }[] = [
  {
    name: 'constant-basic',
    profile: makeProfile({
      rate: 50,
      maxDurationMs: 300_000,
      maxInFlight: 200,
      requestTimeoutMs: 5000,
      maxRequests: 100_000,
    }),
    slos: slos('success_rate >= 99.5%', 'p(95) < 300ms'),
  },
  {
    name: 'ramping-mix',
    profile: makeProfile({
      executor: 'ramping-arrival-rate',
      rate: 10,
      stages: [
        { durationMs: 30_000, target: 200 },
        { durationMs: 60_000, target: 200 },
        { durationMs: 10_000, target: 0 },
      ],
      maxDurationMs: 600_000,
      maxInFlight: 500,
      requestTimeoutMs: 2500,
      maxRequests: 50_000,
      host: 'shop.example.com',
      requests: [
        { method: 'GET', path: '/productpage', headers: {}, weight: 8 },
        {
          method: 'post',
          path: '/api/v1/reviews',
          headers: { 'content-type': 'application/json', 'x-drill': 'it\'s "quoted"' },
          body: '{"stars":5}',
          weight: 2,
        },
      ],
    }),
    slos: slos('error_rate < 1%', 'p(99) <= 1s', 'p(50) < 120ms'),
  },
];

async function typeCheck(script: string): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-k6-'));
  try {
    await writeFile(join(dir, 'script.js'), script);
    const tsconfig = {
      compilerOptions: {
        allowJs: true,
        checkJs: true,
        noEmit: true,
        strict: true,
        target: 'ES2020',
        lib: ['ES2020'],
        module: 'ESNext',
        moduleResolution: 'Bundler',
        types: ['k6'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
        skipLibCheck: true,
      },
      files: ['script.js'],
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', dir], { timeoutMs: 60_000 });
    return { ok: result.exitCode === 0, output: result.stdout + result.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('load/k6 script', function () {
  this.timeout(60_000);

  for (const c of CASES) {
    it(`matches the golden file ${c.name}.js`, async () => {
      const script = generateK6Script(c.profile, c.slos);
      const file = join(FIXTURES, `${c.name}.js`);
      if (process.env.UPDATE_GOLDEN === '1') await writeFile(file, script);
      const golden = await readFile(file, 'utf8').catch(() => '');
      expect(
        script,
        `${file} is stale: run UPDATE_GOLDEN=1 npx mocha ${'test/load/k6-script.test.ts'}`,
      ).to.equal(golden);
    });

    it(`type-checks ${c.name}.js against @types/k6`, async () => {
      const result = await typeCheck(generateK6Script(c.profile, c.slos));
      expect(result.ok, result.output).to.equal(true);
    });
  }

  it('fails the type check on a script k6 would reject (the check can fail)', async () => {
    const broken = generateK6Script(CASES[0]?.profile as LoadProfile, []).replace(
      '"constant-arrival-rate"',
      '"constant-arival-rate"',
    );
    expect(broken).to.include('constant-arival-rate');
    const result = await typeCheck(broken);
    expect(result.ok).to.equal(false);
    expect(result.output).to.match(/script\.js.*error TS/);
  });

  it('mirrors each SLO as a threshold, inverting success into http_req_failed', () => {
    expect(
      buildK6Thresholds(slos('success_rate >= 99.5%', 'success_rate > 99%', 'error_rate <= 2%')),
    ).to.deep.equal({
      http_req_failed: ['rate<=0.005', 'rate<0.01', 'rate<=0.02'],
    });
    expect(buildK6Thresholds(slos('p(95) < 300ms', 'p(99.9) <= 2s'))).to.deep.equal({
      http_req_duration: ['p(95)<300', 'p(99.9)<=2000'],
    });
  });

  it('writes durations as k6 understands them', () => {
    expect(formatK6Duration(30_000)).to.equal('30s');
    expect(formatK6Duration(1500)).to.equal('1500ms');
  });

  it('cuts ramping stages at maxDurationMs at the rate reached', () => {
    const script = generateK6Script(
      makeProfile({
        executor: 'ramping-arrival-rate',
        rate: 0,
        stages: [{ durationMs: 10_000, target: 100 }],
        maxDurationMs: 4000,
      }),
      [],
    );
    expect(script).to.include('"target": 40,\n          "duration": "4s"');
  });
});
