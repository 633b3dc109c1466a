import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/client.js';
import { readExistingQuestions, type ExistingQuestions, type StoreHelper } from '../src/db/import/existing.js';
import { openRunner, type ImportRunner } from '../src/db/import/runner.js';
import { EXAMS_CSV } from './support/interchange.js';
import { databaseForEachTest, preparedDatabase, runIn, sqlite, type TestDatabase } from './support/modes.js';

/**
 * A re-import into a `file:` database with many questions reads the later half of them (by id) in
 * a helper thread over a second connection, while this thread reads the first half. The store must
 * be the one a single read gives, and the import's outcome the same.
 */

const QUESTIONS = 40_000;
const HALF = QUESTIONS / 2;
const HEADER = 'id,exam_code,text,option_a,option_b,option_c,correct,explanation,difficulty';
// the first half in two exams; the later half brings a third, first seen there
const examOf = (n: number) => (n < QUESTIONS / 2 ? ['CCNA-200-301', 'SAA-C03'][n % 2] : ['SC-900', 'CCNA-200-301'][n % 2]);
const idOf = (n: number) => `hq-${String(n).padStart(5, '0')}`;
const rowOf = (n: number, text = `Question ${n}: which option holds ${n % 97}?`) => [idOf(n), examOf(n), text, `a${n}`, `b ${n % 13}`, n % 3 ? 'c, "quoted"' : '', ['A', 'B', 'C'][n % 3], n % 5 ? `because ${n}` : '', String(1 + (n % 5))];
const line = (values: string[]) => values.map((value) => `"${value.replaceAll('"', '""')}"`).join(',');
const csv = (rows: string[][]) => [HEADER, ...rows.map(line)].join('\n') + '\n';

function open(t: TestDatabase): Database {
  return openDatabase({ kind: 'file', url: t.url, displayUrl: t.url, source: 'test', readOnlyCredentials: false, notices: [] });
}

const plain = (store: ExistingQuestions) => ({ ids: store.ids, examIds: store.examIds, meta: [...store.meta], words: [...store.words] });

async function inTransaction<T>(t: TestDatabase, work: (runner: ImportRunner) => Promise<T>): Promise<T> {
  const database = open(t);
  try {
    const runner = await openRunner(database, false);
    try {
      return await work(runner);
    } finally {
      await runner.rollback();
      runner.close();
    }
  } finally {
    database.close();
  }
}

