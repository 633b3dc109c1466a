import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { compareBinary, readExistingQuestions } from '../src/db/import/existing.js';
import { runPipeline, type PipelineOptions } from '../src/db/import/pipeline.js';
import { openRunner } from '../src/db/import/runner.js';
import { runCli } from './support/cli.js';
import { EXAMS_CSV } from './support/interchange.js';
import { databaseForEachTest, MODES, preparedDatabase, snapshot, sqlite, withFile, type TestDatabase } from './support/modes.js';

/**
 * A re-import reads the stored questions once (questions and their options in two scans, merged in
 * id order) and compares fingerprints with the file's rows: a row that changes nothing is staged as
 * its key alone. These tests hold the stored side's fingerprints to the file side's, for texts a
 * naive reading would get wrong, and the merge to ids in SQLite's order.
 */

const HEADER = 'id,exam_code,text,option_a,option_b,option_c,option_d,correct,explanation,difficulty';
const line = (values: string[]) => values.map((value) => `"${value.replaceAll('"', '""')}"`).join(',');

/** Ids in an order where JavaScript's comparison and SQLite's differ (U+E000 against a surrogate pair), and texts with control characters. */
const ROWS = [
  ['st-1', 'CCNA-200-301', 'Plain question one?', 'a', 'b', 'c', '', 'A', 'Because.', '2'],
  ['st-\uE000', 'CCNA-200-301', 'Private use id?', 'x', 'y', '', '', 'B', '', '1'],
  ['st-\u{1F600}', 'CCNA-200-301', 'Emoji id 😀?', 'ü', 'ß', '漢字', '', 'C', 'Ελληνικά', '3'],
  ['st-2', 'CCNA-200-301', 'Separators\u0001 inside\u0002?', 'a\u00010b', 'c', '', '', 'A', 'x\u0001y', '2'],
  ['st-3', 'SAA-C03', 'Options that a naive key confuses?', 'a', 'b', 'c', '', 'A', '', '2'],
  ['st-4', 'SAA-C03', 'Four options?', 'one', 'two', 'three', 'four', 'A;D', '', '4'],
];
const csv = (rows: string[][]) => [HEADER, ...rows.map(line)].join('\n') + '\n';

async function statementsOfReimport(t: TestDatabase, file: string): Promise<Array<{ sql: string }>> {
  const database = openDatabase({ kind: t.mode, url: t.url, displayUrl: t.url, ...(t.authToken ? { authToken: t.authToken } : {}), source: 'test', readOnlyCredentials: false, notices: [] });
  try {
    const runner = await openRunner(database, true);
    try {
      const existing = await readExistingQuestions(runner, t.mode === 'remote');
      const exams = await sqlite(t, 'SELECT code, id FROM exams');
      const options: PipelineOptions = {
        path: join(t.dir, file),
        format: 'csv',
        maxFieldChars: 1 << 20,
        ignoreUnknownColumns: false,
        skipInvalid: false,
        keepRejected: false,
        dryRun: true,
        nowMs: Date.now(),
        idPrefix: 'test',
        plan: { target: 'pingtopass-questions', direct: false, exams: exams.map((row) => [String(row.code), String(row.id)]), existing, existingAction: 'unchanged' },
      };
      const statements: Array<{ sql: string }> = [];
      const batches = runPipeline(options);
      for (let next = await batches.next(); !next.done; next = await batches.next()) {
        expect(next.value.problems).toEqual([]);
        for (const statement of next.value.statements) statements.push(typeof statement === 'string' ? { sql: statement } : statement);
      }
      return statements;
    } finally {
      await runner.rollback();
      runner.close();
    }
  } finally {
    database.close();
  }
}

/** A statement that stages rows as their key alone: the row changes nothing. */
const keyOnly = (statement: { sql: string }) => /'unchanged'(\s+FROM json_each|\))/.test(statement.sql);

