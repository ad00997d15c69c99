import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createRunId } from './run-id.js';
import { createJournal } from './writer.js';

describe('journal writer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'md-journal-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('has each event on disk as soon as append returns, stamped and in order', () => {
    let clock = 1000;
    const path = join(dir, 'run', 'journal.jsonl');
    const journal = createJournal({ path, now: () => clock++ });
    journal.append({ type: 'log', level: 'info', message: 'one' });
    expect(readFileSync(path, 'utf8').trim().split('\n')).to.have.length(1);
    journal.append({ type: 'log', level: 'warn', message: 'two' });
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.t, l.message])).to.deep.equal([
      [1000, 'one'],
      [1001, 'two'],
    ]);
  });

  it("starts empty where an earlier run's journal was: one journal, one run", () => {
    const path = join(dir, 'run', 'journal.jsonl');
    createJournal({ path }).append({ type: 'log', level: 'info', message: 'earlier run' });
    createJournal({ path }).append({ type: 'log', level: 'info', message: 'this run' });
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).to.deep.equal(['this run']);
  });

  it('survives a throwing listener and lets others unsubscribe', () => {
    const journal = createJournal();
    const seen: string[] = [];
    journal.subscribe(() => {
      throw new Error('broken progress renderer');
    });
    const off = journal.subscribe((e) => seen.push(e.type));
    journal.append({ type: 'log', level: 'info', message: 'a' });
    off();
    journal.append({ type: 'log', level: 'info', message: 'b' });
    expect(seen).to.deep.equal(['log']);
    expect(journal.events).to.have.length(2);
  });

  it('makes DNS-safe, time-sortable run ids', () => {
    const id = createRunId(new Date('2026-11-22T03:04:05.678Z'));
    expect(id).to.match(/^20261122-030405-[0-9a-f]{6}$/);
    expect(id.length).to.be.at.most(63);
  });
});
