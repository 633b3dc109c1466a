import { createClient } from '@libsql/client';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

const ROOT = join(import.meta.dirname, '..');
const TRAITS = join(ROOT, 'fixtures', 'import-traits');
/** The open-interview system's own records (MIT), used where they are: never copied into the project. */
const SHARED = join(ROOT, '..', 'shared', 'fixtures', 'open-interview');

type Json = Record<string, unknown>;

/** JSON key of a record → column of `questions`, for the fields stored as they are (text) or as JSON text (lists, objects). */
const TEXT_FIELDS: Array<[string, string]> = [
  ['question', 'question'],
  ['answer', 'answer'],
  ['explanation', 'explanation'],
  ['diagram', 'diagram'],
  ['channel', 'channel'],
  ['subChannel', 'sub_channel'],
  ['sourceUrl', 'source_url'],
  ['eli5', 'eli5'],
  ['tldr', 'tldr'],
  ['createdAt', 'created_at'],
  ['lastUpdated', 'last_updated'],
];
const JSON_FIELDS: Array<[string, string]> = [
  ['tags', 'tags'],
  ['companies', 'companies'],
  ['voiceKeywords', 'voice_keywords'],
  ['videos', 'videos'],
];

async function rows(t: TestDatabase, sql: string, args: Array<string | number> = []): Promise<Json[]> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    return (await client.execute({ sql, args })).rows.map((row) => ({ ...row }));
  } finally {
    client.close();
  }
}

function isImportable(record: Json): boolean {
  return ['question', 'answer', 'explanation', 'difficulty', 'channel', 'subChannel'].every((key) => typeof record[key] === 'string' && record[key] !== '');
}

/** Every field of every importable record is in the database exactly as the file has it; absent fields are NULL (created_at: the import time). */
async function expectStoredAsGiven(t: TestDatabase, records: Json[]): Promise<void> {
  for (const record of records.filter(isImportable)) {
    const [row] = record.id !== undefined ? await rows(t, 'SELECT * FROM questions WHERE id = ?', [String(record.id)]) : await rows(t, 'SELECT * FROM questions WHERE question = ?', [String(record.question)]);
    const label = String(record.id ?? record.question);
    expect(row, label).toBeDefined();
    for (const [key, column] of TEXT_FIELDS) {
      if (key === 'createdAt' && record[key] === undefined) continue;
      expect(row[column], `${label} ${key}`).toBe(record[key] ?? null);
    }
    for (const [key, column] of JSON_FIELDS) expect(row[column], `${label} ${key}`).toBe(record[key] === undefined || record[key] === null ? null : JSON.stringify(record[key]));
    if (typeof record.voiceSuitable === 'boolean') expect(row.voice_suitable, `${label} voiceSuitable`).toBe(record.voiceSuitable ? 1 : 0);
    if (typeof record.isNew === 'boolean') expect(row.is_new, `${label} isNew`).toBe(record.isNew ? 1 : 0);
  }
}