describe('compareBinary', () => {
  it('orders strings as SQLite does (by UTF-8 bytes)', () => {
    const words = ['b', 'a', 'ab', '', '\uE000', '\u{1F600}', '\uFFFF', 'é', 'z'];
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    expect([...words].sort(compareBinary)).toEqual([...words].sort((x, y) => Buffer.compare(bytes(x), bytes(y))));
  });
});

describe.each(MODES)('the stored questions a re-import reads (%s)', (mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV]]));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  it('an unchanged file is staged as keys alone, with options that belong to no question in between', async () => {
    writeFileSync(join(t.dir, 'bank.csv'), csv(ROWS));
    const first = await cli(['import', 'bank.csv']);
    expect(first.code, first.stderr).toBe(0);
    // options left by a database without foreign keys, sorting before, between and after the questions
    await withFile(t, async (client) => {
      await client.execute('PRAGMA foreign_keys = OFF');
      for (const orphan of ['st-0', 'st-15', 'st-\uE001', 'zz']) {
        await client.execute({ sql: `INSERT INTO answer_options (id, question_id, text, is_correct, "order") VALUES (?, ?, 'orphan', 1, 0)`, args: [`${orphan}-o`, orphan] });
      }
    });
    const statements = await statementsOfReimport(t, 'bank.csv');
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.every(keyOnly)).toBe(true);
    const before = await snapshot(t, { systemsOnly: true });
    const again = await cli(['import', 'bank.csv', '--json']);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: ROWS.length });
    expect(await snapshot(t, { systemsOnly: true })).toBe(before);
  });

  it('options that differ only where a separator would hide it are an update', async () => {
    writeFileSync(join(t.dir, 'bank.csv'), csv(ROWS));
    const first = await cli(['import', 'bank.csv']);
    expect(first.code, first.stderr).toBe(0);
    // ["a", "b", "c"] and ["a\u00010b", "c"]: the same string if options were only joined by \u0001
    const edited = ROWS.map((row) => (row[0] === 'st-3' ? [...row.slice(0, 3), 'a\u00010b', 'c', '', '', 'A', '', '2'] : row));
    writeFileSync(join(t.dir, 'edited.csv'), csv(edited));
    const statements = await statementsOfReimport(t, 'edited.csv');
    expect(statements.filter((statement) => !keyOnly(statement))).toHaveLength(1);
    const result = await cli(['import', 'edited.csv', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ updated: 1, unchanged: ROWS.length - 1 });
    expect(await sqlite(t, "SELECT text FROM answer_options WHERE question_id = 'st-3' ORDER BY \"order\"")).toEqual([{ text: 'a\u00010b' }, { text: 'c' }]);
  });
});

/**
 * A changed row without an id is staged with the question its text matched in the stored
 * questions; SQL keeps that match only when the texts are equal, and looks a text up itself where
 * the store could not tell (a text holding U+0000, which the store's copy ends at).
 */
