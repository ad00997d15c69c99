// The committed JSON Schema must match the zod schema it is generated from.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { renderScenarioJsonSchema } from '../../harness/scenario/index.js';

const COMMITTED = fileURLToPath(new URL('../../schema/scenario.schema.json', import.meta.url));

describe('schema/scenario.schema.json', () => {
  it('is up to date with harness/scenario/spec.ts', () => {
    const committed = readFileSync(COMMITTED, 'utf8');
    const fresh = renderScenarioJsonSchema();
    expect(
      committed === fresh,
      'schema/scenario.schema.json is stale: run `make schema` and commit the result',
    ).to.equal(true);
  });

  it('describes the top-level fields and the fault kinds', () => {
    const schema = JSON.parse(renderScenarioJsonSchema()) as {
      required: string[];
      properties: { spec: { properties: Record<string, unknown>; required: string[] } };
    };
    expect(schema.required).to.include.members(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(schema.properties.spec.required).to.include.members([
      'workload',
      'load',
      'slos',
      'fault',
      'runbook',
      'recovery',
    ]);
    const text = JSON.stringify(schema.properties.spec.properties.fault);
    for (const kind of ['chaos-mesh', 'istio', 'kubernetes']) expect(text).to.contain(`"${kind}"`);
  });
});
