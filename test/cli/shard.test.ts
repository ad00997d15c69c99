// `run --shard i/n` and `report --merge` from the command line: a bad shard is a usage error (exit 2) that says
// what it expected; a dry run prints the shard's plan only; an empty shard runs nothing and exits 0; the merge
// writes one run's reports and exits with its exit code, refuses a missing shard or a directory without a
// journal (exit 2), and `meshdrill compare` takes the merged run.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { parseCliArgs } from '../../harness/cli/args.js';
import { run } from '../../harness/exec/index.js';
import { MeshdrillError } from '../../harness/model/index.js';
import { loadScenarios } from '../../harness/scenario/index.js';
import type { Results } from '../../reports/results-types.js';
import { JOURNALS_DIR, loadFixture } from '../reports/fixtures.js';
import { splitJournal, toJsonl } from '../reports/shard-journals.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** How many drill runs the pack has (every variant of every scenario): the suite a shard takes its share of. */
async function packRuns(): Promise<number> {
  const loaded = await loadScenarios([join(ROOT, 'scenarios')], { target: 'local' });
  expect(loaded.problems).to.deep.equal([]);
  return loaded.scenarios.reduce((sum, s) => sum + s.variants.length, 0);
}
const meshdrill = (args: string[]) =>
  run(process.execPath, ['bin/meshdrill.js', ...args], { cwd: ROOT, timeoutMs: 90_000 });

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

