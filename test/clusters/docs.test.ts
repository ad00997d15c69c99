// docs/targets.md documents every setting the targets accept, and the CI example is a workflow that runs two
// Istio versions, compares them, uploads the reports and fails on regression.

import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EXISTING_SETTING_DOCS } from '../../clusters/existing/index.js';
import { KIND_SETTING_DOCS } from '../../clusters/kind/index.js';
import { LOCAL_SETTING_DOCS } from '../../clusters/local/local-settings.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('target docs and CI example', () => {
  it('documents every local, kind and existing setting in a table row', async () => {
    const doc = await readFile(resolve(root, 'docs/targets.md'), 'utf8');
    const undocumented = [...LOCAL_SETTING_DOCS, ...KIND_SETTING_DOCS, ...EXISTING_SETTING_DOCS]
      .map((s) => s.key)
      .filter((key) => !doc.includes(`| \`${key}\` |`));
    expect(undocumented).to.deep.equal([]);
  });

  it('ships a workflow that runs two Istio versions, compares, uploads and fails on regression', async () => {
    const text = await readFile(resolve(root, 'examples/github-actions/nightly-mesh-upgrade.yml'), 'utf8');
    const workflow = parse(text) as {
      on: Record<string, unknown>;
      jobs: Record<string, { steps: { run?: string; uses?: string }[] }>;
    };
    expect(workflow.on).to.have.property('schedule');
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    const runs = steps.map((s) => s.run ?? '').join('\n');
    expect(runs).to.match(
      /meshdrill\.js run scenarios\/[\s\\]+--target kind[\s\\]+--istio "\$ISTIO_FROM" --istio "\$ISTIO_TO"/,
    );
    expect(runs).to.include('meshdrill.js compare "$OUT/istio-$ISTIO_FROM" "$OUT/istio-$ISTIO_TO"');
    expect(runs).to.include('::error::regression from Istio');
    expect(steps.some((s) => s.uses?.startsWith('actions/upload-artifact@'))).to.equal(true);
  });
});
