import Ajv2020 from 'ajv/dist/2020.js';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, MODES, runIn, sqlite, type Mode, type TestDatabase } from './support/modes.js';

/** `qbank import FILE --check`: the content rules on the incoming rows; errors refuse the import before anything is written. */

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'check');
const SCHEMA_DIR = join(import.meta.dirname, '..', 'docs', 'json');

const record = (id: string, question: string, answer: string) => ({ id, question, answer, explanation: 'Because it is so.', difficulty: 'beginner', channel: 'backend', subChannel: 'general' });
/** Valid rows whose only findings are warnings: a cut-off answer and a repeated text. */
const WARNINGS_ONLY = [
  record('w-1', 'What is a cache?', 'A store of recent results, kept close to where they are used.'),
  record('w-2', 'How do you scale reads?', 'You add read replicas and route queries to them, and the'),
  record('w-3', 'What is eventual consistency?', 'Replicas converge once writes stop.'),
  record('w-4', 'What is eventual consistency?', 'All replicas agree given time.'),
];

const count = async (t: TestDatabase, table = 'questions') => Number((await sqlite(t, `SELECT count(*) AS n FROM ${table}`))[0]!.n);

describe.each(MODES)('qbank import --check (%s)', (mode: Mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runIn(t, args);

  beforeEach(async () => {
    t = await createTestDatabase(mode);
  });
  afterEach(async () => {
    await t.close();
  });

  describe('open-interview', () => {
    beforeEach(async () => {
      expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
      copyFileSync(join(FIXTURES, 'open-interview-planted.json'), join(t.dir, 'planted.json'));
      writeFileSync(join(t.dir, 'warnings.json'), JSON.stringify(WARNINGS_ONLY));
    });

    it('refuses a file whose rows break a rule with severity error (exit 6), flag before or after the file, and writes nothing', async () => {
      for (const args of [['import', '--check', 'planted.json'], ['import', 'planted.json', '--check'], ['import', 'questions', 'planted.json', '--check', '--skip-invalid']]) {
        const result = await cli(args);
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(6);
        expect(result.stdout).toContain('invalid-json');
        expect(result.stdout).toContain('planted.json:');
        expect(result.stderr).toContain('nothing was imported');
        expect(await count(t)).toBe(0);
      }
      // the rows the import's own validation refuses are left to it: not reported by --check
      const json = await cli(['--json', 'import', 'planted.json', '--check']);
      expect(json.code).toBe(6);
      const report = json.json();
      expect(report.findings.map((f: { rule: string; id: string }) => `${f.rule} ${f.id}`).sort()).toEqual([
        'duplicate-question oi-dup-1',
        'invalid-json oi-json',
        'json-in-text oi-jsontext',
        'truncated-answer oi-trunc',
      ]);
      const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
      for (const file of readdirSync(SCHEMA_DIR).filter((name) => name.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')));
      const validate = ajv.getSchema('https://qbank.dev/json/check.schema.json')!;
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
      expect(await count(t)).toBe(0);
    });

    it('imports a file with warnings only, showing them (and in the JSON summary under check)', async () => {
      const dry = await cli(['import', 'warnings.json', '--check', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(await count(t)).toBe(0);
      const result = await cli(['import', '--check', 'warnings.json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('2 warnings from the content rules (the import goes on)');
      expect(result.stderr).toContain('warnings.json:1 w-2 (backend) truncated-answer: the answer ends in "and the"');
      expect(await count(t)).toBe(4);
      const again = await cli(['--json', 'import', 'warnings.json', '--check']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.json().check.summary).toEqual({ errors: 0, warnings: 2, byRule: { 'duplicate-question': 1, 'truncated-answer': 1 } });
      expect(again.json().unchanged).toBe(4);
    });
  });

  it('PingToPass: a rule made an error in qbank.config.json refuses the import; without it the file imports', async () => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    writeFileSync(join(t.dir, 'exams.csv'), 'code,name,vendor,category,passing_score,total_questions\nNET-1,Networks,Cisco,Networking,700,10\n');
    expect((await cli(['import', 'exams', 'exams.csv', '--check'])).code).toBe(0);
    writeFileSync(join(t.dir, 'bank.csv'), 'exam_code,text,option_a,option_b,option_c,correct,explanation,difficulty\nNET-1,What is the capital of France?,Paris,Lyon,paris.,A,Paris.,1\nNET-1,Which port does SSH use?,21,22,23,B,SSH listens on 22.,1\n');
    writeFileSync(join(t.dir, 'qbank.config.json'), JSON.stringify({ targets: {}, check: { severities: { 'duplicate-option': 'error' } } }));
    const refused = await cli(['import', 'bank.csv', '--check']);
    expect(refused.code, refused.stderr).toBe(6);
    expect(refused.stdout).toContain('bank.csv:2');
    expect(await count(t)).toBe(0);
    writeFileSync(join(t.dir, 'qbank.config.json'), JSON.stringify({ targets: {} }));
    const imported = await cli(['import', '--check', 'bank.csv']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain('duplicate-option');
    expect(await count(t)).toBe(2);
  });
});
