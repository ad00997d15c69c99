// Loads the hand-written journal fixtures (test/fixtures/journals/) into events and results for the tests. They
// are in the current journal version; v1/ keeps some as version 1 wrote them, for the reader's compatibility.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JournalEvent } from '../../harness/model/index.js';
import { parseJournal } from '../../reports/journal.js';
import { buildResults } from '../../reports/results.js';
import type { Results } from '../../reports/results-types.js';

export const JOURNALS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'journals');

export type FixtureName = 'passing' | 'passing-istio-1.30' | 'failing' | 'repeat-3' | 'truncated';

/** The fixtures kept as journal version 1 wrote them (test/fixtures/journals/v1/). */
export type V1FixtureName = 'failing' | 'repeat-3' | 'truncated';

export function loadFixture(
  name: FixtureName,
  options: { version1?: boolean } = {},
): { events: JournalEvent[]; results: Results; text: string } {
  const dir = options.version1 ? join(JOURNALS_DIR, 'v1') : JOURNALS_DIR;
  const text = readFileSync(join(dir, `${name}.jsonl`), 'utf8');
  const journal = parseJournal(text);
  return {
    events: journal.events,
    results: buildResults(journal.events, { journalProblems: journal.problems }),
    text,
  };
}