describe.each(MODES)('the systems’ own content imports whole and unchanged (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
  });
  afterEach(async () => {
    await t.close();
  });

  it('our trait records: repeated texts with ids imported with a warning, text, dates and lists byte for byte', async () => {
    const file = join(TRAITS, 'oi-questions.json');
    const records = JSON.parse(readFileSync(file, 'utf8')) as Json[];
    const strict = await cli(['import', file]);
    expect(strict.code).toBe(3);
    expect(strict.stderr).toMatch(/oi-questions\.json:\d+:3 \(record 7, id "trait-malformed"\) channel: is required/);
    const result = await cli(['import', 'questions', file, '--skip-invalid', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = result.json();
    expect(summary).toMatchObject({ created: 6, rejected: 1, warningCount: 1 });
    expect(summary.warnings).toEqual([expect.stringMatching(/oi-questions\.json:\d+:3 \(record 2, id "trait-repeat-2"\) question: the same question text is on record 1; imported as its own question/)]);
    await expectStoredAsGiven(t, records);
    const [noId] = await rows(t, "SELECT created_at, last_updated FROM questions WHERE question = 'Which record has no id?'");
    expect(noId.last_updated).toBeNull();
    expect(Date.parse(String(noId.created_at))).not.toBeNaN();
    // the same file again changes nothing
    const again = await cli(['import', file, '--skip-invalid', '--json']);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: 6 });
  });

  it('a repeated text without an id stays an error: the match would be ambiguous', async () => {
    const text = JSON.stringify([
      { id: 'a-1', question: 'Same?', answer: 'A', explanation: 'E', difficulty: 'beginner', channel: 'c', subChannel: 's' },
      { question: 'Same?', answer: 'B', explanation: 'E', difficulty: 'beginner', channel: 'c', subChannel: 's' },
    ]);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(t.dir, 'same.json'), text);
    const result = await cli(['import', 'same.json']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/same\.json:1:\d+ \(record 2\) question: the same question text is on record 1; give the rows ids, or merge them/);
    expect(await rows(t, 'SELECT id FROM questions')).toEqual([]);
  });

  it('a file that wraps the array and a file of one record import', async () => {
    const wrapped = await cli(['import', join(TRAITS, 'oi-wrapped.json'), '--json']);
    expect(wrapped.code, wrapped.stderr).toBe(0);
    expect(wrapped.json()).toMatchObject({ created: 1 });
    await expectStoredAsGiven(t, (JSON.parse(readFileSync(join(TRAITS, 'oi-wrapped.json'), 'utf8')) as { questions: Json[] }).questions);
    const single = await cli(['import', 'questions', join(TRAITS, 'oi-single-record.json'), '--json']);
    expect(single.code, single.stderr).toBe(0);
    expect(single.json()).toMatchObject({ created: 1 });
    await expectStoredAsGiven(t, [JSON.parse(readFileSync(join(TRAITS, 'oi-single-record.json'), 'utf8')) as Json]);
  });

  it('CSV lists: an empty cell is NULL, [] an empty list, a; b split and trimmed, a JSON array kept item for item', async () => {
    const result = await cli(['import', join(TRAITS, 'oi-lists.csv'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(await rows(t, "SELECT id, tags, companies FROM questions WHERE channel = 'traits' ORDER BY id")).toEqual([
      { id: 'trait-csv-empty', tags: '[]', companies: '[]' },
      { id: 'trait-csv-null', tags: null, companies: null },
      { id: 'trait-csv-split', tags: '["a","b","c"]', companies: '["Acme "," Beta"]' },
    ]);
  });

  describe.skipIf(!existsSync(SHARED))('the open-interview system’s own files, as they are', () => {
    it('data/questions: every well-formed record, byte for byte; repeated texts with ids all imported', async () => {
      const file = join(SHARED, 'data-questions.json');
      const records = JSON.parse(readFileSync(file, 'utf8')) as Json[];
      const importable = records.filter(isImportable);
      for (const args of [
        ['import', file, '--skip-invalid', '--ignore-unknown-columns', '--json'],
        ['import', 'questions', '--skip-invalid', file, '--ignore-unknown-columns', '--json'],
      ]) {
        const result = await cli(args);
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ rejected: records.length - importable.length, ignoredColumns: expect.arrayContaining(['_sanitized']) });
      }
      expect(Number((await rows(t, 'SELECT count(*) AS n FROM questions'))[0].n)).toBe(importable.length);
      await expectStoredAsGiven(t, records);
      // 4 texts over 9 records with distinct ids: all nine are there
      const repeated = await rows(t, 'SELECT question, count(*) AS n FROM questions GROUP BY question HAVING n > 1');
      expect(repeated.reduce((sum, row) => sum + Number(row.n), 0)).toBe(9);
    });

    it('client/public/data: the object that wraps the array', async () => {
      const file = join(SHARED, 'client-data-aws.json');
      const result = await cli(['import', file, '--json']);
      expect(result.code, result.stderr).toBe(0);
      const { questions } = JSON.parse(readFileSync(file, 'utf8')) as { questions: Json[] };
      expect(result.json()).toMatchObject({ created: questions.length, rejected: 0 });
      await expectStoredAsGiven(t, questions);
    });
  });
});
