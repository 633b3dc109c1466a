import { createClient } from '@libsql/client';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

const BAD = join(import.meta.dirname, '..', 'fixtures', 'import', 'bad');

/** One file per rule of the import format: [file, the problem reported first, extra arguments]. */
const PINGTOPASS_QUESTIONS: Array<[string, string, string[]?]> = [
  ['ptp-missing-column.csv', 'ptp-missing-column.csv:1: missing column "difficulty"'],
  ['ptp-unknown-column.csv', 'ptp-unknown-column.csv:1:7 row 1, column colour (G): unknown column'],
  ['ptp-duplicate-column.csv', 'ptp-duplicate-column.csv:1:3 row 1, column Text (C): repeats column 2 (text)'],
  ['ptp-unknown-exam.csv', 'ptp-unknown-exam.csv:3:1 row 3, column exam_code (A): no exam with code "CCNA-999"; import exams first with `qbank import exams FILE`'],
  ['ptp-missing-text.csv', 'ptp-missing-text.csv:3:2 row 3, column text (B): is required'],
  ['ptp-one-option.csv', 'ptp-one-option.csv:3:4 row 3, column option_b (D): a question needs at least two options'],
  ['ptp-options-gap.csv', 'ptp-options-gap.csv:3:6 row 3, column option_d (F): option_c is empty but option_d is not: options must be contiguous from option_a'],
  ['ptp-correct-names-no-option.csv', 'ptp-correct-names-no-option.csv:3:7 row 3, column correct (G): letter E names no option (this question has 4: A-D)'],
  ['ptp-correct-not-a-letter.csv', 'ptp-correct-not-a-letter.csv:3:7 row 3, column correct (G): "2" is not an option letter (A to F); separate several with , ; | or spaces'],
  ['ptp-single-with-two-correct.csv', 'ptp-single-with-two-correct.csv:2:8 row 2, column correct (H): a single-answer question has exactly one correct letter, not 2 (A;C); use type multiple'],
  ['ptp-bad-type.csv', 'ptp-bad-type.csv:2:2 row 2, column type (B): must be one of single, multiple, drag-drop, hotspot, simulation'],
  ['ptp-bad-difficulty.csv', 'ptp-bad-difficulty.csv:3:8 row 3, column difficulty (H): must be a whole number from 1 to 5'],
  ['ptp-bad-review-status.csv', 'ptp-bad-review-status.csv:2:7 row 2, column review_status (G): must be one of pending, approved, rejected'],
  ['ptp-bad-url.csv', 'ptp-bad-url.csv:2:7 row 2, column reference_url (G): must be an http(s) URL or a path starting with /'],
  ['ptp-bad-tags.csv', 'ptp-bad-tags.csv:2:7 row 2, column tags (G): starts with "[" but is not a JSON array'],
  ['ptp-duplicate-id.csv', 'ptp-duplicate-id.csv:4:1 row 4 (id q-1), column id (A): duplicate id "q-1": line 2 has it too'],
  ['ptp-duplicate-text.csv', 'ptp-duplicate-text.csv:4:2 row 4, column text (B): the same question text for exam CCNA-200-301 is on line 2; give the rows ids, or merge them'],
  ['ptp-too-many-columns.csv', 'ptp-too-many-columns.csv:3:9 row 3, column (I): too many columns: the header has 8, this row 9'],
  ['ptp-too-few-columns.csv', 'ptp-too-few-columns.csv:3:8 row 3, column difficulty (H): too few columns: the header has 8, this row 7'],
  ['ptp-unterminated-quote.csv', 'ptp-unterminated-quote.csv:3: unterminated quoted field: the closing quote is missing (the field starts on this line)'],
  ['ptp-text-after-quote.csv', 'ptp-text-after-quote.csv:3:2 row 3, column text (B): unexpected text after a closing quote (a quote inside a quoted field must be doubled: "")'],
  ['ptp-error-in-later-line-of-record.csv', 'ptp-error-in-later-line-of-record.csv:3:8 row 2, column difficulty (H): must be a whole number from 1 to 5'],
  ['ptp-empty.csv', 'ptp-empty.csv:1: the file is empty: expected a header row'],
  ['ptp-nul-byte.csv', 'ptp-nul-byte.csv:3: NUL byte (U+0000) in the data; a UTF-16 file without a byte-order mark looks like this (the file may be utf-16le)'],
  ['ptp-utf16-without-bom.csv', 'ptp-utf16-without-bom.csv:1: NUL byte (U+0000) in the data; a UTF-16 file without a byte-order mark looks like this (the file may be utf-16le)'],
  ['ptp-invalid-utf8.csv', 'ptp-invalid-utf8.csv:4: bytes E9 20 61 75 (byte offset 173) are not valid utf-8; a file saved by Excel or Windows may be windows-1252'],
  ['ptp-long-field.csv', 'ptp-long-field.csv:3: a field starting on this line is longer than the limit of 200 characters', ['--max-field-size', '200']],
];

const PINGTOPASS_EXAMS: Array<[string, string]> = [
  ['exams-missing-name.csv', 'exams-missing-name.csv:2:2 row 2, column name (B): is required'],
  ['exams-bad-score.csv', 'exams-bad-score.csv:2:5 row 2, column passing_score (E): must be a whole number from 0 to 100000'],
];

