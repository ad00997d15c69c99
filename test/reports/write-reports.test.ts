import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createMultiplexer, loadRunResults, type Reporter, writeReports } from '../../reports/index.js';
import { RESULTS_SCHEMA_VERSION } from '../../reports/results-types.js';
import { JOURNALS_DIR } from './fixtures.js';
import { parseXml } from './xml-parse.js';

describe('reports/index: writeReports and the reporter multiplexer', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshdrill-reports-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes results.json, junit.xml and index.html from journal.jsonl alone', async () => {
    copyFileSync(join(JOURNALS_DIR, 'failing.jsonl'), join(dir, 'journal.jsonl'));
    const out = await writeReports(dir);
    expect(out.failed).to.deep.equal([]);
    expect(out.written).to.deep.equal(['results.json', 'junit.xml', 'index.html'].map((f) => join(dir, f)));
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(results.schemaVersion).to.equal(RESULTS_SCHEMA_VERSION);
    expect(results.verdict.passed).to.equal(false);
    expect(parseXml(readFileSync(join(dir, 'junit.xml'), 'utf8')).attrs.failures).to.equal('1');
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).to.include('Run failed');
    // No temporary files are left behind by the atomic writes.
    expect(existsSync(join(dir, `results.json.tmp-${process.pid}`))).to.equal(false);
    expect((await loadRunResults(dir)).run.runId).to.equal('r-20261120-0500-fail');
  });

  it('a broken reporter is recorded and the others still write', async () => {
    copyFileSync(join(JOURNALS_DIR, 'truncated.jsonl'), join(dir, 'journal.jsonl'));
    const broken: Reporter = {
      name: 'broken',
      onEnd() {
        throw new Error('disk full');
      },
    };
    const ok: Reporter = {
      name: 'ok',
      onEnd(input) {
        const path = join(input.runDir, 'ok.txt');
        writeFileSync(path, input.results.run.outcome);
        return [path];
      },
    };
    const out = await writeReports(dir, { reporters: [broken, ok] });
    expect(out.failed).to.deep.equal([{ reporter: 'broken', stage: 'end', error: 'disk full' }]);
    expect(out.written).to.deep.equal([join(dir, 'ok.txt')]);
    expect(readFileSync(join(dir, 'ok.txt'), 'utf8')).to.equal('incomplete');
    expect(out.journalProblems).to.have.length(1);
  });

  it('the multiplexer keeps delivering events after one reporter throws, recording the failure once', () => {
    const seen: string[] = [];
    const mux = createMultiplexer([
      {
        name: 'flaky',
        onEvent() {
          throw new Error('boom');
        },
        onEnd: () => [],
      },
      { name: 'good', onEvent: (e) => seen.push(e.type), onEnd: () => [] },
    ]);
    for (let i = 0; i < 3; i++) mux.onEvent?.({ t: i, type: 'log', level: 'info', message: String(i) });
    expect(seen).to.deep.equal(['log', 'log', 'log']);
    expect(mux.failures).to.deep.equal([{ reporter: 'flaky', stage: 'event', error: 'boom' }]);
  });

  it('a missing journal is an invalid-input error naming the run directory', async () => {
    let caught: unknown;
    try {
      await writeReports(dir);
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).to.include(join(dir, 'journal.jsonl'));
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ schemaVersion: 99 }));
    let tooNew: unknown;
    try {
      await loadRunResults(dir);
    } catch (error) {
      tooNew = error;
    }
    expect((tooNew as Error).message).to.include(
      `expected results schemaVersion ≤ ${RESULTS_SCHEMA_VERSION}, got 99`,
    );
  });
});
