import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, MODES, runIn, sqlite, type Mode, type TestDatabase } from './support/modes.js';

/**
 * PingToPass options come out in their order, then by id, whatever order the rows were written in
 * and whichever way the export reads them (on `file:`, options as the index gives them until a
 * question's orders do not strictly increase, then sorted per question).
 */

const EXAMS_CSV = join(import.meta.dirname, '..', 'fixtures', 'pingtopass', 'exams.csv');
const QUESTIONS = 40;

function bank(): Record<string, unknown>[] {
  return Array.from({ length: QUESTIONS }, (_, i) => ({
    id: `q-${String(i).padStart(3, '0')}`,
    exam_code: 'SAA-C03',
    text: `question ${i}`,
    option_a: `a${i}`,
    option_b: `b${i}`,
    option_c: `c${i}`,
    option_d: `d${i}`,
    correct: 'B',
    difficulty: 2,
  }));
}

/** What the export must write for each question: its options sorted by order, then id, and the letters of the correct ones. */
async function expected(t: TestDatabase): Promise<string[]> {
  const rows = await sqlite(t, 'SELECT question_id, text, is_correct FROM answer_options ORDER BY question_id, "order", id');
  const byQuestion = new Map<string, Array<{ text: string; correct: boolean }>>();
  for (const row of rows) {
    const list = byQuestion.get(String(row.question_id)) ?? [];
    list.push({ text: String(row.text), correct: Number(row.is_correct) !== 0 });
    byQuestion.set(String(row.question_id), list);
  }
  return [...byQuestion].map(([id, options]) => {
    const cells = Array.from({ length: 6 }, (_, k) => options[k]?.text ?? '');
    const correct = options.flatMap((option, k) => (option.correct ? ['ABCDEF'[k]] : [])).join(';');
    return [id, ...cells, correct].join(',');
  });
}

/** id, option_a…option_f and correct of each exported question. */
function exportedOptions(jsonl: string): string[] {
  return jsonl
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, string | null>)
    .map((record) => [record.id, ...['a', 'b', 'c', 'd', 'e', 'f'].map((letter) => record[`option_${letter}`] ?? ''), record.correct].join(','));
}

describe.each(MODES)('export keeps options in their order, then id (%s)', (mode: Mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runIn(t, args);

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    for (const args of [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV]]) expect((await cli(args)).code).toBe(0);
    writeFileSync(join(t.dir, 'bank.json'), JSON.stringify(bank()));
    const imported = await cli(['import', 'bank.json']);
    expect(imported.code, imported.stderr).toBe(0);
  });
  afterEach(async () => {
    await t.close();
  });

  /** Exports as CSV and as JSON Lines; both hold what `expected` reads, which is returned. */
  async function exportAndCompare(): Promise<string[]> {
    const want = await expected(t);
    const jsonl = await cli(['export', 'questions', '--format', 'jsonl']);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    expect(exportedOptions(jsonl.stdout)).toEqual(want);
    const csv = await cli(['export', 'questions', '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const [header, ...lines] = csv.stdout.trim().split('\n').map((line) => line.split(','));
    const at = ['id', 'option_a', 'option_b', 'option_c', 'option_d', 'option_e', 'option_f', 'correct'].map((name) => header.indexOf(name));
    expect(lines.map((cells) => at.map((i) => cells[i]).join(','))).toEqual(want);
    return want;
  }

  /** Gives q-NNN's options a, b, c, d these orders. */
  async function reorder(question: string, orders: Array<number | bigint>): Promise<void> {
    for (const [k, order] of orders.entries()) await sqlite(t, 'UPDATE answer_options SET "order" = ? WHERE id = ?', [order, `${question}_opt_${'abcd'[k]}`]);
  }

  it('as written', async () => {
    const want = await exportAndCompare();
    expect(want).toHaveLength(QUESTIONS);
    expect(want[7]).toBe('q-007,a7,b7,c7,d7,,,B');
  });

  it('two options of one order come out by id, however their rows were written (and the questions after them too)', async () => {
    // q-010: a and b share order 0, and a's id now sorts after b's while its row comes first
    await reorder('q-010', [0, 0, 2, 3]);
    await sqlite(t, `UPDATE answer_options SET id = 'q-010_opt_z' WHERE id = 'q-010_opt_a'`);
    await reorder('q-025', [3, 2, 1, 0]);
    const want = await exportAndCompare();
    expect(want[10]).toBe('q-010,b10,a10,c10,d10,,,A');
    expect(want[25]).toBe('q-025,d25,c25,b25,a25,,,C');
  });

  it('orders that run against the rows, gaps, negative and large orders', async () => {
    await reorder('q-003', [3, 2, 1, 0]);
    await reorder('q-004', [10, -5, 7, 2 ** 53 + 2]);
    await reorder('q-039', [1, 0, 3, 2]);
    const want = await exportAndCompare();
    expect(want[3]).toBe('q-003,d3,c3,b3,a3,,,C');
    expect(want[4]).toBe('q-004,b4,c4,a4,d4,,,A');
    expect(want[39]).toBe('q-039,b39,a39,d39,c39,,,A');
  });

  it('orders beyond 2^53 that a double cannot tell apart, and a text order', async () => {
    await reorder('q-005', [2n ** 53n + 1n, 2n ** 53n, 0n, 1n]);
    await sqlite(t, `UPDATE answer_options SET "order" = 'x' WHERE id = 'q-020_opt_a'`);
    const want = await exportAndCompare();
    expect(want[5]).toBe('q-005,c5,d5,b5,a5,,,C');
    expect(want[20]).toBe('q-020,b20,c20,d20,a20,,,A');
  });
});
