// `make schema`: writes schema/scenario.schema.json from the zod scenario schema (test/scenario checks it is fresh).

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderScenarioJsonSchema } from '../harness/scenario/json-schema.js';

const out = fileURLToPath(new URL('../schema/scenario.schema.json', import.meta.url));
writeFileSync(out, renderScenarioJsonSchema());
console.log(`wrote ${out}`);
