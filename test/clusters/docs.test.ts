// docs/targets.md documents every setting the targets accept, and the CI examples are workflows that run two
// Istio versions, compare them, upload the reports and fail on regression; and that run the pack as a matrix of
// shards and fail on the verdict of their merge.

import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EXISTING_SETTING_DOCS } from '../../clusters/existing/index.js';
import { KIND_SETTING_DOCS } from '../../clusters/kind/index.js';
import { LOCAL_SETTING_DOCS } from '../../clusters/local/local-settings.js';
import { USAGE } from '../../harness/cli/usage.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The `--options` and `--target-opt KEY=` of meshdrill command lines in `script` that the CLI does not have. */
function unknownOptions(script: string): string[] {
  const lines = script
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.includes('meshdrill.js '));
  const settings = new Set(KIND_SETTING_DOCS.map((d) => d.key));
  const unknown: string[] = [];
  for (const line of lines) {
    for (const [, option] of line.matchAll(/\s(--[a-z][a-z-]*)/g)) {
      if (option && !USAGE.includes(`${option} `) && !USAGE.includes(`${option}\n`)) unknown.push(option);
    }
    for (const [, key] of line.matchAll(/--target-opt ([a-z0-9-]+)=/g)) {
      if (key && !settings.has(key)) unknown.push(`--target-opt ${key}`);
    }
  }
  return unknown;
}

