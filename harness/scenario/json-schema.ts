// The JSON Schema of scenario files, generated from the zod schema (editors validate and complete with it).

import { z } from 'zod';
import { scenarioSpecSchema } from './spec.js';

export const SCHEMA_ID = 'https://meshdrill.io/schema/scenario.schema.json';

/** The schema as committed in schema/scenario.schema.json (stable key order, trailing newline). */
export function renderScenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSpecSchema, { target: 'draft-2020-12', io: 'input' });
  const { $schema, ...rest } = schema as Record<string, unknown>;
  return `${JSON.stringify({ $schema, $id: SCHEMA_ID, ...rest }, null, 2)}\n`;
}
