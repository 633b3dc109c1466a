import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { databaseForEachTest, MODES, preparedDatabase, snapshot } from './support/modes.js';

const EXAMS = 'code,name,vendor,category,passing_score,total_questions,time_limit,price,description\nNEW-101,A new exam,Acme,Cloud,700,2,60,100,Added by the same pull request as its questions\n';
const QUESTIONS = 'exam_code,text,option_a,option_b,correct,difficulty\nNEW-101,First question of the new exam?,yes,no,A,1\nNEW-101,Second question of the new exam?,yes,no,B,2\n';

describe.each(MODES)('several files in one run, and plans a pipeline can gate on (%s)', (mode) => {
  const t = databaseForEachTest(() => preparedDatabase(mode, [['db', 'push', '--schema', 'pingtopass']]));
  const cli = (args: string[], env: Record<string, string> = t.env) => runCli(args, { env, cwd: t.dir });

  beforeEach(async () => {
    mkdirSync(join(t.dir, 'bank'));
    writeFileSync(join(t.dir, 'bank', 'exams.csv'), EXAMS);
    writeFileSync(join(t.dir, 'bank', 'questions.csv'), QUESTIONS);
  });

  it('a new exam and its questions: dry run with --exit-code (6, nothing written), the import, then nothing pending (0)', async () => {
    const before = await snapshot(t);
    // the questions come first on the command line: the exams are still imported before them
    const plan = await cli(['import', 'bank/questions.csv', 'bank/exams.csv', '--dry-run', '--exit-code', '--json']);
    expect(plan.code, plan.stderr).toBe(6);
    expect(plan.json()).toMatchObject({ dryRun: true, created: 3, files: [{ kind: 'exams', created: 1 }, { kind: 'questions', created: 2 }] });
    expect(await snapshot(t)).toBe(before);

    const applied = await cli(['import', 'bank/exams.csv', 'bank/questions.csv']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(/2 files imported in one transaction/);
    const after = await snapshot(t);
    expect(after).toContain('First question of the new exam?');
    expect(after).toContain('A new exam');

    const again = await cli(['import', 'bank', '--dry-run', '--exit-code', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    expect(await snapshot(t)).toBe(after);
  });

  it('a directory is imported whole or not at all', async () => {
    writeFileSync(join(t.dir, 'bank', 'more-questions.csv'), 'exam_code,text,option_a,option_b,correct,difficulty\nNEW-101,Bad one,yes,no,Z,1\n');
    const before = await snapshot(t);
    const failed = await cli(['import', 'bank']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/more-questions\.csv:2:5 row 2, column correct \(E\)/);
    expect(await snapshot(t)).toBe(before);
  });

  it('a single file: --exit-code says 6 when changes are pending and 0 when none; it needs --dry-run', async () => {
    expect((await cli(['import', 'exams', 'bank/exams.csv', '--dry-run', '--exit-code'])).code).toBe(6);
    expect((await cli(['import', 'exams', 'bank/exams.csv'])).code).toBe(0);
    expect((await cli(['import', '--dry-run', '--exit-code', 'exams', 'bank/exams.csv'])).code).toBe(0);
    const usage = await cli(['import', 'exams', 'bank/exams.csv', '--exit-code']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--exit-code goes with --dry-run');
  });

  it.runIf(mode === 'remote')('a dry run is a read: read-only credentials are enough', async () => {
    const readOnly = { TURSO_DATABASE_URL: t.url, TURSO_AUTH_TOKEN_RO: t.readOnlyToken! };
    const before = await snapshot(t);
    const plan = await cli(['import', 'bank', '--dry-run', '--exit-code', '--json'], readOnly);
    expect(plan.code, plan.stderr).toBe(6);
    expect(plan.json()).toMatchObject({ created: 3 });
    const readOnlyAsMain = await cli(['import', 'bank', '--dry-run', '--json'], { TURSO_DATABASE_URL: t.url, TURSO_AUTH_TOKEN: t.readOnlyToken! });
    expect(readOnlyAsMain.code, readOnlyAsMain.stderr).toBe(0);
    const write = await cli(['import', 'bank'], readOnly);
    expect(write.code).not.toBe(0);
    expect(write.stderr).not.toMatch(/rejected \(expired\?\)/);
    expect(await snapshot(t)).toBe(before);
  });

  it('import template --json is one object', async () => {
    const result = await cli(['import', 'template', '--json']);
    expect(result.code).toBe(0);
    const document = result.json();
    expect(Array.isArray(document)).toBe(false);
    expect(document.templates.map((template: { name: string }) => template.name)).toContain('pingtopass-exams');
  });
});
