import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { JOURNAL_VERSION, MeshdrillError } from '../../harness/model/index.js';
import { parseJournal, readJournal } from '../../reports/journal.js';
import { loadFixture } from './fixtures.js';

describe('reports/journal: tolerant reader', () => {
  it('reads a complete journal with no problems', () => {
    const { text } = loadFixture('passing');
    const parsed = parseJournal(text);
    expect(parsed.problems).to.deep.equal([]);
    expect(parsed.version).to.equal(JOURNAL_VERSION);
    expect(parsed.events[0]?.type).to.equal('run-start');
    expect(parsed.events.at(-1)?.type).to.equal('run-end');
    expect(parsed.events.length).to.equal(text.trim().split('\n').length);
  });

  it('reports a torn last line after a crash and keeps every event before it', () => {
    const { text } = loadFixture('truncated');
    const lines = text.split('\n');
    const parsed = parseJournal(text);
    expect(parsed.problems).to.have.length(1);
    expect(parsed.problems[0]?.line).to.equal(lines.length);
    expect(parsed.problems[0]?.message).to.match(/last line is incomplete/);
    expect(parsed.events).to.have.length(lines.length - 1);
    expect(parsed.events.some((e) => e.type === 'run-end')).to.equal(false);
  });

  it('skips a malformed line in the middle, naming its line, and reads on', () => {
    const text = [
      JSON.stringify({
        t: 1,
        type: 'run-start',
        version: 1,
        runId: 'r',
        meshdrillVersion: '0',
        argv: [],
        target: 'local',
        repeat: 1,
      }),
      '{"t": 2, "type": "log", "level": "info", "message": "ok"',
      JSON.stringify({ t: 3, type: 'no-such-event' }),
      JSON.stringify({ t: 4, type: 'assertion', id: 'x', name: 'x', passed: true, message: '' }),
      JSON.stringify({ t: 5, type: 'run-end', outcome: 'passed', exitCode: 0 }),
      '',
    ].join('\n');
    const parsed = parseJournal(text);
    expect(parsed.events.map((e) => e.type)).to.deep.equal(['run-start', 'run-end']);
    expect(parsed.problems.map((p) => p.line)).to.deep.equal([2, 3, 4]);
    expect(parsed.problems[0]?.message).to.match(/not valid JSON/);
    expect(parsed.problems[1]?.message).to.match(/expected "type" to be one of/);
    expect(parsed.problems[2]?.message).to.match(/"scenario" and "variant"/);
  });

  it('refuses a journal of a newer major version with a message saying what to do', () => {
    const text = `${JSON.stringify({ t: 1, type: 'run-start', version: JOURNAL_VERSION + 1, runId: 'r', meshdrillVersion: '9', argv: [], target: 'local', repeat: 1 })}\n`;
    let caught: unknown;
    try {
      parseJournal(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(MeshdrillError);
    expect((caught as MeshdrillError).kind).to.equal('invalid-input');
    expect((caught as MeshdrillError).message).to.match(
      new RegExp(
        `journal version ${JOURNAL_VERSION + 1} is newer than this meshdrill understands \\(journal version ${JOURNAL_VERSION}\\)`,
      ),
    );
    expect((caught as MeshdrillError).hint).to.match(/upgrade meshdrill/);
  });

  it('readJournal names the path when the file is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdrill-journal-'));
    try {
      let caught: unknown;
      try {
        await readJournal(join(dir, 'journal.jsonl'));
      } catch (error) {
        caught = error;
      }
      expect((caught as MeshdrillError).message).to.include(join(dir, 'journal.jsonl'));
      writeFileSync(join(dir, 'journal.jsonl'), loadFixture('passing').text);
      expect((await readJournal(join(dir, 'journal.jsonl'))).events.length).to.be.greaterThan(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
