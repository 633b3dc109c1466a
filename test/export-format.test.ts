import Ajv2020 from 'ajv/dist/2020.js';
import { createClient } from '@libsql/client';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { exportRecords } from '../src/db/export/index.js';
import { excelSafe, removeExcelApostrophe } from '../src/db/export/formats.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, databaseForEachTest, type Mode, MODES, preparedDatabase, type TestDatabase } from './support/modes.js';
import { random } from './support/random.js';
import { EXAMS_CSV, PINGTOPASS_WITH_EXAMS } from './support/interchange.js';

const ROOT = join(import.meta.dirname, '..');
const SCHEMA_DIR = join(ROOT, 'docs', 'json');
const EXAM_CODES = ['CCNA-200-301', 'SAA-C03', 'SC-900'];

function schemaValidator(name: string) {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
  for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')));
  return ajv.getSchema(`https://qbank.dev/json/${name}.schema.json`)!;
}

/** Text with what spreadsheets and CSV make hard: separators, quotes, line breaks, formula starts, emoji, spaces at the ends. */
function text(rnd: () => number, max: number): string {
  const pieces = ['word', ' ', ', ', '"', "'", '=', '+', '-', '@', '\t', '\r', '\n', '\r\n', 'é', '中文', '😀', '𝔘', ';', '[', ']', '\u0001', '\u001f', '  '];
  let out = '';
  const length = 1 + Math.floor(rnd() * max);
  while (out.length < length) out += pieces[Math.floor(rnd() * pieces.length)];
  return out;
}

function randomBank(rnd: () => number): Record<string, unknown>[] {
  const count = 1 + Math.floor(rnd() * 25);
  return Array.from({ length: count }, (_, i) => {
    const options = Array.from({ length: 2 + Math.floor(rnd() * 5) }, () => text(rnd, 30));
    const correct = options.map((_, k) => k).filter(() => rnd() < 0.4);
    if (correct.length === 0) correct.push(0);
    const record: Record<string, unknown> = {
      id: `r-${i}-${Math.floor(rnd() * 1e6)}`,
      exam_code: EXAM_CODES[Math.floor(rnd() * EXAM_CODES.length)],
      type: correct.length > 1 ? 'multiple' : ['single', 'drag-drop', 'hotspot'][Math.floor(rnd() * 3)],
      text: `${i} ${text(rnd, 200)}`,
      correct: correct.map((k) => 'ABCDEF'[k]).join(','),
      difficulty: 1 + Math.floor(rnd() * 5),
    };
    options.forEach((option, k) => (record[`option_${'abcdef'[k]}`] = option));
    if (rnd() < 0.6) record.explanation = text(rnd, 400);
    if (rnd() < 0.5) record.tags = rnd() < 0.3 ? [] : Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => text(rnd, 10));
    if (rnd() < 0.3) record.objective_id = text(rnd, 8).replace(/\s/g, '') || 'x';
    if (rnd() < 0.3) record.is_active = rnd() < 0.5;
    if (rnd() < 0.3) record.ai_generated = rnd() < 0.5;
    return record;
  });
}

async function questionRows(t: TestDatabase): Promise<string> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    const questions = await client.execute(
      'SELECT id, exam_id, type, text, explanation, reference_url, difficulty, objective_id, tags, exhibit_url, is_active, ai_generated, ai_model, review_status FROM questions ORDER BY id',
    );
    const options = await client.execute('SELECT id, question_id, text, is_correct, "order" FROM answer_options ORDER BY id');
    return JSON.stringify([questions.rows, options.rows]);
  } finally {
    client.close();
  }
}

