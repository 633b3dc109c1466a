import { createClient } from '@libsql/client';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, databaseForEachTest, MODES, snapshot } from './support/modes.js';
import { EXAMS_CSV, QUESTIONS_CSV } from './support/interchange.js';

const ROOT = join(import.meta.dirname, '..');
const OI_CERTIFICATIONS = join(ROOT, 'fixtures', 'import', 'open-interview', 'certifications.csv');

/** Every spelling `--help` shows: the option after the file, between the subcommand and the file, before the subcommand. */
function placements(sub: string[], file: string, option: string[]): string[][] {
  return [
    ['import', ...sub, file, ...option],
    ['import', ...sub, ...option, file],
    ['import', ...option, ...sub, file],
  ];
}

describe.each(MODES)('import options reach the command in every position (%s)', (mode) => {
  const t = databaseForEachTest(() => createTestDatabase(mode));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  describe('PingToPass', () => {
    beforeEach(async () => {
      expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
      expect((await cli(['db', 'seed'])).code).toBe(0);
    });

    it('--dry-run writes nothing for exams and questions, wherever it stands', async () => {
      const before = await snapshot(t);
      for (const args of [...placements(['exams'], EXAMS_CSV, ['--dry-run']), ...placements(['questions'], QUESTIONS_CSV, ['--dry-run']), ...placements([], QUESTIONS_CSV, ['--dry-run'])]) {
        const result = await cli([...args, '--json']);
        if (args.includes('questions') || !args.includes('exams')) {
          // questions name exams the database does not have yet: a dry run says so and writes nothing either way
          expect([0, 3], args.join(' ')).toContain(result.code);
        } else {
          expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
          expect(result.json(), args.join(' ')).toMatchObject({ dryRun: true, kind: 'exams', created: 2 });
        }
        expect(await snapshot(t), args.join(' ')).toBe(before);
      }
      expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
      const withExams = await snapshot(t);
      for (const args of [...placements(['questions'], QUESTIONS_CSV, ['--dry-run']), ...placements([], QUESTIONS_CSV, ['--dry-run'])]) {
        const result = await cli([...args, '--json']);
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
        expect(result.json(), args.join(' ')).toMatchObject({ dryRun: true, kind: 'questions', created: 24 });
        expect(await snapshot(t), args.join(' ')).toBe(withExams);
      }
    });

    it('--mode insert refuses existing questions and exams, wherever it stands', async () => {
      expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
      expect((await cli(['import', QUESTIONS_CSV])).code).toBe(0);
      const before = await snapshot(t);
      for (const args of [...placements(['questions'], QUESTIONS_CSV, ['--mode', 'insert']), ...placements([], QUESTIONS_CSV, ['--mode', 'insert']), ...placements(['exams'], EXAMS_CSV, ['--mode', 'insert'])]) {
        const result = await cli(args);
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(3);
        expect(result.stderr).toMatch(/already exists/);
        expect(await snapshot(t)).toBe(before);
      }
    });

    it('--format and --encoding reach the subcommand', async () => {
      expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
      const text = 'exam_code,text,option_a,option_b,correct,difficulty\r\nCCNA-200-301,Qu\u2019est-ce qu\u2019un r\u00e9seau ?,Oui,Non,A,1\r\n';
      writeFileSync(join(t.dir, 'bank.txt'), Buffer.from(text.replace(/\u2019/g, '\x92'), 'latin1'));
      for (const [index, args] of placements(['questions'], 'bank.txt', ['--format', 'csv', '--encoding', 'windows-1252']).entries()) {
        const result = await cli([...args, '--json']);
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
        expect(result.json()).toMatchObject({ format: 'csv', encoding: 'windows-1252', ...(index === 0 ? { created: 1 } : { unchanged: 1 }) });
      }
      const client = createClient({ url: `file:${t.dbPath}` });
      try {
        const rows = (await client.execute("SELECT text FROM questions WHERE text LIKE 'Qu%r_seau ?'")).rows;
        expect(rows.map((row) => row.text)).toEqual(['Qu\u2019est-ce qu\u2019un r\u00e9seau ?']);
      } finally {
        client.close();
      }
    });

    it('--skip-invalid and --rejects reach the subcommand', async () => {
      expect((await cli(['import', 'exams', EXAMS_CSV])).code).toBe(0);
      const text = 'exam_code,text,option_a,option_b,correct,difficulty\nCCNA-200-301,Valid one,a,b,A,1\nNOPE-1,Unknown exam,a,b,A,1\n';
      writeFileSync(join(t.dir, 'mixed.csv'), text);
      for (const [index, args] of placements(['questions'], 'mixed.csv', ['--skip-invalid', '--rejects', 'rejected.csv']).entries()) {
        const result = await cli([...args, '--json', '--force']);
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
        expect(result.json()).toMatchObject({ rejected: 1, rejectsFile: 'rejected.csv', ...(index === 0 ? { created: 1 } : { unchanged: 1 }) });
        expect(readFileSync(join(t.dir, 'rejected.csv'), 'utf8')).toContain('NOPE-1,Unknown exam');
      }
    });
  });

  describe('open-interview', () => {
    beforeEach(async () => {
      expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    });

    it('certifications: --dry-run writes nothing and --mode insert refuses, wherever they stand', async () => {
      const before = await snapshot(t);
      for (const args of placements(['certifications'], OI_CERTIFICATIONS, ['--dry-run'])) {
        const result = await cli([...args, '--json']);
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
        expect(result.json()).toMatchObject({ dryRun: true, kind: 'certifications', created: 2 });
        expect(await snapshot(t)).toBe(before);
      }
      expect((await cli(['import', 'certifications', OI_CERTIFICATIONS])).code).toBe(0);
      const imported = await snapshot(t);
      for (const args of placements(['certifications'], OI_CERTIFICATIONS, ['--mode', 'insert'])) {
        const result = await cli(args);
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(3);
        expect(await snapshot(t)).toBe(imported);
      }
    });
  });
});

describe('import help', () => {
  it('every import command shows examples', async () => {
    for (const sub of [[], ['questions'], ['exams'], ['certifications'], ['template']]) {
      const result = await runCli(['import', ...sub, '--help']);
      expect(result.code, sub.join(' ')).toBe(0);
      expect(result.stdout, sub.join(' ')).toMatch(/\nExamples:\n {2}\$ qbank import/);
    }
  });
});
