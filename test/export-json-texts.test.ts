import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, MODES, runIn, sqlite, type Mode, type TestDatabase } from './support/modes.js';

/**
 * JSON and JSON Lines exports have SQLite write their texts as JSON strings. What they write must
 * be what JSON.stringify writes for the stored value: every character (controls, quotes,
 * backslashes, line separators, emoji), and values that are not text
 * in a text column (a blob), in the question's own columns and in its options.
 */

const EXAMS_CSV = join(import.meta.dirname, '..', 'fixtures', 'pingtopass', 'exams.csv');

/** Every character from U+0001 to U+07FF, then the ones JSON writers treat apart. */
const EVERY_CHARACTER = Array.from({ length: 0x7ff }, (_, i) => String.fromCharCode(i + 1)).join('') + '\u2028\u2029\uFEFF😀𝔘"\\/';

function bank(): Record<string, unknown>[] {
  return ['a', 'b', 'c'].map((name, i) => ({
    id: `q-${name}`,
    exam_code: 'SAA-C03',
    text: `question ${name}`,
    option_a: `first ${i}`,
    option_b: `second ${i}`,
    option_c: `third ${i}`,
    correct: 'A',
    difficulty: 2,
    explanation: `why ${name}`,
  }));
}

describe.each(MODES)('JSON exports write texts as JSON.stringify does (%s)', (mode: Mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runIn(t, args);

  beforeAll(async () => {
    t = await createTestDatabase(mode);
    for (const args of [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV]]) expect((await cli(args)).code).toBe(0);
    writeFileSync(join(t.dir, 'bank.json'), JSON.stringify(bank()));
    const imported = await cli(['import', 'bank.json']);
    expect(imported.code, imported.stderr).toBe(0);
    await sqlite(t, 'UPDATE questions SET text = ?, explanation = ? WHERE id = ?', [`every ${EVERY_CHARACTER}`, `line\r\nbreak\ttab "quoted" \\ end `, 'q-a']);
    // a blob in a text column (text that is not UTF-8 cannot be read by the driver at all)
    await sqlite(t, "UPDATE questions SET explanation = x'00ff10' WHERE id = 'q-c'");
    await sqlite(t, "UPDATE answer_options SET text = ? WHERE question_id = 'q-a' AND \"order\" = 1", [EVERY_CHARACTER]);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The records as the database holds them, with the values JSON.stringify is given (a blob as base64). */
  async function stored(): Promise<Array<Record<string, unknown>>> {
    const questions = await sqlite(t, 'SELECT id, text, explanation FROM questions ORDER BY id');
    const options = await sqlite(t, 'SELECT question_id, text FROM answer_options ORDER BY question_id, "order", id');
    const asWritten = (value: unknown) => (value instanceof ArrayBuffer ? Buffer.from(value).toString('base64') : value);

    return questions.map((question) => {
      const own = options.filter((option) => option.question_id === question.id);
      return {
        id: question.id,
        text: asWritten(question.text),
        explanation: asWritten(question.explanation),
        ...Object.fromEntries(own.map((option, k) => [`option_${'abcdef'[k]}`, asWritten(option.text)])),
      };
    });
  }

  it.each(['jsonl', 'json'])('%s: each record is JSON.stringify of what is stored', async (format) => {
    const exported = await cli(['export', 'questions', '--format', format]);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.split('\n').filter((line) => line.startsWith('{'));
    expect(lines).toHaveLength(3);
    const want = await stored();
    lines.forEach((line, i) => {
      const record = JSON.parse(line.replace(/,$/, '')) as Record<string, unknown>;
      // written as JSON.stringify writes the same object, byte for byte
      expect(line.replace(/,$/, '')).toBe(JSON.stringify(record));
      for (const [key, value] of Object.entries(want[i])) expect(record[key], `${String(want[i].id)} ${key}`).toEqual(value);
    });
    expect(JSON.parse(lines[0].replace(/,$/, '')).option_b).toBe(EVERY_CHARACTER);
  });

  it('the JSON Lines file imports back unchanged', async () => {
    // (the import does not compare blobs: q-c is left out)
    const exported = await cli(['export', 'questions', 'out.jsonl', '--force', '--ids', 'q-a,q-b']);
    expect(exported.code, exported.stderr).toBe(0);
    const before = await sqlite(t, "SELECT id, text, explanation FROM questions WHERE id = 'q-a'");
    const again = await cli(['import', 'out.jsonl', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    expect(await sqlite(t, "SELECT id, text, explanation FROM questions WHERE id = 'q-a'")).toEqual(before);
  });
});
