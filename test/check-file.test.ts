import Ajv2020 from 'ajv/dist/2020.js';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';
import { hasSharedOpenInterview, SHARED_OPEN_INTERVIEW } from './support/shared-fixtures.js';
import { expectTheRecordsFindings, findingPairs, PINGTOPASS_PLANTED_IN_BOTH } from './support/check.js';

/** `qbank check FILE`: an import file checked before import, with no database at all. */

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'check');
const SCHEMA_DIR = join(import.meta.dirname, '..', 'docs', 'json');

const PINGTOPASS_PLANTED = [...PINGTOPASS_PLANTED_IN_BOTH, 'invalid-row d-invalid'].sort();

const OPEN_INTERVIEW_PLANTED = [
  'duplicate-question oi-dup-1',
  'invalid-json oi-json',
  'invalid-row oi-nochannel',
  'invalid-value oi-value',
  'json-in-text oi-jsontext',
  'truncated-answer oi-trunc',
].sort();

function checkSchema() {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
  for (const file of readdirSync(SCHEMA_DIR).filter((name) => name.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')));
  return ajv.getSchema('https://qbank.dev/json/check.schema.json')!;
}

describe('qbank check FILE', () => {
  let dir: { path: string; remove: () => void };
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env, cwd: dir.path });

  beforeEach(() => {
    dir = tempDir('qbank-check-file-');
    for (const name of ['pingtopass-planted.csv', 'pingtopass-clean.csv', 'open-interview-planted.json']) copyFileSync(join(FIXTURES, name), join(dir.path, name));
  });
  afterEach(() => dir.remove());

  it('reports exactly the planted defects of a PingToPass file, exit 6, with no database configured and none created', async () => {
    const before = readdirSync(dir.path).sort();
    const result = await cli(['check', 'pingtopass-planted.csv', '--schema', 'pingtopass', '--json']);
    expect(result.code, result.stderr).toBe(6);
    const report = result.json();
    expect(findingPairs(report)).toEqual(PINGTOPASS_PLANTED);
    expect(report.summary).toMatchObject({ errors: 4, warnings: 9 });
    expect(report.files).toEqual(['pingtopass-planted.csv']);
    // the rows the import would refuse, where they are: file, line and column of the field
    expect(report.findings.find((f: { rule: string }) => f.rule === 'invalid-value')).toMatchObject({ file: 'pingtopass-planted.csv', line: 3, column: 11, message: 'difficulty: must be a whole number from 1 to 5' });
    expect(report.findings.find((f: { rule: string }) => f.rule === 'invalid-row')).toMatchObject({ line: 2, column: 4, message: 'text: is required' });
    // content findings name the row's line; bank findings the rest of the group
    expect(report.findings.find((f: { rule: string }) => f.rule === 'duplicate-question')).toMatchObject({ line: 6, group: 'DEFECTS-1', related: ['d-dup-2'] });
    expect(report.findings.find((f: { rule: string }) => f.rule === 'near-duplicate-question').related).toEqual(['d-near-2']);
    expect(report.findings.find((f: { rule: string }) => f.rule === 'duplicate-option').related).toEqual(['option_a', 'option_c']);
    // the rules that need a database are listed as not run
    expect(report.rules.filter((r: { notRun?: string }) => r.notRun).map((r: { rule: string }) => r.rule)).toEqual(['orphan-row']);
    const validate = checkSchema();
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(readdirSync(dir.path).sort()).toEqual(before);
  });

  it('a clean file: nothing found, exit 0; a database URL that is configured is not opened when --schema names the system', async () => {
    const result = await cli(['--json', 'check', 'pingtopass-clean.csv', '--schema', 'pingtopass'], { TURSO_DATABASE_URL: 'file:never.db' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().findings).toEqual([]);
    expect(result.json().connection).toBeUndefined();
    expect(existsSync(join(dir.path, 'never.db'))).toBe(false);
    // in CI, where no URL means an error for database commands, a file is still checked
    const ci = await cli(['check', 'pingtopass-clean.csv'], { CI: 'true', QBANK_SCHEMA: 'pingtopass' });
    expect(ci.code, ci.stderr).toBe(0);
    expect(ci.stderr).toContain('0 errors, 0 warnings');
    expect(ci.stderr).toContain('on pingtopass-clean.csv');
  });

  it('table, github and junit name the file and line; --strict fails on warnings; --rules chooses', async () => {
    const table = await cli(['check', '--schema', 'pingtopass', 'pingtopass-planted.csv']);
    expect(table.code).toBe(6);
    expect(table.stdout).toContain('pingtopass-planted.csv:3:11 d-value (DEFECTS-1)');
    expect(table.stderr).toContain('4 errors, 9 warnings');
    expect(table.stderr).toContain('not run: orphan-row');
    const github = await cli(['check', 'pingtopass-planted.csv', '--schema', 'pingtopass', '--format', 'github']);
    const lines = github.stdout.trim().split('\n');
    expect(lines).toHaveLength(PINGTOPASS_PLANTED.length);
    expect(lines).toContain('::error file=pingtopass-planted.csv,line=3,col=11,title=qbank check invalid-value::pingtopass-planted.csv:3:11 d-value (DEFECTS-1): difficulty: must be a whole number from 1 to 5');
    const junit = await cli(['check', 'pingtopass-planted.csv', '--schema', 'pingtopass', '--format', 'junit']);
    expect(junit.stdout).toContain('<testcase classname="qbank.check" name="orphan-row"><skipped message=');
    const warningsOnly = await cli(['check', 'pingtopass-planted.csv', '--schema', 'pingtopass', '--rules', 'duplicate-question,all-none-of-the-above', '--json']);
    expect(warningsOnly.code).toBe(0);
    expect(findingPairs(warningsOnly.json())).toEqual(['all-none-of-the-above d-allnone', 'duplicate-question d-dup-1']);
    expect((await cli(['check', 'pingtopass-planted.csv', '--schema', 'pingtopass', '--rules', 'duplicate-question', '--strict'])).code).toBe(6);
  });

  it('an open-interview JSON file: its planted defects, records located by line', async () => {
    const result = await cli(['check', 'open-interview-planted.json', '--schema', 'open-interview', '--json']);
    expect(result.code, result.stderr).toBe(6);
    const report = result.json();
    expect(findingPairs(report)).toEqual(OPEN_INTERVIEW_PLANTED);
    expect(report.findings.find((f: { rule: string }) => f.rule === 'invalid-json').message).toContain('job_title_relevance');
    expect(report.rules.filter((r: { notRun?: string }) => r.notRun).map((r: { rule: string }) => r.rule)).toEqual(['orphan-row', 'stale-claim', 'bot-anomaly']);
    for (const finding of report.findings) expect(finding.line).toBeGreaterThan(1);
  });

  it('KIND FILE as the import takes it; usage errors: no system, unknown kind, a kind of the other system, --fix', async () => {
    writeFileSync(join(dir.path, 'exams.csv'), 'code,name,vendor,category,passing_score,total_questions\nNET-1,Networks,Cisco,Networking,700,abc\nNET-2,More,Cisco,Networking,700,10\n');
    const exams = await cli(['check', 'exams', 'exams.csv', '--schema', 'pingtopass', '--json']);
    expect(exams.code, exams.stderr).toBe(6);
    expect(exams.json().findings).toMatchObject([{ rule: 'invalid-value', table: 'exams', line: 2, column: 6 }]);
    const noSystem = await cli(['check', 'pingtopass-clean.csv']);
    expect(noSystem.code).toBe(2);
    expect(noSystem.stderr).toContain('--schema');
    expect((await cli(['check', 'answers', 'pingtopass-clean.csv', '--schema', 'pingtopass'])).code).toBe(2);
    const wrongKind = await cli(['check', 'certifications', 'exams.csv', '--schema', 'pingtopass']);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('pingtopass has no certifications');
    expect((await cli(['check', 'pingtopass-clean.csv', '--schema', 'pingtopass', '--fix', '--yes'])).code).toBe(2);
    expect((await cli(['check', 'missing.csv', '--schema', 'pingtopass'])).code).toBe(2);
  });

  it.skipIf(!hasSharedOpenInterview)("the open-interview system's own records: its malformed records as invalid-row, the repeated texts and cut-off answers as in the database", async () => {
    const records = join(SHARED_OPEN_INTERVIEW, 'data-questions.json');
    const result = await cli(['check', records, '--schema', 'open-interview', '--json']);
    expect([0, 6]).toContain(result.code);
    const report = result.json();
    const errorRules = new Set(report.findings.filter((f: { severity: string }) => f.severity === 'error').map((f: { rule: string }) => f.rule));
    for (const rule of errorRules) expect(['invalid-row', 'invalid-value', 'invalid-json']).toContain(rule);
    for (const finding of report.findings.filter((f: { severity: string }) => f.severity === 'error')) expect(finding.line).toBeGreaterThan(0);
    expectTheRecordsFindings(report);
  });
});