describe('target docs and CI example', () => {
  it('documents every local, kind and existing setting in a table row', async () => {
    const doc = await readFile(resolve(root, 'docs/targets.md'), 'utf8');
    const undocumented = [...LOCAL_SETTING_DOCS, ...KIND_SETTING_DOCS, ...EXISTING_SETTING_DOCS]
      .map((s) => s.key)
      .filter((key) => !doc.includes(`| \`${key}\` |`));
    expect(undocumented).to.deep.equal([]);
  });

  it('ships a nightly workflow that upgrades one kind cluster in place from A to B between two pack runs, and compares them', async () => {
    const text = await readFile(resolve(root, 'examples/github-actions/nightly-mesh-upgrade.yml'), 'utf8');
    const workflow = parse(text) as {
      on: Record<string, unknown>;
      jobs: Record<string, { steps: { run?: string; uses?: string; id?: string; if?: string }[] }>;
    };
    expect(workflow.on).to.have.property('schedule');
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    const runs = steps.map((s) => s.run ?? '').join('\n');
    // The pack on B runs only on a cluster whose upgrade (including the removal of A) succeeded.
    const moveStep = steps.find((s) => s.run?.includes('uninstall --revision "$REV_FROM"'));
    const packBStep = steps.find((s) => s.run?.includes('--istio "$ISTIO_TO"') && s.run.includes(' run '));
    expect(packBStep?.if).to.include(`steps.${moveStep?.id}.outcome == 'success'`);
    const at = (pattern: RegExp): number => {
      const m = pattern.exec(runs);
      expect(m, `${pattern} not in the workflow`).to.not.equal(null);
      return m?.index ?? -1;
    };
    // One cluster, kept after the pack on A, which runs on revision A.
    const packA = at(
      /meshdrill\.js run scenarios\/[\s\\]+--target kind[\s\\]+--istio "\$ISTIO_FROM"[\s\\]+--out "\$OUT\/istio-\$ISTIO_FROM"[\s\S]*?keep=true[\s\S]*?revision="\$REV_FROM"/,
    );
    // B installed beside A on that cluster by meshdrill (B's istioctl, revision B, the default tag moved).
    const upgrade = at(
      /meshdrill\.js cluster up[\s\\]+--target kind[\s\\]+--istio "\$ISTIO_TO"[\s\S]*?revision="\$REV_TO"/,
    );
    const restart = at(/rollout restart deployment/);
    const removeA = at(/"\$istioctl_to" uninstall --revision "\$REV_FROM" -y/);
    const packB = at(
      /meshdrill\.js run scenarios\/[\s\\]+--target kind[\s\\]+--istio "\$ISTIO_TO"[\s\\]+--out "\$OUT\/istio-\$ISTIO_TO"[\s\S]*?revision="\$REV_TO"/,
    );
    const compare = at(/meshdrill\.js compare "\$OUT\/istio-\$ISTIO_FROM" "\$OUT\/istio-\$ISTIO_TO"/);
    expect([packA, upgrade, restart, removeA, packB, compare]).to.deep.equal(
      [packA, upgrade, restart, removeA, packB, compare].sort((a, b) => a - b),
    );
    // The same cluster throughout: every cluster-name is $CLUSTER.
    expect([...runs.matchAll(/cluster-name="([^"]+)"/g)].map((m) => m[1])).to.deep.equal([
      '$CLUSTER',
      '$CLUSTER',
      '$CLUSTER',
    ]);
    // A is removed only when no proxy is connected to it any more.
    expect(runs.indexOf('proxy-status --revision "$REV_FROM"')).to.be.within(0, removeA);
    expect(runs).to.include('::error::regression from Istio');
    expect(steps.some((s) => s.uses?.startsWith('actions/upload-artifact@'))).to.equal(true);
    // Every option and kind setting it uses exists.
    expect(unknownOptions(runs)).to.deep.equal([]);
  });

  it('negative control: the option check names an option or kind setting that does not exist', () => {
    expect(
      unknownOptions(
        './bin/meshdrill.js run x --target kind --upgrade-to 1 --target-opt istio-to=1 --keep-target',
      ),
    ).to.deep.equal(['--upgrade-to', '--target-opt istio-to']);
  });

  it('ships a sharded workflow: a matrix of shards on kind, each uploaded, merged, failing on the merged exit code', async () => {
    const text = await readFile(resolve(root, 'examples/github-actions/sharded-nightly.yml'), 'utf8');
    type Step = { run?: string; uses?: string; with?: Record<string, unknown>; id?: string; if?: string };
    const workflow = parse(text) as {
      on: Record<string, unknown>;
      jobs: Record<
        string,
        { needs?: string; if?: string; strategy?: { matrix?: { shard?: unknown[] } }; steps: Step[] }
      >;
    };
    expect(workflow.on).to.have.property('schedule');
    const shardJob = Object.values(workflow.jobs).find((j) => j.strategy?.matrix?.shard);
    const [shardName] = Object.entries(workflow.jobs).find(([, j]) => j === shardJob) ?? [];
    expect(shardJob?.strategy?.matrix?.shard).to.deep.equal([1, 2, 3]);
    const shardRuns = (shardJob?.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(shardRuns).to.match(
      /meshdrill\.js run scenarios\/[\s\\]+--target kind[\s\S]+--shard "\$\{\{ matrix\.shard \}\}\/\$\{\{ strategy\.job-total \}\}"/,
    );
    // Each shard its own kind cluster, and its run directory uploaded whatever happened.
    expect(shardRuns).to.include(`cluster-name="meshdrill-shard-\${{ matrix.shard }}"`);
    const upload = shardJob?.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.if).to.equal('always()');
    const merge = Object.values(workflow.jobs).find((j) => j.needs === shardName);
    expect(merge?.if).to.equal('always()');
    const download = merge?.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'));
    expect(download?.with).to.include({ pattern: 'meshdrill-shard-*' });
    const mergeRuns = (merge?.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(mergeRuns).to.match(/meshdrill\.js report --merge runs\/merged \S+/);
    const mergeStep = merge?.steps.find((s) => s.run?.includes('report --merge'));
    expect(mergeStep?.run).to.include('echo "exit=$?" >> "$GITHUB_OUTPUT"');
    expect(mergeRuns).to.include(`exit "\${code:-1}"`);
    expect(mergeStep?.id).to.be.a('string');
    expect(mergeRuns).to.include(`code='\${{ steps.${mergeStep?.id}.outputs.exit }}'`);
  });
});