const OPEN_INTERVIEW_QUESTIONS: Array<[string, string]> = [
  ['oi-bad-difficulty.json', 'oi-bad-difficulty.json:10:3 (record 2) difficulty: must be one of beginner, intermediate, advanced'],
  ['oi-missing-answer.jsonl', 'oi-missing-answer.jsonl:2:1 (record 2) answer: is required'],
  ['oi-not-records.json', 'oi-not-records.json:1:1: a .json file must hold an array of records: [ {...}, {...} ], an object holding one under "questions", or one record (for one record per line, use .jsonl)'],
  ['oi-unterminated.json', 'oi-unterminated.json:3:3: the file ends inside this record (a missing "}" or an unterminated string)'],
  ['oi-broken-record.jsonl', 'oi-broken-record.jsonl:2:1 (record 2): not valid JSON: '],
  ['oi-unknown-field.json', 'oi-unknown-field.json:2:3 (record 1) colour: unknown field'],
  ['oi-bad-videos.csv', 'oi-bad-videos.csv:2:7 row 2, column videos (G): must be JSON'],
  ['oi-nul-escape.json', 'oi-nul-escape.json:2:3 (record 1) question: contains a NUL character (U+0000)'],
  ['oi-duplicate-question.csv', 'oi-duplicate-question.csv:3:1 row 3, column question (A): the same question text is on line 2; give the rows ids, or merge them'],
];

const OPEN_INTERVIEW_CERTIFICATIONS: Array<[string, string]> = [
  ['certifications-bad-difficulty.csv', 'certifications-bad-difficulty.csv:2:5 row 2 (id x), column difficulty (E): must be one of beginner, intermediate, advanced, expert'],
  ['certifications-missing-id.csv', 'certifications-missing-id.csv:2:1 row 2, column id (A): is required'],
];

async function snapshot(t: TestDatabase): Promise<string> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    const tables = (await client.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name")).rows.map((row) => String(row.name));
    const parts = [JSON.stringify(tables)];
    for (const name of tables) {
      if (name.startsWith('sqlite_') || !(await client.execute(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '${name}'`)).rows.length) continue;
      parts.push(JSON.stringify((await client.execute(`SELECT * FROM "${name}" ORDER BY rowid`)).rows));
    }
    return parts.join('\n');
  } finally {
    client.close();
  }
}

describe.each(MODES)('import refuses bad files and changes nothing (%s)', (mode) => {
  describe.each([
    ['pingtopass', 'questions', PINGTOPASS_QUESTIONS],
    ['pingtopass', 'exams', PINGTOPASS_EXAMS],
    ['open-interview', 'questions', OPEN_INTERVIEW_QUESTIONS],
    ['open-interview', 'certifications', OPEN_INTERVIEW_CERTIFICATIONS],
  ] as const)('%s %s', (system, kind, cases) => {
    let t: TestDatabase;
    let before: string;
    const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

    beforeAll(async () => {
      t = await createTestDatabase(mode);
      expect((await cli(['db', 'push', '--schema', system])).code).toBe(0);
      expect((await cli(['db', 'seed'])).code).toBe(0);
      before = await snapshot(t);
    });
    afterAll(async () => {
      await t.close();
    });

    it.each(cases as Array<[string, string, string[]?]>)('%s', async (name, message, extra = []) => {
      copyFileSync(join(BAD, name), join(t.dir, name));
      const result = await cli(['import', ...(kind === 'questions' ? [] : [kind]), name, ...extra]);
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(/^error: .*nothing was imported$/m);
      expect(result.stderr).toContain(`  ${message}`);
      expect(await snapshot(t)).toBe(before);
    });
  });

  it('shows the first 20 problems and counts the rest, and --json carries them', async () => {
    const t = await createTestDatabase(mode);
    try {
      await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir });
      await runCli(['db', 'seed'], { env: t.env, cwd: t.dir });
      const before = await snapshot(t);
      const rows = Array.from({ length: 150 }, (_, i) => `CCNA-200-301,Question ${i}?,a,b,${i % 3 === 0 ? 'Z' : 'A'},2`);
      writeFileSync(join(t.dir, 'many.csv'), ['exam_code,text,option_a,option_b,correct,difficulty', ...rows].join('\n'));
      const result = await runCli(['import', 'many.csv'], { env: t.env, cwd: t.dir });
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/error: many\.csv: 50 problems in 150 rows; nothing was imported/);
      expect(result.stderr.match(/^ {2}many\.csv:\d+:5 row \d+, column correct \(E\): "Z" is not an option letter/gm)).toHaveLength(20);
      expect(result.stderr).toMatch(/hint: the first 20 of 50 problems are shown/);
      const json = await runCli(['import', 'many.csv', '--json'], { env: t.env, cwd: t.dir });
      expect(json.json().error).toMatchObject({ kind: 'InvalidInputError', exitCode: 3 });
      expect(json.json().error.details).toHaveLength(20);
      expect(json.json().error.details[0]).toBe('many.csv:2:5 row 2, column correct (E): "Z" is not an option letter (A to F); separate several with , ; | or spaces');
      expect(await snapshot(t)).toBe(before);
    } finally {
      await t.close();
    }
  });
});