describe('cli: --shard', function () {
  this.timeout(180_000);

  it('takes i/n with 1 ≤ i ≤ n ≤ 64', () => {
    expect(parseCliArgs(['run', 'scenarios/', '--shard', '2/3']).shard).to.deep.equal({ index: 2, count: 3 });
    expect(parseCliArgs(['run', 'scenarios/', '--shard=64/64']).shard).to.deep.equal({
      index: 64,
      count: 64,
    });
    expect(parseCliArgs(['run', 'scenarios/'])).to.not.have.property('shard');
  });

  it('refuses anything else, saying what it expected', () => {
    for (const bad of ['0/2', '3/2', 'x', '1/65', '1/0', '01/2', '-1/2', '1/2/3', '1 /2', '1.5/2', '2', '']) {
      expect(usageError(['run', 'x', `--shard=${bad}`])).to.equal(
        `--shard: expected i/n with whole numbers 1 ≤ i ≤ n ≤ 64, got "${bad}"`,
      );
    }
    expect(usageError(['run', 'x', '--shard'])).to.match(/--shard/);
  });

  it('exits 2 on a bad --shard before loading anything', async () => {
    const result = await meshdrill(['run', 'scenarios/', '--shard', '0/2']);
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.include('--shard: expected i/n with whole numbers 1 ≤ i ≤ n ≤ 64, got "0/2"');
  });

  it("--dry-run --shard prints that shard's plan: its line, its drills, nothing else", async () => {
    const result = await meshdrill(['run', 'scenarios/', '--dry-run', '--shard', '2/3']);
    expect(result.exitCode, result.stderr).to.equal(0);
    const [first] = result.stdout.split('\n');
    const total = await packRuns();
    const share = new RegExp(
      `^shard 2/3: (\\d+) of ${total} drill run\\(s\\), expected \\S+ of \\S+ — `,
    ).exec(first ?? '');
    expect(share, first).to.not.equal(null);
    const runs = Number(share?.[1]);
    // Balanced by expected time, a third of the runs give or take.
    expect(runs).to.be.within(1, Math.ceil(total / 2));
    const planned = [...result.stdout.matchAll(/^== drill (\S+) /gm)].map((m) => m[1]);
    const named = new Set([...(first ?? '').matchAll(/([a-z0-9-]+)\/[a-z0-9-]+#\d/g)].map((m) => m[1]));
    expect(planned).to.deep.equal([...named]);
    expect(planned.length).to.be.within(1, runs);
  });

  it('runs nothing on a shard that gets nothing, says so, and exits 0 with a journal to merge', async () => {
    const out = await mkdtemp(join(tmpdir(), 'meshdrill-empty-shard-'));
    try {
      // One shard more than the pack has runs: the last gets nothing.
      const total = await packRuns();
      const n = total + 1;
      const result = await meshdrill(['run', 'scenarios/', '--shard', `${n}/${n}`, '--out', out]);
      expect(result.exitCode, result.stderr).to.equal(0);
      expect(result.stderr).to.include(
        `shard ${n}/${n}: no drill run falls to this shard (the suite has ${total} run(s) for ${n} shards); nothing to run`,
      );
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
      expect(results.run.shard).to.deep.equal({ index: n, count: n });
      expect(results.verdict.counts.scenarios).to.equal(0);
      expect(readFileSync(join(out, 'index.html'), 'utf8')).to.match(
        new RegExp(`target local · shard ${n}/${n}`),
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('cli: report --merge', function () {
  this.timeout(180_000);
  let dir: string;
  let shards: string[];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdrill-merge-'));
    const journals = splitJournal(loadFixture('repeat-3').events, {
      count: 3,
      shardOf: (n) => n + 1,
      overlap: true,
    });
    shards = await Promise.all(
      journals.map(async (events, i) => {
        const shardDir = join(dir, `shard-${i + 1}`);
        await mkdir(shardDir, { recursive: true });
        await writeFile(join(shardDir, 'journal.jsonl'), toJsonl(events));
        return shardDir;
      }),
    );
    await mkdir(join(dir, 'whole'));
    await writeFile(join(dir, 'whole', 'journal.jsonl'), readFileSync(join(JOURNALS_DIR, 'repeat-3.jsonl')));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("writes one run's journal and reports, shows the shards in its header, and exits with its exit code", async () => {
    const out = join(dir, 'merged');
    const result = await meshdrill(['report', '--merge', out, ...shards]);
    expect(result.exitCode, result.stderr).to.equal(1);
    for (const file of ['journal.jsonl', 'results.json', 'junit.xml', 'index.html']) {
      expect(existsSync(join(out, file)), file).to.equal(true);
    }
    expect(result.stdout).to.match(
      /merged 3 shard\(s\) into run \S+: FAILED \(exit 1\) — 3 drill run\(s\), 1 failed/,
    );
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    expect(results.run.exitCode).to.equal(1);
    expect(results.verdict.counts).to.include({ scenarios: 3, passed: 2, failed: 1 });
    expect(readFileSync(join(out, 'index.html'), 'utf8')).to.include('merged from 3 shards');
  });

  it('is taken by compare, from the journal or from results.json alone', async () => {
    const out = join(dir, 'merged');
    const compared = await meshdrill(['compare', join(dir, 'whole'), out]);
    expect(compared.exitCode, compared.stdout + compared.stderr).to.equal(0);
    expect(compared.stdout).to.match(/^NO REGRESSION/m);
    const only = join(dir, 'results-only');
    await mkdir(only);
    await writeFile(join(only, 'results.json'), readFileSync(join(out, 'results.json')));
    const fromResults = await meshdrill(['compare', join(dir, 'whole'), only]);
    expect(fromResults.exitCode, fromResults.stdout + fromResults.stderr).to.equal(0);
  });

  it('refuses a missing shard (exit 2), saying which, and writes nothing', async () => {
    const out = join(dir, 'never');
    const result = await meshdrill(['report', '--merge', out, shards[0] as string, shards[2] as string]);
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.include('shard 2/3 is missing (given: 1/3, 3/3)');
    expect(existsSync(out)).to.equal(false);
  });

  it('refuses a directory without a journal (exit 2), naming it', async () => {
    const empty = join(dir, 'no-journal');
    await mkdir(empty);
    const result = await meshdrill(['report', '--merge', join(dir, 'never'), ...shards, empty]);
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.include(`${empty}: cannot read the journal at ${join(empty, 'journal.jsonl')}`);
  });
});
