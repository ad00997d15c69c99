// A drill of the pack with its load sent from inside the cluster: `meshdrill run scenarios/canary-progressive.yaml
// --load-driver k6 --target-opt k6-mode=in-cluster --target-opt k6-runners=3` on the local target, whose emulated
// k6-operator runs the TestRun's three runner pods. Judged from the journal: every variant passes as with the
// built-in generator, the samples are the merged runners' (k6 samples carry no instrument data; the built-in
// generator's always do) at the scenario's rate, and cleanup leaves nothing.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { run } from '../../../harness/exec/index.js';
import type { JournalEvent } from '../../../harness/model/journal.js';
import type { LoadSample } from '../../../harness/model/load.js';
import { explainVariant, readPackVerdicts } from '../../pack/journal-verdicts.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const RATE = 40; // scenarios/canary-progressive.yaml's load.rate

describe('a pack drill with in-cluster k6 load (3 runners) on the local target', function () {
  this.timeout(12 * 60_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdrill-k6-drill-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes every variant, judged on the runners’ merged samples, and leaves nothing behind', async () => {
    const result = await run(
      './bin/meshdrill.js',
      [
        'run',
        'scenarios/canary-progressive.yaml',
        '--load-driver',
        'k6',
        '--target-opt',
        'k6-mode=in-cluster',
        '--target-opt',
        'k6-runners=3',
        '--out',
        dir,
      ],
      { cwd: ROOT, timeoutMs: 10 * 60_000 },
    );
    const output = `${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`;
    const verdicts = await readPackVerdicts(dir);
    expect(verdicts.runEnd, `${verdicts.variants.map(explainVariant).join('\n')}\n${output}`).to.deep.equal({
      outcome: 'passed',
      exitCode: 0,
    });
    expect(verdicts.variants.map((v) => v.outcome)).to.deep.equal(['passed', 'passed']);
    expect(verdicts.cleanup?.leftover).to.deep.equal([]);

    const samples = (await readFile(join(dir, 'journal.jsonl'), 'utf8'))
      .split('\n')
      .filter((line) => line.includes('"load-sample"'))
      .map((line) => JSON.parse(line) as JournalEvent)
      .flatMap((e) => (e.type === 'load-sample' ? [e.sample as LoadSample] : []));
    expect(samples.length).to.be.greaterThan(60);
    expect(samples.filter((s) => s.instrument !== undefined)).to.deep.equal([]);
    // The full seconds of the steady run: the three runners together send the scenario's rate.
    const steady = samples.filter((s) => s.scheduled >= RATE - 2);
    expect(steady.length / samples.length).to.be.greaterThan(0.8);
    for (const s of steady) expect(s.scheduled).to.be.within(RATE - 2, RATE + 2);
  });
});
