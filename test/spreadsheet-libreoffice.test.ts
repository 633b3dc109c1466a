import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

/**
 * Files written by a real spreadsheet program: LibreOffice Calc converts qbank's own export to
 * each form editors save, and each imports back as a no-op (the stored text byte for byte).
 * Without `soffice` these tests skip locally and fail in CI, which installs it.
 */
const ROOT = join(import.meta.dirname, '..');
const EXAMS = join(ROOT, 'fixtures', 'pingtopass', 'exams.csv');
const QUESTIONS = join(ROOT, 'fixtures', 'pingtopass', 'questions.csv');
const SOFFICE = spawnSync('sh', ['-c', 'command -v soffice'], { encoding: 'utf8' }).stdout.trim();
const CI = Boolean(process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0');

/** CSV filter options: separator, text delimiter (34 = "), character set (76 UTF-8, 65535 UTF-16, 1 Windows-1252), first line. */
const CSV_FILTER = (separator: number, charset: number) => `csv:Text - txt - csv (StarCalc):${separator},34,${charset},1`;

describe.skipIf(!SOFFICE && !CI)('files LibreOffice Calc writes import back unchanged', () => {
  let t: TestDatabase;
  let profile: ReturnType<typeof tempDir>;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  /** Converts `input` (in the test's directory) with LibreOffice into `out/`, returning the new file's path under the test's directory. */
  function convert(input: string, filter: string, out: string, infilter?: string): string {
    mkdirSync(join(t.dir, out), { recursive: true });
    // each run its own profile, so parallel runs do not share LibreOffice's lock
    const result = spawnSync(SOFFICE, [`-env:UserInstallation=file://${profile.path}`, '--headless', ...(infilter ? [`--infilter=${infilter}`] : []), '--convert-to', filter, '--outdir', join(t.dir, out), join(t.dir, input)], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    const extension = filter.split(':')[0];
    return join(out, basename(input).replace(/\.[^.]+$/, `.${extension}`));
  }

  beforeAll(async () => {
    t = await createTestDatabase('file');
    profile = tempDir('qbank-libreoffice-');
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    expect((await cli(['import', 'exams', EXAMS])).code).toBe(0);
    expect((await cli(['import', QUESTIONS])).code).toBe(0);
    expect((await cli(['export', 'questions', 'bank.xlsx'])).code).toBe(0);
  });
  afterAll(async () => {
    await t?.close();
    profile?.remove();
  });

  it('has LibreOffice to test with (CI installs libreoffice-calc-nogui)', () => {
    expect(SOFFICE, 'soffice not found: apt-get install libreoffice-calc-nogui').not.toBe('');
  });

  it.skipIf(!SOFFICE).each([
    ['xlsx re-saved by Calc', ['xlsx:Calc MS Excel 2007 XML'], []],
    ['ods, then xlsx', ['ods', 'xlsx:Calc MS Excel 2007 XML'], []],
    ['semicolon CSV (UTF-8)', [CSV_FILTER(59, 76)], []],
    ['tab-separated UTF-16 ("Unicode Text")', [CSV_FILTER(9, 65535)], []],
    ['Windows-1252 CSV', [CSV_FILTER(44, 1)], ['--encoding', 'windows-1252']],
  ])('%s', { timeout: 240_000 }, async (_name, filters, flags) => {
    let file = 'bank.xlsx';
    filters.forEach((filter, step) => {
      file = convert(file, filter, `${_name.replace(/\W+/g, '-')}-${step}`);
    });
    const result = await cli(['import', file, ...flags, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ created: 0, updated: 0, unchanged: 24, rejected: 0 });
  });

  it.skipIf(!SOFFICE)('a CSV qbank exports, opened and saved by Calc as xlsx, imports back unchanged', { timeout: 240_000 }, async () => {
    expect((await cli(['export', 'questions', 'bank.csv'])).code).toBe(0);
    // opened as an editor should open a CSV: every column as Text, so Calc turns no "1.0" into 1
    const columns = Array.from({ length: 22 }, (_, i) => `${i + 1}/2`).join('/');
    const xlsx = convert('bank.csv', 'xlsx:Calc MS Excel 2007 XML', 'from-csv', `CSV:44,34,76,1,${columns}`);
    renameSync(join(t.dir, xlsx), join(t.dir, 'from-csv', 'resaved.xlsx'));
    const result = await cli(['import', join('from-csv', 'resaved.xlsx'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ created: 0, updated: 0, unchanged: 24 });
  });
});