describe.each(MODES)('rows matched by text through the stored questions (%s)', (mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV]]));
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...t.env, ...env }, cwd: t.dir });
  const SEEDED = [
    ['tm-1', 'CCNA-200-301', 'Same text twice?', 'a', 'b', '', '', 'A', 'First.', '2'],
    ['tm-2', 'CCNA-200-301', 'Same text twice?', 'a', 'b', '', '', 'A', 'Second.', '2'],
    ['tm-3', 'CCNA-200-301', 'Stored with odd values?', 'a', 'b', '', '', 'B', 'Odd.', '3'],
    ['tm-4', 'SAA-C03', 'Cut here', 'a', 'b', '', '', 'A', 'Whole.', '2'],
  ];

  async function seed(): Promise<void> {
    writeFileSync(join(t.dir, 'seed.csv'), csv(SEEDED));
    const seeded = await cli(['import', 'seed.csv']);
    expect(seeded.code, seeded.stderr).toBe(0);
    // a difficulty that is not an integer: never taken as unchanged, still matched by its text
    await sqlite(t, "UPDATE questions SET difficulty = 2.5 WHERE id = 'tm-3'");
  }

  it.each(['never', 'always'])('a changed row updates the lowest id of equal texts, and a question whose values are not the import’s types (parsing in a worker: %s)', async (parallel) => {
    await seed();
    const edited = [
      ['', 'CCNA-200-301', 'Same text twice?', 'a', 'b', '', '', 'A', 'Edited.', '2'],
      ['', 'CCNA-200-301', 'Stored with odd values?', 'a', 'b', '', '', 'B', 'Odd.', '3'],
    ];
    writeFileSync(join(t.dir, 'edited.csv'), csv(edited));
    const staged = JSON.stringify(await statementsOfReimport(t, 'edited.csv'));
    expect(staged).toMatch(/tm-1/);
    expect(staged).toMatch(/tm-3/);
    expect(staged).not.toMatch(/tm-2/);
    const result = await cli(['import', 'edited.csv', '--json'], { QBANK_IMPORT_PARALLEL: parallel });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ created: 0, updated: 2, unchanged: 0 });
    expect(await sqlite(t, "SELECT id, explanation, difficulty FROM questions WHERE id LIKE 'tm-%' ORDER BY id")).toEqual([
      { id: 'tm-1', explanation: 'Edited.', difficulty: 2 },
      { id: 'tm-2', explanation: 'Second.', difficulty: 2 },
      { id: 'tm-3', explanation: 'Odd.', difficulty: 3 },
      { id: 'tm-4', explanation: 'Whole.', difficulty: 2 },
    ]);
  });

  it('a row whose text equals the store’s copy of a stored text, not the text itself, is a new question', async () => {
    await seed();
    // a text holding U+0000 (files cannot, another writer can): the store's copy ends there
    await sqlite(t, "UPDATE questions SET text = 'Cut here' || char(0) || 'hidden' WHERE id = 'tm-4'");
    writeFileSync(join(t.dir, 'short.csv'), csv([['', 'SAA-C03', 'Cut here', 'a', 'b', '', '', 'A', 'Short.', '2']]));
    // the store's fingerprints match the row to tm-4; SQL compares the texts and finds no question
    expect(JSON.stringify(await statementsOfReimport(t, 'short.csv'))).toMatch(/tm-4/);
    const short = await cli(['import', 'short.csv', '--json']);
    expect(short.code, short.stderr).toBe(0);
    expect(short.json()).toMatchObject({ created: 1, updated: 0 });
    expect(await sqlite(t, "SELECT id, hex(text) AS text, explanation FROM questions WHERE exam_id = (SELECT exam_id FROM questions WHERE id = 'tm-4') ORDER BY explanation")).toEqual([
      { id: expect.any(String), text: Buffer.from('Cut here').toString('hex').toUpperCase(), explanation: 'Short.' },
      { id: 'tm-4', text: Buffer.from('Cut here\u0000hidden').toString('hex').toUpperCase(), explanation: 'Whole.' },
    ]);
  });

  it.each(['never', 'always'])('two rows matching one question fail the import, whether they change it or not (parsing in a worker: %s)', async (parallel) => {
    await seed();
    const before = await snapshot(t, { systemsOnly: true });
    const byText = (explanation: string) => ['', 'CCNA-200-301', 'Same text twice?', 'a', 'b', '', '', 'A', explanation, '2'];
    const byId = (explanation: string) => ['tm-1', 'CCNA-200-301', 'Same text twice?', 'a', 'b', '', '', 'A', explanation, '2'];
    // neither changes tm-1, one does, both do
    for (const [name, rows] of [
      ['kept.csv', [byText('First.'), byId('First.')]],
      ['one.csv', [byText('First.'), byId('Changed.')]],
      ['both.csv', [byText('Changed.'), byId('Again.')]],
    ] as const) {
      writeFileSync(join(t.dir, name), csv(rows.map((row) => [...row])));
      const result = await cli(['import', name], { QBANK_IMPORT_PARALLEL: parallel });
      expect(result.code, `${name}: ${result.stderr}`).not.toBe(0);
      expect(result.stderr).toContain(`${name}:3: this row and line 2 both match existing question "tm-1" (by text and by id); merge them or give distinct ids`);
      expect(await snapshot(t, { systemsOnly: true })).toBe(before);
    }
  });
});
