import { createClient } from '@libsql/client';
import { linkSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

const ROOT = join(import.meta.dirname, '..');
const PTP_EXAMS = join(ROOT, 'fixtures', 'pingtopass', 'exams.csv');

async function questionTexts(t: TestDatabase): Promise<string[]> {
  const client = createClient({ url: `file:${t.dbPath}` });
  try {
    return (await client.execute("SELECT text FROM questions WHERE text LIKE 'Rejects%' ORDER BY text")).rows.map((row) => String(row.text));
  } finally {
    client.close();
  }
}

const CSV = 'exam_code,text,option_a,option_b,correct,difficulty,tags\nCCNA-200-301,"Rejects, valid",a,b,A,1,\nNOPE-1,"Rejects ""fixed"" later",a,b,A,2,x;y\n';
const RECORDS = [
  { examCode: 'CCNA-200-301', text: 'Rejects JSON valid', options: ['a', 'b'], correct: 'A', difficulty: 1 },
  { examCode: 'NOPE-1', text: 'Rejects JSON fixed later', options: ['a', 'b'], correct: 'B', difficulty: 3, tags: [] },
];

describe.each(MODES)('--rejects (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
  const write = (name: string, text: string) => writeFileSync(join(t.dir, name), text);
  const read = (name: string) => readFileSync(join(t.dir, name), 'utf8');

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    expect((await cli(['import', 'exams', PTP_EXAMS])).code).toBe(0);
  });
  afterEach(async () => {
    await t.close();
  });

  it('keeps an existing file unless --force, and the database unchanged', async () => {
    write('bank.csv', CSV);
    write('rejected.csv', 'mine');
    const refused = await cli(['import', 'bank.csv', '--skip-invalid', '--rejects', 'rejected.csv']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/rejected\.csv already exists/);
    expect(refused.stderr).toContain('--force');
    expect(read('rejected.csv')).toBe('mine');
    expect(await questionTexts(t)).toEqual([]);
    const forced = await cli(['import', 'questions', 'bank.csv', '--skip-invalid', '--rejects', 'rejected.csv', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(read('rejected.csv')).toContain('NOPE-1');
    expect(await questionTexts(t)).toEqual(['Rejects, valid']);
  });

  it('refuses a rejects path that is the input, a symlink or a hard link to it, even with --force', async () => {
    write('bank.csv', CSV);
    symlinkSync(join(t.dir, 'bank.csv'), join(t.dir, 'soft.csv'));
    linkSync(join(t.dir, 'bank.csv'), join(t.dir, 'hard.csv'));
    for (const rejects of ['bank.csv', 'soft.csv', 'hard.csv', './bank.csv']) {
      const result = await cli(['import', 'bank.csv', '--skip-invalid', '--rejects', rejects, '--force']);
      expect(result.code, rejects).toBe(2);
      expect(result.stderr).toMatch(/the rejects file .* is (also an input|the same file as the input bank\.csv)/);
      expect(read('bank.csv')).toBe(CSV);
    }
    const missing = await cli(['import', 'bank.csv', '--skip-invalid', '--rejects', 'no/such/dir/rejected.csv']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    expect(await questionTexts(t)).toEqual([]);
    expect(readdirSync(t.dir).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('writes the format its name says, and the fixed file imports as it is', async () => {
    write('bank.csv', CSV);
    write('bank.json', JSON.stringify(RECORDS, null, 2));
    // CSV input: rejects as CSV, JSON array and JSON Lines
    for (const rejects of ['csv-rejects.csv', 'csv-rejects.json', 'csv-rejects.jsonl']) {
      const result = await cli(['import', 'bank.csv', '--skip-invalid', '--rejects', rejects, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ rejected: 1, rejectsFile: rejects });
    }
    expect(read('csv-rejects.csv')).toBe(
      'exam_code,text,option_a,option_b,correct,difficulty,tags,error\nNOPE-1,"Rejects ""fixed"" later",a,b,A,2,x;y,"exam_code: no exam with code ""NOPE-1""; import exams first with `qbank import exams FILE`"\n',
    );
    const asJson = JSON.parse(read('csv-rejects.json'));
    expect(asJson).toEqual([expect.objectContaining({ exam_code: 'NOPE-1', text: 'Rejects "fixed" later', tags: 'x;y', error: expect.stringContaining('NOPE-1') })]);
    expect(read('csv-rejects.jsonl').trim().split('\n').map((line) => JSON.parse(line))).toEqual(asJson);
    // JSON input: rejects as a JSON array; a CSV rejects file cannot hold JSON records
    const json = await cli(['import', 'bank.json', '--skip-invalid', '--rejects', 'json-rejects.json', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(read('json-rejects.json'))).toEqual([{ ...RECORDS[1], error: expect.stringContaining('NOPE-1') }]);
    const refused = await cli(['import', 'bank.json', '--skip-invalid', '--rejects', 'json-rejects.csv']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/name the rejects file \.json or \.jsonl/);

    // fixed: every rejects file imports as it is, error column and all
    for (const name of ['csv-rejects.csv', 'csv-rejects.json', 'csv-rejects.jsonl', 'json-rejects.json']) write(name, read(name).replaceAll('NOPE-1', 'SC-900'));
    for (const name of ['csv-rejects.csv', 'csv-rejects.json', 'csv-rejects.jsonl', 'json-rejects.json']) {
      const result = await cli(['import', name, '--json']);
      expect(result.code, `${name}\n${result.stderr}`).toBe(0);
      expect(result.json().rejected).toBe(0);
    }
    expect(await questionTexts(t)).toEqual(['Rejects "fixed" later', 'Rejects JSON fixed later', 'Rejects JSON valid', 'Rejects, valid']);
  });

  it('a rejects file with no rejected rows holds the header (CSV) or an empty array (JSON)', async () => {
    write('good.csv', 'exam_code,text,option_a,option_b,correct,difficulty\nCCNA-200-301,Rejects none,a,b,A,1\n');
    expect((await cli(['import', 'good.csv', '--skip-invalid', '--rejects', 'none.csv'])).code).toBe(0);
    expect((await cli(['import', 'good.csv', '--skip-invalid', '--rejects', 'none.json'])).code).toBe(0);
    expect(read('none.csv')).toBe('exam_code,text,option_a,option_b,correct,difficulty,error\n');
    expect(JSON.parse(read('none.json'))).toEqual([]);
  });
});
