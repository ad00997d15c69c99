// Loads the hand-written journal fixtures (test/fixtures/journals/) into events and results for the tests.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JournalEvent } from '../../harness/model/index.js';
import { parseJournal } from '../../reports/journal.js';
import { buildResults } from '../../reports/results.js';
import type { Results } from '../../reports/results-types.js';

export const JOURNALS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'journals');

export type FixtureName = 'passing' | 'passing-istio-1.30' | 'failing' | 'repeat-3' | 'truncated';

export function loadFixture(name: FixtureName): { events: JournalEvent[]; results: Results; text: string } {
  const text = readFileSync(join(JOURNALS_DIR, `${name}.jsonl`), 'utf8');
  const journal = parseJournal(text);
  return {
    events: journal.events,
    results: buildResults(journal.events, { journalProblems: journal.problems }),
    text,
  };
}
