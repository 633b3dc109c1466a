import { createClient } from '@libsql/client';
import Ajv2020 from 'ajv/dist/2020.js';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliResult } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';
import { startTestbed, type Testbed } from './support/testbed.js';

/**
 * The JSON contract: with --json every command prints exactly one JSON document on stdout, whose
 * shape `docs/json/<command>.schema.json` documents. Each schema is checked here against what the
 * command really prints. Readers may rely on the required keys and the types; new keys may appear.
 * QBANK_JSON_SAMPLES=DIR writes every document there instead of checking it (to start a new command's schema).
 */

const SCHEMA_DIR = resolve(__dirname, '..', 'docs', 'json');
const SCHEMA_FILES = readdirSync(SCHEMA_DIR).filter((name) => name.endsWith('.schema.json'));
const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
// every schema at once, so that `{"$ref": "connection.schema.json"}` resolves
for (const file of SCHEMA_FILES) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')));

function validatorFor(name: string) {
  const validate = ajv.getSchema(`https://qbank.dev/json/${name}.schema.json`);
  if (!validate) throw new Error(`no schema docs/json/${name}.schema.json`);
  return validate;
}

/** Parses stdout as exactly one JSON document (two documents, or text around one, fail). */
function oneDocument(result: CliResult): unknown {
  const text = result.stdout.trim();
  expect(text, `stderr: ${result.stderr}`).not.toBe('');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${(error as Error).message}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

const seen = new Set<string>();

function expectShape(name: string, result: CliResult, label = name): unknown {
  const document = oneDocument(result);
  seen.add(name);
  const samples = process.env.QBANK_JSON_SAMPLES;
  if (samples) {
    mkdirSync(samples, { recursive: true });
    writeFileSync(join(samples, `${name}--${label.replace(/[^a-z0-9-]+/gi, '_')}--${seen.size}-${Math.random().toString(36).slice(2, 8)}.json`), JSON.stringify(document, null, 2));
    return document;
  }
  const validate = validatorFor(name);
  const valid = validate(document);
  expect(valid ? [] : validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`), `${label}: ${JSON.stringify(document).slice(0, 400)}`).toEqual([]);
  return document;
}

/** Runs a command with --json; `expectedCode` undefined: a check that may find something (0 or 6). */
async function json(args: string[], t: { env: Record<string, string>; dir: string }, expectedCode: number | undefined = 0): Promise<CliResult> {
  const result = await runCli([...args, '--json'], { env: t.env, cwd: t.dir });
  if (expectedCode === undefined) expect([0, 6], `${args.join(' ')}: ${result.stderr}`).toContain(result.code);
  else expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(expectedCode);
  return result;
}

const EXAMS_CSV = 'code,name,vendor,category,passing_score,total_questions,time_limit,price,description\nJSON-101,Contracts,qbank,Tools,700,10,60,0,One document per run\n';
const QUESTIONS_CSV =
  'exam_code,text,option_a,option_b,correct,explanation,difficulty\n' +
  'JSON-101,What does --json print on stdout?,One document,Several,A,Exactly one,2\n' +
  'JSON-101,Where do notices go?,stdout,stderr,B,Status goes to stderr,1\n';

describe.each(MODES)('PingToPass commands print their documented JSON (%s)', (mode) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(mode);
    writeFileSync(join(t.dir, 'exams.csv'), EXAMS_CSV);
    writeFileSync(join(t.dir, 'questions.csv'), QUESTIONS_CSV);
  });
  afterAll(async () => {
    await t.close();
  });

  it('db push, migrate, status, seed', async () => {
    expectShape('db-push', await json(['db', 'push', '--schema', 'pingtopass'], t), 'db-push-applied');
    expectShape('db-push', await json(['db', 'push', '--dry-run'], t), 'db-push-dry-run');
    expectShape('db-migrate', await json(['db', 'migrate'], t));
    const status = (await json(['db', 'status'], t)) as CliResult;
    const document = expectShape('db-status', status) as { connection: unknown };
    expect(document.connection).toMatchObject({ url: expect.any(String), source: '$TURSO_DATABASE_URL', credential: { kind: mode === 'file' ? 'none' : 'read-write' } });
    expectShape('db-seed', await json(['db', 'seed'], t));
  });

  it('db status --check: one document, whether the check passes or not', async () => {
    const result = await runCli(['db', 'status', '--check', '--json'], { env: t.env, cwd: t.dir });
    expect([0, 6]).toContain(result.code);
    expectShape('db-status', result, 'db-status-check');
  });

  it('db status --check that fails: exit 6 and one document that holds the result, no error document after it', async () => {
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.execute('CREATE TABLE IF NOT EXISTS operator_notes (id integer primary key)');
    await client.execute('ALTER TABLE exams ADD COLUMN legacy_note text');
    client.close();
    const result = await runCli(['db', 'status', '--check', '--json'], { env: t.env, cwd: t.dir });
    expect(result.code).toBe(6);
    const document = expectShape('db-status', result, 'db-status-check-failed') as { drift: { upToDate: boolean }; error?: unknown };
    expect(document.drift.upToDate).toBe(false);
    expect(result.stderr).toMatch(/^error: /m);
    await json(['db', 'push', '--allow-data-loss', '--yes'], t);
  });

  it('import and its template', async () => {
    expectShape('import-template', await json(['import', 'template'], t), 'import-template-all');
    expectShape('import-template', await json(['import', 'template', 'pingtopass-exams'], t), 'import-template-one');
    expectShape('import', await json(['import', 'exams', 'exams.csv'], t), 'import-exams');
    expectShape('import', await json(['import', 'questions.csv', '--dry-run'], t), 'import-dry-run');
    expectShape('import', await json(['import', 'questions', 'questions.csv'], t), 'import-questions');
    expectShape('import', await json(['import', 'questions.csv', '--dry-run', '--diff'], t), 'import-diff');
  });

  it('review list, show, stats, approve, reject, resolve', async () => {
    const list = expectShape('review-list', await json(['review', 'list'], t)) as unknown;
    const items = (Array.isArray(list) ? list : (list as { items: Array<{ id: string }> }).items) as Array<{ id: string }>;
    expect(items.length).toBeGreaterThan(2);
    expectShape('review-show', await json(['review', 'show', items[0].id], t));
    expectShape('review-stats', await json(['review', 'stats'], t));
    expectShape('review-decision', await json(['review', 'approve', items[0].id, '--reviewer', 'ada@example.com'], t), 'review-approve');
    expectShape('review-decision', await json(['review', 'reject', items[1].id, '--reason', 'unclear', '--reviewer', 'ada@example.com'], t), 'review-reject');
    const conflict = await runCli(['review', 'approve', items[0].id, '--reviewer', 'ada@example.com', '--json'], { env: t.env, cwd: t.dir });
    expect(conflict.code).not.toBe(0);
    oneDocument(conflict);
    expectShape('review-reopen', await json(['review', 'reopen', items[0].id, '--reason', 'second look', '--reviewer', 'ada@example.com'], t));
    const seed = JSON.parse(readFileSync(resolve(__dirname, '..', 'fixtures', 'pingtopass', 'seed.json'), 'utf8')) as { feedback: Array<{ id: string }> };
    expectShape('review-resolve', await json(['review', 'resolve', seed.feedback[0].id, '--response', 'fixed'], t));
  });

  it('check, audit list, show, prune, undo --dry-run', async () => {
    expectShape('check', await json(['check'], t, undefined), 'check-database');
    const list = expectShape('audit-list', await json(['audit', 'list'], t)) as { runs: Array<{ id: string; command: string }> };
    const importRun = list.runs.find((run) => run.command.startsWith('import')) ?? list.runs[0];
    expectShape('audit-show', await json(['audit', 'show', importRun.id], t));
    expectShape('audit-prune', await json(['audit', 'prune', '--before', '2000-01-01', '--dry-run'], t));
    expectShape('undo', await json(['undo', importRun.id, '--dry-run'], t, undefined));
  });

  it('export: the summary, the data in the file', async () => {
    expectShape('export', await json(['export', 'questions', 'questions-out.csv'], t), 'export-questions');
    expectShape('export', await json(['export', 'exams', 'exams-out.json'], t), 'export-exams');
  });

  it('backup dump, verify, restore, clean', async () => {
    expectShape('backup-dump', await json(['backup', 'dump', 'backup.sql'], t));
    expectShape('backup-verify', await json(['backup', 'verify', 'backup.sql'], t));
    expectShape('backup-restore', await json(['backup', 'restore', 'backup.sql', '--clean', '--yes'], t));
    expectShape('backup-clean', await json(['backup', 'clean'], t));
  });
});

describe('open-interview work queue commands print their documented JSON', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('file');
    await json(['db', 'push', '--schema', 'open-interview'], t);
    await json(['db', 'seed'], t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('claim, complete, fail, release', async () => {
    const reviewer = ['--reviewer', 'bot@example.com'];
    const claim = async () => expectShape('review-claim', await json(['review', 'claim', ...reviewer], t)) as { id: string | number };
    expectShape('review-list', await json(['review', 'list', '--queue', 'work'], t), 'review-list-work');
    const first = await claim();
    expectShape('review-settle', await json(['review', 'complete', String(first.id), '--result', '{"ok":true}', ...reviewer], t), 'review-complete');
    const second = await claim();
    expectShape('review-settle', await json(['review', 'fail', String(second.id), '--result', 'source gone', ...reviewer], t), 'review-fail');
    expectShape('export', await json(['export', 'certifications', 'certifications-out.jsonl'], t), 'export-certifications');
    const third = await claim();
    expectShape('review-settle', await json(['review', 'release', String(third.id), ...reviewer], t), 'review-release');
  });
});

describe('commands without a database of their own', () => {
  const dir = tempDir();
  const local = { env: {} as Record<string, string>, dir: dir.path };
  let bed: Testbed;
  beforeAll(async () => {
    bed = await startTestbed({ replicas: 1 });
  });
  afterAll(async () => {
    await bed.close();
    dir.remove();
  });

  it('demo', async () => {
    expectShape('demo', await json(['demo', '--dir', 'demo', '--schema', 'pingtopass'], local));
  });

  it('token keygen and mint (self-hosted)', async () => {
    expectShape('token-keygen', await json(['token', 'keygen', '--key', 'k.pem'], local));
    expectShape('token-mint', await json(['token', 'mint', '--key', 'k.pem', '--show'], local));
  });

  it('replica status, token create, verify, rotate (Platform API)', async () => {
    const remote = { env: bed.env, dir: dir.path };
    expectShape('replica-status', await json(['replica', 'status'], remote));
    expectShape('token-create', await json(['token', 'create', '--show'], remote));
    expectShape('token-verify', await json(['token', 'verify'], remote));
    expectShape('token-rotate', await json(['token', 'rotate', '--yes', '--env-file', 'rotated.env', '--wait', '5'], remote));
  });

  it('--version', async () => {
    const document = expectShape('version', await json(['--version'], local)) as { version: string };
    expect(document.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('usage errors: unknown flag, unknown command, invalid choice, missing argument', async () => {
    for (const args of [['db', 'status', '--no-such-flag'], ['no-such-command'], ['db', 'status', '--schema', 'nope'], ['review', 'show'], ['db'], []]) {
      const result = await json(args, local, 2);
      const document = expectShape('error', result, `error-${args.join('-')}`) as { error: { exitCode: number; kind: string } };
      expect(document.error).toMatchObject({ exitCode: 2, kind: 'UsageError' });
    }
  });

  it('a mistyped flag: the usage error names the flag, never its value', async () => {
    const token = 'eyJhbGciOiJFZERTQSJ9.eyJhIjoicncifQ.c2lnbmF0dXJlLXR5cG8';
    for (const args of [[`--auth-tokn=${token}`, 'db', 'status'], ['db', 'status', `--auth-tokn=${token}`], ['db', 'status', '--auth-tokn', token]]) {
      const result = await json(args, local, 2);
      const document = expectShape('error', result, 'error-mistyped-flag') as { error: { message: string } };
      expect(document.error.message).toMatch(/^unknown option '--auth-tokn'(\n\(Did you mean --auth-token\?\))?$/);
      expect(result.stderr).toMatch(/^error: unknown option '--auth-tokn'/);
      expect(result.stdout + result.stderr).not.toContain(token.slice(-12));
    }
  });

  it('a failing command: one error document', async () => {
    const result = await json(['db', 'status', '--url', 'file:missing/nowhere.db'], local, 2);
    expectShape('error', result, 'error-runtime');
  });
});

describe('every schema is used and well-formed', () => {
  it('each file in docs/json is a strict JSON Schema checked above', () => {
    const files = SCHEMA_FILES;
    for (const file of files) {
      const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;
      expect(schema.$schema, file).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.title, file).toEqual(expect.any(String));
      validatorFor(file.replace(/\.schema\.json$/, ''));
    }
    expect(files.length).toBeGreaterThan(20);
  });
});
