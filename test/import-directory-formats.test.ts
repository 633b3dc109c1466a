import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { databaseForEachTest, preparedDatabase, snapshot } from './support/modes.js';
import { INTERCHANGE_FIXTURES, PINGTOPASS_WITH_EXAMS, storedQuestions } from './support/interchange.js';

/**
 * `qbank import DIR` takes every file of the directory whose name says an import format (the
 * interchange formats and workbooks too), and passes over the rest (a bare .txt may be anything).
 */
describe('a directory of question files in the interchange formats', () => {
  const t = databaseForEachTest(() => preparedDatabase('file', PINGTOPASS_WITH_EXAMS));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  function bankDir(): string {
    const dir = join(t.dir, 'bank');
    mkdirSync(dir);
    copyFileSync(join(INTERCHANGE_FIXTURES, 'tricky.gift'), join(dir, 'tricky.gift'));
    copyFileSync(join(INTERCHANGE_FIXTURES, 'tricky.aiken.txt'), join(dir, 'tricky.aiken.txt'));
    writeFileSync(join(dir, 'notes.txt'), 'what to review next week\n');
    return dir;
  }

  it('imports the GIFT and Aiken files of the directory as one run, as each file alone would, and passes over notes.txt', async () => {
    const dir = bankDir();
    const single = async (file: string) => {
      const result = await cli(['import', join(dir, file), '--exam', 'CCNA-200-301', '--difficulty', '2', '--dry-run', '--json']);
      expect(result.code, result.stderr).toBe(0);
      return result.json().created as number;
    };
    const expected = (await single('tricky.gift')) + (await single('tricky.aiken.txt'));
    expect(expected).toBeGreaterThan(0);

    const result = await cli(['import', 'bank', '--exam', 'CCNA-200-301', '--difficulty', '2', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = result.json();
    expect(summary.created).toBe(expected);
    expect(summary.files.map((file: { file: string }) => file.file.split('/').pop()).sort()).toEqual(['tricky.aiken.txt', 'tricky.gift']);
    const stored = await storedQuestions(t);
    expect(stored).toHaveLength(expected);
    expect(new Set(stored.map((question) => question.exam))).toEqual(new Set(['CCNA-200-301']));
  });

  it('a directory with no file that names a format is refused (exit 2), naming the formats, and nothing is written', async () => {
    const dir = join(t.dir, 'empty');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'nothing to import\n');
    const before = await snapshot(t);
    const result = await cli(['import', 'empty', '--exam', 'CCNA-200-301', '--difficulty', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('empty holds no file to import');
    expect(result.stderr).toContain('.gift');
    expect(await snapshot(t)).toBe(before);
  });
});
