import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvParser, type CsvRecord } from '../src/db/import/csv.js';
import { encodeText } from '../src/db/import/rejects.js';
import { runCli } from './support/cli.js';
import { MODES, preparedDatabase, type TestDatabase } from './support/modes.js';
import { EXAMS_CSV, QUESTIONS_CSV, storedRows } from './support/interchange.js';

function parse(text: string): string[][] {
  const parser = new CsvParser();
  const records: CsvRecord[] = [];
  parser.push(text, records);
  parser.end(records);
  return records.map((record) => record.fields);
}

/** Rows written as a spreadsheet program writes them: every cell quoted when it must be. */
function write(rows: string[][], delimiter: string, lineEnding: string): string {
  const special = new RegExp(`["\\r\\n${delimiter === '\t' ? '\\t' : delimiter}]`);
  return rows.map((row) => row.map((cell) => (special.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)).join(delimiter) + lineEnding).join('');
}

describe.each(MODES)('CSV as spreadsheets write it (%s)', (mode) => {
  let t: TestDatabase;
  let rows: string[][];
  let before: string;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
  const file = (name: string, content: string | Buffer) => {
    writeFileSync(join(t.dir, name), content);
    return name;
  };

  beforeAll(async () => {
    t = await preparedDatabase(mode, [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS_CSV], ['import', QUESTIONS_CSV]]);
    expect((await cli(['export', 'questions', 'source.csv'])).code).toBe(0);
    rows = parse(readFileSync(join(t.dir, 'source.csv'), 'utf8'));
    before = await storedRows(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['semicolon.csv', ';', '\r\n', 'utf-8', false],
    ['tab-utf16le.txt', '\t', '\r\n', 'utf-16le', true],
    ['tab-utf16be.tsv', '\t', '\n', 'utf-16be', true],
    ['mac.csv', ',', '\r', 'utf-8', false],
    ['semicolon-bom.csv', ';', '\n', 'utf-8', true],
  ])('reads %s (delimiter, line ending and encoding from the file) and changes nothing', async (name, delimiter, lineEnding, encoding, bom) => {
    // a CR-only file cannot hold a line break inside a cell apart from its row ends: those cells keep LF
    const text = (bom ? '\uFEFF' : '') + write(rows, delimiter, lineEnding);
    file(name, encodeText(text, encoding));
    const result = await cli(['import', name, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ created: 0, updated: lineEnding === '\r' ? result.json().updated : 0, rejected: 0, encoding });
    if (lineEnding !== '\r') expect(await storedRows(t)).toBe(before);
  });

  it('ignores empty columns without a name at the end, and still refuses a named unknown one', async () => {
    const trailing = rows.map((row, i) => [...row, '', i === 0 ? '' : '']);
    expect((await cli(['import', file('trailing.csv', write(trailing, ',', '\r\n')), '--json'])).json()).toMatchObject({ created: 0, updated: 0, unchanged: rows.length - 1 });
    const valued = rows.map((row, i) => [...row, '', i === 2 ? 'stray' : '']);
    const stray = await cli(['import', file('stray.csv', write(valued, ',', '\r\n'))]);
    expect(stray.code).toBe(3);
    expect(stray.stderr).toMatch(/stray\.csv:\d+:24 row 3 \(id [0-9a-f]+\), column \(X\): a value in a column without a name in the header/);
    const named = rows.map((row, i) => [...row, i === 0 ? 'notes' : '']);
    const refused = await cli(['import', file('named.csv', write(named, ',', '\r\n'))]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('named.csv:1:23 row 1, column notes (W): unknown column');
    expect(await storedRows(t)).toBe(before);
  });

  it('--delimiter forces the delimiter; a header that fits another one says so', async () => {
    file('semi.csv', write(rows, ';', '\r\n'));
    const wrong = await cli(['import', 'semi.csv', '--delimiter', ',']);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("hint: this file looks semicolon-separated: try --delimiter ';'");
    const tabs = await cli(['import', file('tabs.csv', write(rows, '\t', '\n')), '--delimiter', ';']);
    expect(tabs.stderr).toContain("this file looks tab-separated: try --delimiter '\\t'");
    const right = await cli(['import', '--delimiter', ';', 'semi.csv', '--json']);
    expect(right.code, right.stderr).toBe(0);
    expect(right.json()).toMatchObject({ created: 0, updated: 0 });
    expect((await cli(['import', 'semi.csv', '--delimiter', 'ab'])).code).toBe(2);
    expect(await storedRows(t)).toBe(before);
  });

  it('names the row, the id and the column letter of a bad cell, and keeps the file line', async () => {
    const header = 'id,exam_code,text,option_a,option_b,correct,difficulty';
    const text = `${header}\nalgorithms-q-0,CCNA-200-301,"Two\nlines\nhere",a,b,A,1\nalgorithms-q-1,CCNA-200-301,"More\nlines",a,b,K,1\n`;
    const result = await cli(['import', file('values.csv', text)]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('values.csv:6:6 row 3 (id algorithms-q-1), column correct (F): "K" is not an option letter');
    expect(await storedRows(t)).toBe(before);
  });

  it('writes the rejects file in the input dialect: encoding, byte-order mark, delimiter and line endings', async () => {
    const header = 'exam_code;text;option_a;option_b;correct;difficulty';
    const text = `${header}\r\nNOPE-1;Caf\u00e9 \u201cr\u00e9sum\u00e9\u201d \u20ac;a;b;A;1\r\nNOPE-2;Na\u00efve;a;b;A;2\r\n`;
    file('legacy.csv', encodeText(text, 'windows-1252'));
    const result = await cli(['import', 'legacy.csv', '--encoding', 'windows-1252', '--skip-invalid', '--rejects', 'legacy-rejects.csv']);
    expect(result.code, result.stderr).toBe(0);
    const rejects = readFileSync(join(t.dir, 'legacy-rejects.csv'));
    expect(rejects.includes(Buffer.from([0x93]))).toBe(true);
    const decoded = new TextDecoder('windows-1252').decode(rejects);
    expect(decoded.split('\r\n')[0]).toBe(`${header};error`);
    expect(decoded).toMatch(/^NOPE-1;Caf. .r.sum.. .;a;b;A;1;"exam_code: no exam with code ""NOPE-1""; import exams first with `qbank import exams FILE`"\r\n/m);
    expect(decoded.split('\r\n')).toHaveLength(4);

    const utf16 = '\uFEFF' + ['exam_code\ttext\toption_a\toption_b\tcorrect\tdifficulty', 'NOPE-1\tTab \u00e9\ta\tb\tA\t1', ''].join('\r\n');
    file('unicode.txt', Buffer.from(utf16, 'utf16le'));
    expect((await cli(['import', 'unicode.txt', '--skip-invalid', '--rejects', 'unicode-rejects.txt'])).code).toBe(0);
    const back = readFileSync(join(t.dir, 'unicode-rejects.txt'));
    expect([...back.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect(back.toString('utf16le')).toMatch(/^\uFEFFexam_code\ttext\toption_a\toption_b\tcorrect\tdifficulty\terror\r\nNOPE-1\tTab \u00e9\ta\tb\tA\t1\t/);
    expect(await storedRows(t)).toBe(before);
  });
});