describe('export formats', () => {
  it('--excel puts one apostrophe before formula-like cells, and before apostrophes leading up to one', () => {
    expect(['=1+1', '+1', '-1', '@SUM', '\tx', '\rx', "'=x", "''+x", "'x", 'a=b', '', '1'].map(excelSafe)).toEqual([
      "'=1+1",
      "'+1",
      "'-1",
      "'@SUM",
      "'\tx",
      "'\rx",
      "''=x",
      "'''+x",
      "'x",
      'a=b',
      '',
      '1',
    ]);
  });

  it('removeExcelApostrophe undoes excelSafe for any cell, and leaves every other cell alone', () => {
    const rnd = random(5);
    const pieces = ["'", '=', '+', '-', '@', '\t', '\r', 'a', ' ', '1'];
    for (let i = 0; i < 5000; i++) {
      let cell = '';
      const length = Math.floor(rnd() * 6);
      while (cell.length < length) cell += pieces[Math.floor(rnd() * pieces.length)];
      expect(removeExcelApostrophe(excelSafe(cell)), JSON.stringify(cell)).toBe(cell);
      if (excelSafe(cell) === cell) expect(removeExcelApostrophe(cell), JSON.stringify(cell)).toBe(cell);
    }
  });
});

describe.each(MODES)('export (%s)', (mode: Mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, PINGTOPASS_WITH_EXAMS));
  const cli = (args: string[], options: { tty?: boolean } = {}) => runCli(args, { env: t.env, cwd: t.dir, ...options });

  it('--excel: BOM, CRLF and formula-like cells behind an apostrophe; --json summary follows docs/json/export.schema.json', async () => {
    writeFileSync(
      join(t.dir, 'in.json'),
      JSON.stringify([{ id: 'x-1', exam_code: 'SC-900', text: '=HYPERLINK("http://evil")', option_a: '-5', option_b: 'line\r\nbreak', correct: 'A', difficulty: 2 }]),
    );
    expect((await cli(['import', 'in.json'])).code).toBe(0);
    const result = await cli(['export', 'questions', 'sheet.csv', '--excel', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = result.json();
    const validate = schemaValidator('export');
    expect(validate(summary) ? [] : validate.errors).toEqual([]);
    const bytes = readFileSync(join(t.dir, 'sheet.csv'));
    expect(summary).toMatchObject({ file: 'sheet.csv', rows: 1, bytes: bytes.length, excel: true, groups: [{ group: 'SC-900', rows: 1 }] });
    const content = bytes.toString('utf8');
    expect(content.startsWith('\uFEFFid,exam_code,')).toBe(true);
    expect(content).toContain(`x-1,SC-900,single,"'=HYPERLINK(""http://evil"")",'-5,"line\r\nbreak",`);
    expect(content.split('\r\n')).toHaveLength(4);
  });

  it('export --excel → import --excel: nothing changes; into an empty database the same file comes out again', async () => {
    const cells = ['=1+1', '+x', '-5', '@SUM(A1)', '\tlead tab', '\rlead CR', "'=quoted", "''+twice", "'plain", 'plain'];
    writeFileSync(
      join(t.dir, 'in.json'),
      JSON.stringify(cells.map((cell, i) => ({ id: `xl-${i}`, exam_code: 'SC-900', text: `${cell} ${i}`, option_a: cell, option_b: 'b', correct: 'A', difficulty: 1, explanation: cell, tags: [cell] }))),
    );
    expect((await cli(['import', 'in.json'])).code).toBe(0);
    const before = await questionRows(t);
    expect((await cli(['export', 'questions', 'sheet.csv', '--excel'])).code).toBe(0);
    const plain = await cli(['import', 'sheet.csv', '--json']);
    expect(plain.json().updated, 'without --excel the apostrophes are content').toBeGreaterThan(0);
    await cli(['import', 'in.json']);
    const again = await cli(['import', 'questions', 'sheet.csv', '--excel', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: cells.length });
    expect(await questionRows(t)).toBe(before);
    const other = await createTestDatabase(mode);
    try {
      const run = (args: string[]) => runCli(args, { env: other.env, cwd: t.dir });
      expect((await run(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
      expect((await run(['import', 'exams', EXAMS_CSV])).code).toBe(0);
      expect((await run(['import', '--excel', 'sheet.csv'])).code).toBe(0);
      expect((await run(['export', 'questions', 'sheet2.csv', '--excel'])).code).toBe(0);
      expect(readFileSync(join(t.dir, 'sheet2.csv'))).toEqual(readFileSync(join(t.dir, 'sheet.csv')));
    } finally {
      await other.close();
    }
  }, 60_000);

  it('shows progress at a terminal while writing a file', async () => {
    writeFileSync(join(t.dir, 'in.json'), JSON.stringify(randomBank(random(7))));
    expect((await cli(['import', 'in.json'])).code).toBe(0);
    const result = await cli(['export', 'questions', 'out.csv'], { tty: true });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/exporting questions to out\.csv.* rows/);
    expect(result.stdout).toMatch(/EXAM +QUESTIONS/);
  });

  it('reads a remote database in pages by key, all of it, in one snapshot', async () => {
    const bank = randomBank(random(11)).concat(randomBank(random(12)));
    writeFileSync(join(t.dir, 'in.json'), JSON.stringify(bank));
    expect((await cli(['import', 'in.json'])).code).toBe(0);
    const whole = (await cli(['export', 'questions', '--format', 'jsonl'])).stdout;
    const database = openDatabase({ kind: mode === 'file' ? 'file' : 'remote', url: t.url, displayUrl: t.url, authToken: t.authToken } as never, { intMode: 'bigint' });
    try {
      let paged = '';
      const summary = await exportRecords(
        database,
        { write: async (chunk) => void (paged += chunk) },
        { system: 'pingtopass', kind: 'questions', format: 'jsonl', pages: { firstPageRows: 3, maxPageRows: 3, pageBytes: 1 << 20 } },
      );
      expect(paged).toBe(whole);
      expect(summary.rows).toBe(bank.length);
      if (mode === 'remote') expect(summary.roundTrips).toBeGreaterThanOrEqual(Math.ceil(bank.length / 3));
    } finally {
      database.close();
    }
  });

  it('property: random banks → export → import into an empty database → the same rows, and the same file again', async () => {
    const formats = ['csv', 'json', 'jsonl'] as const;
    for (let seed = 1; seed <= (mode === 'file' ? 12 : 4); seed++) {
      const rnd = random(seed);
      const format = formats[seed % 3];
      writeFileSync(join(t.dir, 'in.json'), JSON.stringify(randomBank(rnd)));
      const imported = await cli(['import', 'in.json', '--mode', 'upsert']);
      expect(imported.code, imported.stderr).toBe(0);
      expect((await cli(['export', 'questions', `bank.${format}`, '--force'])).code).toBe(0);
      expect((await cli(['export', 'exams', `exams.${format}`, '--force'])).code).toBe(0);
      const other = await createTestDatabase(mode);
      try {
        const run = (args: string[]) => runCli(args, { env: other.env, cwd: t.dir });
        expect((await run(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
        expect((await run(['import', 'exams', `exams.${format}`])).code).toBe(0);
        const again = await run(['import', `bank.${format}`]);
        expect(again.code, `seed ${seed}: ${again.stderr}`).toBe(0);
        expect(await questionRows(other), `seed ${seed}`).toBe(await questionRows(t));
        expect((await run(['export', 'questions', `bank2.${format}`, '--force'])).code).toBe(0);
        expect(readFileSync(join(t.dir, `bank2.${format}`), 'utf8'), `seed ${seed}`).toBe(readFileSync(join(t.dir, `bank.${format}`), 'utf8'));
      } finally {
        await other.close();
      }
      const client = createClient({ url: `file:${t.dbPath}` });
      await client.batch(['DELETE FROM answer_options', 'DELETE FROM questions'], 'write');
      client.close();
    }
  }, 180_000);
});
