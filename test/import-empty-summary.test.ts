import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, runIn, sqlite, type TestDatabase } from './support/modes.js';

/** An import file with a header and no rows: no empty table, one closing line with its counts, nothing written. */
describe('qbank import of a file without rows', () => {
  let t: TestDatabase;

  beforeEach(async () => {
    t = await createTestDatabase('file');
    expect((await runIn(t, ['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    writeFileSync(join(t.dir, 'empty.csv'), 'code,name,vendor,category,passing_score,total_questions\n');
  });
  afterEach(async () => {
    await t.close();
  });

  it.each([
    ['import exams FILE', ['import', 'exams', 'empty.csv']],
    ['import exams FILE --dry-run', ['import', 'exams', 'empty.csv', '--dry-run']],
    ['import --dry-run exams FILE', ['import', '--dry-run', 'exams', 'empty.csv']],
  ])('%s prints no table header without rows', async (_title, args) => {
    const result = await runIn(t, args.map((arg) => (arg === 'empty.csv' ? join(t.dir, arg) : arg)));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/created\s+updated\s+unchanged/i);
    expect(result.stderr + result.stdout).toMatch(/0 created, 0 updated, 0 unchanged/);
    expect((await sqlite(t, 'SELECT count(*) AS n FROM exams'))[0]!.n).toBe(0);
  });

  it('still prints the table when the file has rows', async () => {
    writeFileSync(join(t.dir, 'one.csv'), 'code,name,vendor,category,passing_score,total_questions\nEX-1,Exam one,Acme,cloud,70,10\n');
    const result = await runIn(t, ['import', 'exams', join(t.dir, 'one.csv')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/created\s+updated\s+unchanged/i);
    expect((await sqlite(t, 'SELECT count(*) AS n FROM exams'))[0]!.n).toBe(1);
  });
});
