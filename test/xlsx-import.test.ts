import { createClient } from '@libsql/client';
import ExcelJS from 'exceljs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { MODES, preparedDatabase, type TestDatabase } from './support/modes.js';
import { EXAMS_CSV, QUESTIONS_CSV, storedRows } from './support/interchange.js';

const HEADER = ['id', 'exam_code', 'text', 'option_a', 'option_b', 'correct', 'difficulty'];

/** A workbook as another program writes it (exceljs: shared strings, styles, formulas with results). */
async function workbook(path: string, build: (sheet: ExcelJS.Worksheet, book: ExcelJS.Workbook) => void): Promise<void> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('questions');
  build(sheet, book);
  await book.xlsx.writeFile(path);
}

describe.each(MODES)('.xlsx in and out (%s)', (mode) => {
  let t: TestDatabase;
  let before: string;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
  const path = (name: string) => join(t.dir, name);

  beforeAll(async () => {
    t = await preparedDatabase(mode, [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV], ['import', QUESTIONS_CSV]]);
    before = await storedRows(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('export → import is a no-op, and the workbook holds Text cells under a frozen header', async () => {
    const exported = await cli(['export', 'questions', 'bank.xlsx', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.json()).toMatchObject({ format: 'xlsx', rows: 24 });
    const again = await cli(['import', 'bank.xlsx', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ format: 'xlsx', encoding: 'xlsx', created: 0, updated: 0, unchanged: 24 });
    expect(await storedRows(t)).toBe(before);
    // another program reads the same cells back, as text
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(path('bank.xlsx'));
    const sheet = book.worksheets[0];
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.getRow(1).getCell(1).value).toBe('id');
    expect(sheet.getRow(2).getCell(13).value).toBe('1');
    expect(sheet.getRow(2).getCell(13).numFmt).toBe('@');
    const csv = await cli(['export', 'questions', 'bank.csv']);
    expect(csv.code).toBe(0);
    expect((await cli(['export', 'questions', '--format', 'xlsx'])).code).toBe(2);
  });

  it('reads numbers, booleans, rich text, formulas by their saved value, and --sheet', async () => {
    await workbook(path('typed.xlsx'), (sheet, book) => {
      book.addWorksheet('other').addRow(['nothing', 'here']);
      sheet.addRow(HEADER);
      sheet.addRow(['xl-1', 'CCNA-200-301', { richText: [{ text: 'Rich ', font: { bold: true } }, { text: 'text & <more>' }] }, 42, true, 'A', 3]);
      sheet.addRow(['xl-2', 'CCNA-200-301', { formula: 'CONCAT("Form","ula")', result: 'Formula' }, 'x', 'y', 'B', { formula: '1+1', result: 2 }]);
    });
    const result = await cli(['import', 'typed.xlsx', '--sheet', 'questions', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ created: 2 });
    const client = createClient({ url: `file:${t.dbPath}` });
    try {
      const rows = (await client.execute("SELECT q.id, q.text, q.difficulty, (SELECT group_concat(text, '|') FROM (SELECT text FROM answer_options WHERE question_id = q.id ORDER BY `order`)) AS options FROM questions q WHERE q.id LIKE 'xl-%' ORDER BY q.id")).rows;
      expect(rows.map((row) => [row.id, row.text, row.difficulty, row.options])).toEqual([
        ['xl-1', 'Rich text & <more>', 3, '42|true'],
        ['xl-2', 'Formula', 2, 'x|y'],
      ]);
      await client.execute("DELETE FROM answer_options WHERE question_id LIKE 'xl-%'");
      await client.execute("DELETE FROM questions WHERE id LIKE 'xl-%'");
    } finally {
      client.close();
    }
    const missing = await cli(['import', 'typed.xlsx', '--sheet', 'nope']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('the workbook has no sheet "nope" (its sheets: "questions", "other")');
    expect(await storedRows(t)).toBe(before);
  });

  it.each([
    ['header-row-2.xlsx', (sheet: ExcelJS.Worksheet) => sheet.getRow(2).values = ['', ...HEADER], 'sheet "questions" row 1: row 1 is empty: the header (the column names) must be in row 1, and the first cells are in row 2'],
    ['ref-error.xlsx', (sheet: ExcelJS.Worksheet) => { sheet.addRow(HEADER); sheet.addRow(['e-1', 'CCNA-200-301', { formula: 'A1+#REF!', result: { error: '#REF!' } }, 'a', 'b', 'A', 1]); }, 'sheet "questions" row 2 (id e-1), column text (C): the cell holds the formula error #REF!'],
    ['date-id.xlsx', (sheet: ExcelJS.Worksheet) => { sheet.addRow(HEADER); sheet.addRow([new Date(Date.UTC(2026, 0, 31)), 'CCNA-200-301', 'Dated', 'a', 'b', 'A', 1]); }, 'sheet "questions" row 2 (id 2026-01-31), column id (A): a date (2026-01-31) where id expects text'],
    ['empty.xlsx', () => undefined, 'sheet "questions" row 1: the sheet is empty: expected the header (the column names) in row 1'],
    ['merged.xlsx', (sheet: ExcelJS.Worksheet) => { sheet.addRow(HEADER); sheet.addRow(['m-1', 'CCNA-200-301', 'Merged', 'a', 'b', 'A', 1]); sheet.addRow(['m-2', '', 'Merged too', 'a', 'b', 'A', 1]); sheet.mergeCells('B2:B3'); }, 'sheet "questions" row 2, column (B): cells B2:B3 are merged'],
    ['hidden-row.xlsx', (sheet: ExcelJS.Worksheet) => { sheet.addRow(HEADER); sheet.addRow(['h-1', 'CCNA-200-301', 'Hidden', 'a', 'b', 'A', 1]).hidden = true; }, 'sheet "questions" row 2 (id h-1): the row is hidden in the workbook'],
  ] as Array<[string, (sheet: ExcelJS.Worksheet) => void, string]>)('refuses %s naming sheet, row and column, and writes nothing', async (name, build, message) => {
    await workbook(path(name), build);
    const result = await cli(['import', name]);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(`${name} ${message}`);
    expect(result.stderr).toMatch(/nothing was imported/);
    expect(await storedRows(t)).toBe(before);
  });

  it('refuses a password-protected workbook and a truncated one, and writes nothing', async () => {
    // an encrypted workbook is an OLE compound file, not a ZIP package
    writeFileSync(path('locked.xlsx'), Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(4096)]));
    const locked = await cli(['import', 'locked.xlsx']);
    expect(locked.code).toBe(3);
    expect(locked.stderr).toContain('the workbook is password-protected (encrypted), or an old .xls file');
    expect((await cli(['export', 'questions', 'whole.xlsx'])).code).toBe(0);
    const whole = readFileSync(path('whole.xlsx'));
    writeFileSync(path('truncated.xlsx'), whole.subarray(0, Math.floor(whole.length / 2)));
    const truncated = await cli(['import', 'truncated.xlsx']);
    expect(truncated.code).toBe(3);
    expect(truncated.stderr).toContain('the workbook is incomplete or damaged');
    expect(await storedRows(t)).toBe(before);
  });

  it('--skip-invalid writes the rejected rows to a workbook with an error column', async () => {
    await workbook(path('mixed.xlsx'), (sheet) => {
      sheet.addRow(HEADER);
      sheet.addRow(['r-1', 'NOPE-1', 'Unknown exam', 7, 'b', 'A', 1]);
    });
    const result = await cli(['import', 'mixed.xlsx', '--skip-invalid', '--rejects', 'rejected.xlsx']);
    expect(result.code, result.stderr).toBe(0);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(path('rejected.xlsx'));
    const sheet = book.worksheets[0];
    expect(sheet.getRow(1).values).toEqual([undefined, ...HEADER, 'error']);
    expect(sheet.getRow(2).values).toEqual([undefined, 'r-1', 'NOPE-1', 'Unknown exam', 7, 'b', 'A', 1, 'exam_code: no exam with code "NOPE-1"; import exams first with `qbank import exams FILE`']);
    expect(await storedRows(t)).toBe(before);
  });
});
