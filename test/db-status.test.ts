import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../src/config.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, sqlite, type TestDatabase } from './support/modes.js';

/** Reads or changes the database file directly, bypassing qbank. */
async function schemaSnapshot(t: TestDatabase): Promise<string> {
  return JSON.stringify(await sqlite(t, "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"));
}

describe.each(MODES)('db status and push report what is true (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...t.env, ...env }, cwd: t.dir });

  beforeEach(async () => {
    t = await createTestDatabase(mode);
  });
  afterEach(async () => {
    await t.close();
  });

  describe.each(SYSTEMS)('%s', (system) => {
    it('status --check passes on a freshly pushed database: push records the migrations it equals', async () => {
      expect((await cli(['db', 'push', '--schema', system])).code).toBe(0);
      expect((await sqlite(t, 'SELECT count(*) AS n FROM __drizzle_migrations'))[0]!.n).toBe(1);
      for (const args of [
        ['db', 'status', '--check'],
        ['--schema', system, 'db', 'status', '--check'],
        ['db', 'status', '--exit-code'],
        ['--json', 'db', 'status', '--check'],
      ]) {
        const result = await cli(args);
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
      }
      const status = (await cli(['db', 'status', '--check', '--json'])).json();
      expect(status.migrations).toMatchObject({ pending: [], applied: ['0000_initial'] });
      expect(status.check).toEqual({ passed: true, pending: [] });
      const migrate = await cli(['db', 'migrate', '--json']);
      expect(migrate.json()).toMatchObject({ applied: [], baselined: [], alreadyApplied: ['0000_initial'] });
    });

    it('status --check passes on a database pushed without a migration record, by comparing content', async () => {
      expect((await cli(['db', 'push', '--schema', system])).code).toBe(0);
      await sqlite(t, 'DROP TABLE __drizzle_migrations');
      const result = await cli(['db', 'status', '--check', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json().migrations).toMatchObject({ pending: [], inPlace: ['0000_initial'] });
      const human = await cli(['db', 'status']);
      expect(human.stdout).toMatch(/not recorded but in place .*0000_initial; `qbank db migrate` records them/);
    });

    it('refuses a --schema that names the other system before doing anything (exit 2), for every command', async () => {
      const other = system === 'pingtopass' ? 'open-interview' : 'pingtopass';
      expect((await cli(['db', 'push', '--schema', system])).code).toBe(0);
      const before = await schemaSnapshot(t);
      for (const args of [
        ['db', 'status', '--schema', other],
        ['--schema', other, 'db', 'status', '--check'],
        ['db', 'push', '--schema', other],
        ['db', 'push', '--dry-run', '--schema', other],
        ['db', 'seed', '--schema', other],
        ['db', 'migrate', '--schema', other],
        ['review', 'list', '--schema', other],
        ['--schema', other, 'review', 'stats'],
      ]) {
        const result = await cli(args);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr).toContain(`this database holds the ${system} tables, not ${other}'s`);
        expect(result.stderr).toContain(`--schema ${other} does not match`);
        expect(result.stderr).not.toMatch(/no such column|unexpected error/);
      }
      const json = await cli(['--json', 'db', 'status', '--schema', other]);
      // the service states the facts; the flag that answers them comes as the hint
      expect(json.json().error).toMatchObject({ kind: 'UsageError', exitCode: 2, message: `this database holds the ${system} tables, not ${other}'s`, hint: expect.stringContaining(`--schema ${other} does not match`) });
      // the same name through the environment is checked the same way
      expect((await cli(['db', 'seed'], { QBANK_SCHEMA: other })).code).toBe(2);
      expect(await schemaSnapshot(t)).toBe(before);
    });
  });

  it('status --check --json that fails prints one document, with the check and push-shaped steps inside (exit 6)', async () => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    await sqlite(t, 'DROP INDEX exams_vendor_idx');
    for (const args of [
      ['db', 'status', '--check', '--json'],
      ['--json', 'db', 'status', '--exit-code'],
    ]) {
      const result = await cli(args);
      expect(result.code).toBe(6);
      const document = result.json(); // throws unless stdout is exactly one JSON document
      expect(document.error).toBeUndefined();
      expect(document.check).toEqual({ passed: false, pending: ['create index exams_vendor_idx'] });
      expect(document.drift.steps).toEqual([
        { kind: 'create-index', table: 'exams', description: 'create index exams_vendor_idx', statements: ['CREATE INDEX `exams_vendor_idx` ON `exams` (`vendor`);'] },
      ]);
    }
    const push = (await cli(['db', 'push', '--dry-run', '--json'])).json();
    expect(push.steps).toEqual((await cli(['db', 'status', '--json'])).json().drift.steps);
  });

  it('push --dry-run --exit-code: 0 when there is nothing to do, 6 when changes are pending; only with --dry-run', async () => {
    await sqlite(t, 'PRAGMA user_version = 0'); // an empty database that exists (a dry run never creates one)
    const pending = await cli(['db', 'push', '--dry-run', '--exit-code', '--schema', 'pingtopass']);
    expect(pending.code).toBe(6);
    expect(pending.stdout).toMatch(/CREATE TABLE `exams`/);
    expect(await sqlite(t, "SELECT name FROM sqlite_master WHERE type = 'table'")).toEqual([]);
    const json = await cli(['--json', 'db', 'push', '--schema', 'pingtopass', '--dry-run', '--exit-code']);
    expect(json.code).toBe(6);
    expect(json.json()).toMatchObject({ upToDate: false, applied: false, dryRun: true });

    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    const clean = await cli(['db', 'push', '--dry-run', '--exit-code']);
    expect(clean.code, clean.stderr).toBe(0);
    expect((await cli(['db', 'status', '--exit-code'])).code).toBe(0);

    const misuse = await cli(['db', 'push', '--exit-code']);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toMatch(/--exit-code goes with --dry-run/);
  });

  it("lists qbank's own tables as such, never as drift", async () => {
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    const status = (await cli(['db', 'status', '--check', '--json'])).json();
    expect(status.drift).toMatchObject({ upToDate: true, unmanagedTables: [], qbankTables: ['__qbank_audit'] });
    expect((await cli(['db', 'push', '--json'])).json()).toMatchObject({ upToDate: true, unmanagedTables: [], qbankTables: ['__qbank_audit'] });
    expect(status.tables.find((x: { table: string }) => x.table === '__qbank_audit')).toMatchObject({ rows: 1, inSchema: false, role: 'qbank' });
    expect(status.restoreLeftovers).toEqual([]);
    const human = await cli(['db', 'status']);
    expect(human.stdout).toMatch(/__qbank_audit\s+1\s+qbank's own/);
    expect(human.stdout).toMatch(/__drizzle_migrations\s+1\s+migrations \(drizzle\)/);
  });

  it('push, migrate and seed each record their run, with what they did and who did it', async () => {
    const env = { GITHUB_ACTOR: 'octocat', GITHUB_RUN_ID: '4242' };
    expect((await cli(['db', 'migrate', '--schema', 'pingtopass'], env)).code).toBe(0);
    expect((await cli(['db', 'seed'], env)).code).toBe(0);
    await sqlite(t, 'DROP INDEX exams_vendor_idx');
    expect((await cli(['db', 'push'], env)).code).toBe(0);
    const runs = await sqlite(t, 'SELECT command, system, counts, ci, target FROM __qbank_audit ORDER BY started_at, id');
    expect(runs.map((r) => [r.command, r.system, JSON.parse(String(r.counts))])).toEqual([
      ['db migrate', 'pingtopass', { applied: 1 }],
      ['db seed', 'pingtopass', { rows: expect.any(Number) }],
      ['db push', 'pingtopass', { steps: 1, statements: 1 }],
    ]);
    for (const run of runs) {
      expect(JSON.parse(String(run.ci))).toEqual(env);
      expect(String(run.target)).not.toMatch(/eyJ/);
    }
  });

  it('reports the staging tables of a restore that died as leftovers, and how to clean them', async () => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    await sqlite(t, 'CREATE TABLE __qbank_restore_0badc0de_questions (id text)');
    await sqlite(t, "INSERT INTO __qbank_restore_0badc0de_questions VALUES ('q1')");
    const result = await cli(['db', 'status', '--check', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const status = result.json();
    expect(status.drift.unmanagedTables).toEqual([]);
    expect(status.restoreLeftovers).toEqual([{ runId: '0badc0de', tables: ['__qbank_restore_0badc0de_questions'], running: false }]);
    expect(status.tables.find((x: { table: string }) => x.table === '__qbank_restore_0badc0de_questions').role).toBe('restore-leftover');
    const human = await cli(['db', 'status']);
    expect(human.stdout).toMatch(/1 staging table\(s\) left by a restore that did not finish \(run 0badc0de\): __qbank_restore_0badc0de_questions/);
    expect(human.stdout).toMatch(/`qbank backup clean` drops them/);
    expect(human.stdout).toMatch(/__qbank_restore_0badc0de_questions\s+1\s+restore leftover/);
  });

  it('predicts that a rebuild cannot fill a new NOT NULL column on existing rows: says so, suggests the rename, refuses (exit 5)', async () => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    expect((await cli(['db', 'seed'])).code).toBe(0);
    await sqlite(t, 'ALTER TABLE exams RENAME COLUMN vendor TO vendor_name');
    const before = await schemaSnapshot(t);
    const rename = 'ALTER TABLE "exams" RENAME COLUMN "vendor_name" TO "vendor"';

    const dry = await cli(['db', 'push', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toMatch(/rebuild table exams \(add vendor; drop vendor_name\).*WOULD FAIL: exams has 3 rows, and vendor is NOT NULL without a default/);
    expect(dry.stderr).toContain(rename);
    expect((await cli(['db', 'push', '--dry-run', '--json'])).json().steps[0].blocked).toContain(rename);

    const status = await cli(['db', 'status']);
    expect(status.stdout).toMatch(/would fail: exams has 3 rows/);
    expect(status.stdout).toContain(rename);

    for (const args of [['db', 'push'], ['db', 'push', '--allow-data-loss', '--yes']]) {
      const refused = await cli(args);
      expect(refused.code, args.join(' ')).toBe(5);
      expect(refused.stderr).toMatch(/the push would fail on the rows the database holds; nothing was changed/);
      expect(refused.stderr).toContain(rename);
      expect(refused.stderr).not.toMatch(/NOT NULL constraint failed/);
    }
    expect(await schemaSnapshot(t)).toBe(before);

    await sqlite(t, rename);
    expect((await cli(['db', 'push', '--dry-run', '--exit-code'])).code).toBe(0);
  });

  it('predicts that a column cannot become NOT NULL while rows hold NULL in it, and refuses (exit 5)', async () => {
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.executeMultiple(`
      DROP TABLE users;
      CREATE TABLE users (id text PRIMARY KEY NOT NULL, username text NOT NULL, password text);
      CREATE UNIQUE INDEX users_username_unique ON users (username);
      INSERT INTO users VALUES ('u1', 'ada', NULL), ('u2', 'bob', 'hash');`);
    client.close();
    const before = await schemaSnapshot(t);
    const status = await cli(['db', 'status', '--check', '--json']);
    expect(status.code).toBe(6);
    expect(status.json().drift.steps[0]).toMatchObject({ description: 'rebuild table users (password: now NOT NULL)', blocked: '1 row of users hold NULL in password, which becomes NOT NULL: give them a value first' });
    const refused = await cli(['db', 'push']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/1 row of users hold NULL in password/);
    expect(await schemaSnapshot(t)).toBe(before);
    await sqlite(t, "UPDATE users SET password = 'hash' WHERE id = 'u1'");
    const applied = await cli(['db', 'push', '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await sqlite(t, 'SELECT count(*) AS n FROM users')).toEqual([{ n: 2 }]);
  });

  it('a new NOT NULL column on an empty table is no problem', async () => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    await sqlite(t, 'ALTER TABLE exams RENAME COLUMN vendor TO vendor_name');
    const result = await cli(['db', 'push', '--allow-data-loss', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().steps[0].blocked).toBeUndefined();
  });

  it('lists indexes that are not in the schema in the human output of status and push', async () => {
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    await sqlite(t, 'CREATE INDEX idx_questions_channel ON questions (channel)');
    const status = await cli(['db', 'status']);
    expect(status.stdout).toMatch(/indexes not in the schema \(left alone\): idx_questions_channel/);
    expect((await cli(['db', 'status', '--json'])).json().drift.unmanagedIndexes).toEqual(['idx_questions_channel']);
    const push = await cli(['db', 'push']);
    expect(push.code).toBe(0);
    expect(push.stderr).toMatch(/indexes left alone \(not in the open-interview schema\): idx_questions_channel/);
  });
});

describe('the demo databases', () => {
  it('pass db status --check', async () => {
    const t = await createTestDatabase('file');
    try {
      const demo = await runCli(['demo'], { cwd: t.dir });
      expect(demo.code, demo.stderr).toBe(0);
      for (const system of SYSTEMS) {
        const result = await runCli(['db', 'status', '--check', '--url', `file:qbank-demo/${system}.db`], { cwd: t.dir });
        expect(result.code, result.stderr).toBe(0);
      }
    } finally {
      await t.close();
    }
  });
});
