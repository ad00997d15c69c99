// A control-plane drill of the pack on a revision install: `meshdrill run scenarios/istiod-crash.yaml
// --target-opt revision=canary` boots the local target with istiod as revision `canary` only (istiod-canary, the
// `default` tag on it) and runs the drill, whose fault, checks and runbook name the control plane through
// ${mesh.…}. Judged from the journal: both variants pass as on a default install, and what ran acted on
// istiod-canary — the PodChaos took its pod, the webhooks that failed closed were its, the runbook restarted it.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${mesh.…} is the syntax the drill is written in.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { run } from '../../../harness/exec/index.js';
import type { JournalEvent } from '../../../harness/model/journal.js';
import { explainVariant, readPackVerdicts } from '../../pack/journal-verdicts.js';

const ROOT = resolve(import.meta.dirname, '../../..');

describe('a control-plane drill of the pack on a revision install (local target, revision=canary)', function () {
  this.timeout(12 * 60_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdrill-revision-drill-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('istiod-crash passes both variants, acting on istiod-canary, and leaves nothing behind', async () => {
    const result = await run(
      './bin/meshdrill.js',
      ['run', 'scenarios/istiod-crash.yaml', '--target-opt', 'revision=canary', '--out', dir],
      { cwd: ROOT, timeoutMs: 10 * 60_000 },
    );
    const output = `${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`;
    const verdicts = await readPackVerdicts(dir);
    expect(verdicts.runEnd, `${verdicts.variants.map(explainVariant).join('\n')}\n${output}`).to.deep.equal({
      outcome: 'passed',
      exitCode: 0,
    });
    expect(verdicts.variants.map((v) => [v.variant, v.outcome])).to.deep.equal([
      ['main', 'passed'],
      ['empty-runbook', 'passed'],
    ]);
    expect(verdicts.cleanup?.leftover).to.deep.equal([]);

    const events = (await readFile(join(dir, 'journal.jsonl'), 'utf8'))
      .split('\n')
      .filter((line) => line.trim() && !line.includes('"load-sample"'))
      .map((line) => JSON.parse(line) as JournalEvent);
    const ready = events.find((e) => e.type === 'target-ready');
    expect(ready?.type === 'target-ready' ? ready.versions['istio-revision'] : undefined).to.equal('canary');

    // The runbook restarted the revision's istiod, and nothing named plain `istiod`.
    const steps = events.flatMap((e) => (e.type === 'runbook-step' ? [e] : []));
    const restart = steps.find((s) => s.title === 'Bring istiod back');
    expect(restart?.exitCode).to.equal(0);
    expect(restart?.output).to.contain('deployment.apps/istiod-canary restarted');
    expect(steps.map((s) => s.command ?? '').join('\n')).not.to.match(/istiod(\s|$)/);

    // The webhooks that failed closed during the outage were the revision's (through the default tag).
    const journal = JSON.stringify(events);
    expect(journal).to.contain('validation.istio.io');
    expect(journal).to.contain('no endpoints available for service \\"istiod-canary\\"');
    expect(journal).not.to.contain('no endpoints available for service \\"istiod\\"');
  });
});
