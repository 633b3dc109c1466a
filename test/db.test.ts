import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../src/config.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, sqlite, type TestDatabase } from './support/modes.js';

/** Reads the database file directly, bypassing qbank, to check what a command really did. */
async function schemaSnapshot(t: TestDatabase): Promise<string> {
  const rows = await sqlite(t, "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name");
  return JSON.stringify(rows);
}

describe.each(MODES)('db commands (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[], extra: { env?: Record<string, string>; tty?: boolean } = {}) =>
    runCli(args, { env: { ...t.env, ...extra.env }, cwd: t.dir, tty: extra.tty });

  beforeEach(async () => {
    t = await createTestDatabase(mode);
  });
  afterEach(async () => {
    await t.close();
  });

  describe.each(SYSTEMS)('%s', (system) => {
    it('pushes to an empty database, then finds nothing to do', async () => {
      const first = await cli(['db', 'push', '--schema', system, '--json']);
      expect(first.code, first.stderr).toBe(0);
      const plan = first.json();
      expect(plan.applied).toBe(true);
      expect(plan.steps.filter((s: { kind: string }) => s.kind === 'create-table')).toHaveLength(system === 'pingtopass' ? 9 : 12);
      const before = await schemaSnapshot(t);

      const second = await cli(['db', 'push', '--json']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.json()).toMatchObject({ system, upToDate: true, applied: false, steps: [] });
      expect(await schemaSnapshot(t)).toBe(before);

      const human = await cli(['db', 'push']);
      expect(human.code).toBe(0);
      expect(human.stderr).toMatch(/up to date .*nothing to do/);
      expect(human.stderr).not.toMatch(/already exists/i);
    });

    it('builds the same database by push as by the committed migrations', async () => {
      expect((await cli(['db', 'migrate', '--schema', system])).code).toBe(0);
      const status = (await cli(['db', 'status', '--json'])).json();
      expect(status.system).toBe(system);
      expect(status.migrations).toMatchObject({ pending: [], applied: ['0000_initial'] });
      expect(status.drift).toMatchObject({ upToDate: true, steps: [] });
      const push = await cli(['db', 'push', '--json']);
      expect(push.json().upToDate).toBe(true);
    });

    it('seeds twice and ends with the same rows', async () => {
      expect((await cli(['db', 'push', '--schema', system])).code).toBe(0);
      const first = await cli(['db', 'seed', '--json']);
      expect(first.code, first.stderr).toBe(0);
      const dumpAfterFirst = JSON.stringify(await sqlite(t, system === 'pingtopass' ? 'SELECT * FROM questions ORDER BY id' : 'SELECT * FROM work_queue ORDER BY id'));
      const second = await cli(['db', 'seed', '--json']);
      expect(second.code).toBe(0);
      for (const table of second.json().tables) expect(table.after, table.table).toBe(table.before);
      expect(first.json().tables.every((t: { after: number; rows: number }) => t.after === t.rows)).toBe(true);
      const dumpAfterSecond = JSON.stringify(await sqlite(t, system === 'pingtopass' ? 'SELECT * FROM questions ORDER BY id' : 'SELECT * FROM work_queue ORDER BY id'));
      expect(dumpAfterSecond).toBe(dumpAfterFirst);
    });
  });

  it('reports status with row counts, and no pending migration after a push', async () => {
    await cli(['db', 'push', '--schema', 'pingtopass']);
    await cli(['db', 'seed']);
    const result = await cli(['db', 'status', '--json']);
    expect(result.code).toBe(0);
    const status = result.json();
    expect(status.connection.kind).toBe(mode === 'file' ? 'embedded libSQL file' : 'remote libSQL server');
    expect(status.systemSource).toBe('detected');
    expect(status.migrations).toMatchObject({ applied: ['0000_initial'], pending: [] });
    expect(status.tables.find((x: { table: string }) => x.table === 'answer_options').rows).toBe(32);
    const human = await cli(['db', 'status']);
    expect(human.stdout).toMatch(/answer_options\s+32/);
    expect(human.stdout).toMatch(/up to date/);
  });

  it('status --check exits 6 on drift', async () => {
    await cli(['db', 'push', '--schema', 'pingtopass']);
    await cli(['db', 'migrate']);
    await sqlite(t, 'DROP INDEX exams_vendor_idx');
    const result = await cli(['db', 'status', '--check']);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/create index exams_vendor_idx/);
  });

  it('refuses a data-losing push without a terminal and leaves the database as it was', async () => {
    await cli(['db', 'push', '--schema', 'pingtopass']);
    await cli(['db', 'seed']);
    await sqlite(t, "ALTER TABLE exams ADD COLUMN legacy_notes text DEFAULT 'keep me'");
    const before = await schemaSnapshot(t);

    const refused = await cli(['db', 'push']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/would lose data; nothing was changed/);
    expect(refused.stderr).toMatch(/exams\.legacy_notes.*3 rows in exams/);
    expect(refused.stderr).toMatch(/hint: review the plan with `qbank db push --dry-run`, then rerun with --allow-data-loss/);
    expect(await schemaSnapshot(t)).toBe(before);

    const noPrompt = await cli(['db', 'push', '--allow-data-loss']);
    expect(noPrompt.code).toBe(5);
    expect(noPrompt.stderr).toMatch(/confirmation needed, and there is no terminal/);
    expect(noPrompt.stderr).toMatch(/--yes/);
    expect(await schemaSnapshot(t)).toBe(before);

    const applied = await cli(['db', 'push', '--allow-data-loss', '--yes', '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.json().applied).toBe(true);
    const columns = await sqlite(t, 'SELECT name FROM pragma_table_info(\'exams\')');
    expect(columns.map((c) => c.name)).not.toContain('legacy_notes');
    // The rebuild keeps every row, and the questions that reference the exams (ON DELETE cascade).
    expect((await sqlite(t, 'SELECT count(*) AS n FROM exams'))[0].n).toBe(3);
    expect((await sqlite(t, 'SELECT count(*) AS n FROM questions'))[0].n).toBe(8);
    expect((await sqlite(t, 'SELECT count(*) AS n FROM answer_options'))[0].n).toBe(32);
    expect((await cli(['db', 'push', '--json'])).json().upToDate).toBe(true);
  });

  it('adds a missing column and recreates a missing index without touching data', async () => {
    await cli(['db', 'push', '--schema', 'pingtopass']);
    await cli(['db', 'seed']);
    await sqlite(t, 'DROP INDEX questions_review_status_idx');
    await sqlite(t, 'ALTER TABLE questions DROP COLUMN ai_model');
    const dry = await cli(['db', 'push', '--dry-run', '--json']);
    expect(dry.json().applied).toBe(false);
    expect(dry.json().steps.map((s: { description: string }) => s.description)).toEqual([
      'add column questions.ai_model',
      'create index questions_review_status_idx',
    ]);
    const applied = await cli(['db', 'push', '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await sqlite(t, 'SELECT count(*) AS n FROM questions'))[0].n).toBe(8);
    expect((await cli(['db', 'push', '--json'])).json().upToDate).toBe(true);
  });

  it('rebuilds a changed table keeping its rows, and refuses when the result would break foreign keys', async () => {
    await cli(['db', 'push', '--schema', 'pingtopass']);
    await cli(['db', 'seed']);
    // Someone made exams.name nullable by hand: push rebuilds the table to restore NOT NULL.
    await sqlite(t, 'PRAGMA foreign_keys=OFF');
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.executeMultiple(`
      PRAGMA foreign_keys=OFF;
      BEGIN;
      CREATE TABLE exams_old AS SELECT * FROM exams;
      DROP TABLE exams;
      CREATE TABLE exams (id text PRIMARY KEY NOT NULL, code text NOT NULL, name text, vendor text NOT NULL, category text NOT NULL, description text, objectives text, passing_score integer NOT NULL, total_questions integer NOT NULL, time_limit integer, price real, retire_date integer, is_active integer DEFAULT true, is_beta integer DEFAULT false, metadata text, created_at integer DEFAULT (unixepoch()), updated_at integer DEFAULT (unixepoch()));
      INSERT INTO exams SELECT * FROM exams_old;
      DROP TABLE exams_old;
      CREATE UNIQUE INDEX exams_code_unique ON exams (code);
      CREATE UNIQUE INDEX exams_code_idx ON exams (code);
      CREATE INDEX exams_vendor_idx ON exams (vendor);
      CREATE INDEX exams_category_idx ON exams (category);
      CREATE INDEX exams_active_idx ON exams (is_active);
      INSERT INTO questions (id, exam_id, type, text, difficulty) VALUES ('orphan', 'no-such-exam', 'single', 'orphan question', 1);
      COMMIT;`);
    client.close();
    const before = await schemaSnapshot(t);
    const refused = await cli(['db', 'push']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/foreign keys point nowhere; nothing was changed/);
    expect(await schemaSnapshot(t)).toBe(before);

    await sqlite(t, "DELETE FROM questions WHERE id = 'orphan'");
    const applied = await cli(['db', 'push', '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.json().steps[0].description).toMatch(/rebuild table exams \(name: now NOT NULL\)/);
    expect((await sqlite(t, 'SELECT count(*) AS n FROM questions'))[0].n).toBe(8);
    expect((await sqlite(t, "SELECT \"notnull\" FROM pragma_table_info('exams') WHERE name = 'name'"))[0].notnull).toBe(1);
  });

  it('leaves tables and indexes it does not know alone', async () => {
    await cli(['db', 'push', '--schema', 'open-interview']);
    await sqlite(t, 'CREATE TABLE blog_posts (id text PRIMARY KEY)');
    await sqlite(t, 'CREATE INDEX idx_questions_channel ON questions (channel)');
    const result = await cli(['db', 'push', '--json']);
    expect(result.json()).toMatchObject({ upToDate: true, unmanagedTables: ['blog_posts'], unmanagedIndexes: ['idx_questions_channel'] });
    expect((await sqlite(t, "SELECT count(*) AS n FROM sqlite_master WHERE name IN ('blog_posts', 'idx_questions_channel')"))[0].n).toBe(2);
  });

  it('asks which system an empty database is for', async () => {
    const result = await cli(['db', 'push']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot tell which system/);
    expect(result.stderr).toMatch(/--schema pingtopass/);
  });

  it('prints JSON errors on stdout with --json', async () => {
    const result = await cli(['db', 'push', '--json']);
    expect(result.code).toBe(2);
    expect(result.json().error).toMatchObject({ kind: 'UsageError', exitCode: 2 });
  });
});

describe('remote-only behaviour', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('remote');
  });
  afterEach(async () => {
    await t.close();
  });

  it('tells a read-only token holder that db push needs a read-write token, and changes nothing', async () => {
    const result = await runCli(['db', 'push', '--schema', 'pingtopass'], { env: { TURSO_DATABASE_URL: t.url, TURSO_AUTH_TOKEN: t.readOnlyToken! }, cwd: t.dir });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/this token is read-only; db push needs a read-write token/);
    expect(result.stderr + result.stdout).not.toContain(t.readOnlyToken!);
  });

  it('maps a server-side 403 on a write to the read-only message', async () => {
    const { describeDatabaseError } = await import('../src/db/client.js');
    const client = createClient({ url: t.url, authToken: t.readOnlyToken });
    const error = await client.execute('CREATE TABLE x (id integer)').then(
      () => undefined,
      (e: unknown) => e,
    );
    client.close();
    expect(error).toBeDefined();
    const mapped = describeDatabaseError(error, { displayUrl: t.url, tokenClaims: undefined }, 'db seed');
    expect(mapped.message).toBe('this token is read-only; db seed needs a read-write token');
    expect(mapped.exitCode).toBe(5);
  });

  it('uses TURSO_*_RO credentials for read-only commands', async () => {
    await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir });
    const result = await runCli(['db', 'status', '--json'], {
      env: { TURSO_DATABASE_URL: t.url, TURSO_AUTH_TOKEN: 'not-a-valid-token', TURSO_DATABASE_URL_RO: t.url, TURSO_AUTH_TOKEN_RO: t.readOnlyToken! },
      cwd: t.dir,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().connection.credentials).toBe('read-only');
  });

  it('says the token was rejected when it is wrong or expired, without printing it', async () => {
    const { generateEd25519KeyPair, signToken } = await import('../src/auth/jwt.js');
    const stranger = signToken({ a: 'rw' }, generateEd25519KeyPair().privateKey);
    const wrong = await runCli(['db', 'status'], { env: { TURSO_DATABASE_URL: t.url, TURSO_AUTH_TOKEN: stranger }, cwd: t.dir });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/the auth token from \$TURSO_AUTH_TOKEN was rejected by http:\/\/127\.0\.0\.1:\d+/);
    expect(wrong.stderr + wrong.stdout).not.toContain(stranger);
  });

  it('says the server is unreachable', async () => {
    await t.server!.close();
    const result = await runCli(['db', 'status'], { env: t.env, cwd: t.dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+/);
  });
});