describe('the stored questions read in two halves at once (file)', () => {
  const t = databaseForEachTest(
    async () => {
      const prepared = await preparedDatabase('file', [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV]]);
      writeFileSync(join(prepared.dir, 'bank.csv'), csv(Array.from({ length: QUESTIONS }, (_, n) => rowOf(n))));
      const imported = await runIn(prepared, ['import', 'bank.csv']);
      if (imported.code !== 0) throw new Error(imported.stderr);
      return prepared;
    },
    { timeoutMs: 60_000 },
  );
  const helperOf = (path: string): StoreHelper => ({ path, busyTimeoutMs: 5_000 });

  it('gives the store a single read gives, exams numbered in the order of the ids', async () => {
    await inTransaction(t, async (runner) => {
      const single = await readExistingQuestions(runner, false);
      const halves = await readExistingQuestions(runner, false, undefined, helperOf(t.dbPath));
      expect(single.ids).toHaveLength(QUESTIONS);
      expect(single.examIds).toHaveLength(3);
      expect(plain(halves)).toEqual(plain(single));
    });
  });

  it("takes the later half from the helper's connection, and reads it itself when the helper cannot", async () => {
    // a copy whose later questions have other texts: what the helper read shows in the store
    const other = join(t.dir, 'other.db');
    copyFileSync(t.dbPath, other);
    await sqlite({ dbPath: other }, `UPDATE questions SET text = text || ' (other)' WHERE id >= ?`, [idOf(QUESTIONS / 2)]);
    await inTransaction(t, async (runner) => {
      const single = plain(await readExistingQuestions(runner, false));
      const fromOther = plain(await readExistingQuestions(runner, false, undefined, helperOf(other)));
      const WORDS = single.words.length / QUESTIONS;
      const half = (QUESTIONS / 2) * WORDS;
      expect(fromOther.ids).toEqual(single.ids);
      expect(fromOther.words.slice(0, half)).toEqual(single.words.slice(0, half));
      // the text's fingerprint (the first two words of each question) differs for every later question
      for (let at = QUESTIONS / 2; at < QUESTIONS; at++) expect(fromOther.words[at * WORDS]).not.toBe(single.words[at * WORDS]);
      const missing = plain(await readExistingQuestions(runner, false, undefined, helperOf(join(t.dir, 'no-such.db'))));
      expect(missing).toEqual(single);
    });
  });

  it('reads alone once the transaction has written a row: a second connection would not see it', async () => {
    const other = join(t.dir, 'other.db');
    copyFileSync(t.dbPath, other);
    await sqlite({ dbPath: other }, `UPDATE questions SET text = text || ' (other)'`);
    await inTransaction(t, async (runner) => {
      await runner.send([`UPDATE questions SET explanation = 'changed here' WHERE id = '${idOf(QUESTIONS - 1)}'`], 0);
      const single = plain(await readExistingQuestions(runner, false));
      expect(plain(await readExistingQuestions(runner, false, undefined, helperOf(other)))).toEqual(single);
    });
  });

  it('re-imports as a dry run (read by one thread) says it would: rows edited in both halves, and rows without ids matched by text', async () => {
    const edited = Array.from({ length: QUESTIONS }, (_, n) => rowOf(n));
    const changedIds = [5, HALF - 1, HALF, HALF + 8_001, QUESTIONS - 1];
    for (const n of changedIds) edited[n] = rowOf(n, `Question ${n}, edited`);
    // without an id, its text unchanged: matched by exam and text, in the later half
    for (const n of [HALF + 2, QUESTIONS - 2]) edited[n] = ['', ...rowOf(n).slice(1)];
    // without an id and its explanation edited: matched by text and updated
    edited[HALF + 6_000] = ['', ...rowOf(HALF + 6_000).slice(1, 7), 'a new explanation', rowOf(HALF + 6_000)[8]];
    writeFileSync(join(t.dir, 'edited.csv'), csv(edited));
    const dry = await runIn(t, ['--json', 'import', 'edited.csv', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const run = await runIn(t, ['--json', 'import', 'edited.csv']);
    expect(run.code, run.stderr).toBe(0);
    const counts = (summary: Record<string, unknown>) => ({ created: summary.created, updated: summary.updated, unchanged: summary.unchanged });
    expect(counts(run.json())).toEqual({ created: 0, updated: 6, unchanged: QUESTIONS - 6 });
    expect(counts(dry.json())).toEqual(counts(run.json()));
    expect([...run.json().ids.updated].sort()).toEqual([...changedIds.map(idOf), idOf(HALF + 6_000)].sort());
    const stored = await sqlite(t, `SELECT id, text, explanation FROM questions WHERE id IN (?, ?, ?) ORDER BY id`, [idOf(HALF + 8_001), idOf(HALF + 6_000), idOf(HALF + 2)]);
    expect(stored).toEqual([
      { id: idOf(HALF + 2), text: rowOf(HALF + 2)[2], explanation: rowOf(HALF + 2)[7] },
      { id: idOf(HALF + 6_000), text: rowOf(HALF + 6_000)[2], explanation: 'a new explanation' },
      { id: idOf(HALF + 8_001), text: `Question ${HALF + 8_001}, edited`, explanation: rowOf(HALF + 8_001)[7] },
    ]);
    expect((await sqlite(t, 'SELECT count(*) AS n FROM questions'))[0].n).toBe(QUESTIONS);
  });
});
