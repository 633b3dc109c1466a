import { createClient } from '@libsql/client';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseDotenv } from '../src/config.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { expectDocument } from './support/json-schemas.js';
import { cleanupAfterEach } from './support/cleanups.js';
import { expectStandInFollowsTheSpec, startOrganization } from './support/organization.js';

const cleanups = cleanupAfterEach();
const organization = () => startOrganization(cleanups, 'qbank-provisioning-test-token');

describe('qbank db create, list, show', () => {
  it('creates a database that answers, lists and shows it in a table and as JSON', async () => {
    const org = await organization();
    const created = await runCli(['db', 'create', 'quiz-dev', '--group', 'default'], { env: org.env, cwd: org.dir });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('created database "quiz-dev" in group "default"');
    expect(created.stdout.trim()).toBe(org.platform.servers.get('quiz-dev')!.url);
    expect((await org.query('quiz-dev', 'SELECT 1 AS one')).rows[0]!.one).toBe(1);

    const list = await runCli(['db', 'list'], { env: org.env, cwd: org.dir });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/quiz-dev\s+default\s+aws-us-east-1/);
    // the global option before the subcommand, as --help shows it
    const listJson = await runCli(['--json', 'db', 'list', '--group', 'default'], { env: org.env, cwd: org.dir });
    expect(listJson.json()).toMatchObject({ org: 'acme', group: 'default', databases: [{ name: 'quiz-dev', group: 'default', deleteProtection: false }] });

    const show = await runCli(['db', 'show', 'quiz-dev'], { env: org.env, cwd: org.dir });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/delete protection\s+off/);
    expect(show.stdout).toMatch(/size\s+\d+(\.\d)? KiB/);
    expect(show.stdout).toMatch(/aws-us-east-1\s+primary/);
    const showJson = await runCli(['db', 'show', 'quiz-dev', '--json'], { env: org.env, cwd: org.dir });
    expect(showJson.json().sizeBytes).toBeGreaterThan(0);
    expect(showJson.json()).toMatchObject({ name: 'quiz-dev', url: org.platform.servers.get('quiz-dev')!.url, blockReads: false, blockWrites: false, instances: [{ type: 'primary' }] });
    expect(list.stdout + list.stderr + show.stdout + show.stderr).not.toContain(org.env.TURSO_API_TOKEN);
    expectStandInFollowsTheSpec(org.platform);
  });

  it('an unknown database is exit 3, a bad --at is exit 2, and neither changes anything', async () => {
    const org = await organization();
    const show = await runCli(['db', 'show', 'nope'], { env: org.env, cwd: org.dir });
    expect(show.code).toBe(3);
    expect(show.stderr).toContain('database "nope" not found in organization "acme"');
    const at = await runCli(['db', 'create', 'fix', '--from-db', 'prod', '--at', 'yesterday'], { env: org.env, cwd: org.dir });
    expect(at.code).toBe(2);
    expect(at.stderr).toContain('--at: "yesterday" is not a time');
    const atAlone = await runCli(['db', 'create', 'fix', '--at', '2026-01-01T00:00:00Z'], { env: org.env, cwd: org.dir });
    expect(atAlone.code).toBe(2);
    expect(org.platform.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('a 5xx during create leaves no database and says so; run again, there is exactly one', async () => {
    const org = await organization();
    org.platform.setFault({ method: 'POST', path: '/v1/organizations/acme/databases', status: 503 });
    const failed = await runCli(['db', 'create', 'quiz'], { env: org.env, cwd: org.dir });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('database "quiz" does not exist, so nothing was created');
    expect(org.platform.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/databases'))).toHaveLength(1);
    const again = await runCli(['db', 'create', 'quiz', '--json'], { env: org.env, cwd: org.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ name: 'quiz' });
    const list = await runCli(['db', 'list', '--json'], { env: org.env, cwd: org.dir });
    expect(list.json().databases.map((d: { name: string }) => d.name)).toEqual(['quiz']);
  });

  it('a create whose database never answers times out, saying it exists and what to do', async () => {
    const org = await organization();
    const { createPlatformApi } = await import('../src/turso/platform-api.js');
    const { createDatabase } = await import('../src/turso/provisioning.js');
    const api = createPlatformApi({ baseUrl: org.platform.baseUrl, token: org.env.TURSO_API_TOKEN!, org: 'acme' });
    const timedOut = createDatabase(api, { name: 'never', group: 'default', readyTimeoutMs: 1500 });
    // wait for the stand-in to start the database's server, then stop it: the database never answers
    for (;;) {
      const started = org.platform.servers.get('never');
      if (started) {
        await started.close();
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect(timedOut).rejects.toThrow(/database "never" was created but did not answer within 2 s/);
  });
});

describe('qbank db create --env-file', () => {
  it('writes the four variables with a read-write and a read-only token (0600, other lines kept), printing no token', async () => {
    const org = await organization();
    writeFileSync(join(org.dir, 'dev.env'), '# mine\nOTHER=kept\n');
    const created = await runCli(['db', 'create', 'quiz-dev', '--env-file', 'dev.env', '--json'], { env: org.env, cwd: org.dir });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout + created.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);
    expectDocument('db-create', created.json());
    expect(created.json().envFile.keys).toEqual(['TURSO_DATABASE_URL', 'TURSO_AUTH_TOKEN', 'TURSO_DATABASE_URL_RO', 'TURSO_AUTH_TOKEN_RO']);
    const path = join(org.dir, 'dev.env');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('# mine\nOTHER=kept\n')).toBe(true);
    const values = parseDotenv(text);
    const url = org.platform.servers.get('quiz-dev')!.url;
    expect(values.TURSO_DATABASE_URL).toBe(url);
    const write = createClient({ url, authToken: values.TURSO_AUTH_TOKEN });
    await write.execute('CREATE TABLE t (x)');
    write.close();
    const read = createClient({ url: values.TURSO_DATABASE_URL_RO!, authToken: values.TURSO_AUTH_TOKEN_RO });
    await expect(read.execute('CREATE TABLE u (x)')).rejects.toThrow();
    expect((await read.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(0);
    read.close();
  });

  it('an env file that cannot be written stops the run before the database is created', async () => {
    const org = await organization();
    const result = await runCli(['db', 'create', 'quiz-dev', '--env-file', 'missing-dir/dev.env'], { env: org.env, cwd: org.dir });
    expect(result.code).not.toBe(0);
    expect(org.platform.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});

describe('qbank db protect and destroy', () => {
  it('refuses while protected and without a terminal or --yes; --yes destroys it and its file', async () => {
    const org = await organization();
    expect((await runCli(['db', 'create', 'quiz-prod'], { env: org.env, cwd: org.dir })).code).toBe(0);
    const protect = await runCli(['db', 'protect', 'quiz-prod'], { env: org.env, cwd: org.dir });
    expect(protect.code, protect.stderr).toBe(0);
    expect(protect.stderr).toContain('delete protection of "quiz-prod" is now on');
    const again = await runCli(['db', 'protect', 'quiz-prod', '--json'], { env: org.env, cwd: org.dir });
    expect(again.json()).toEqual({ name: 'quiz-prod', deleteProtection: true, changed: false });

    const refused = await runCli(['db', 'destroy', 'quiz-prod', '--yes'], { env: org.env, cwd: org.dir });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('database "quiz-prod" has delete protection on, so it was not destroyed');
    expect(refused.stderr).toContain('qbank db protect quiz-prod --off');

    expect((await runCli(['db', 'protect', 'quiz-prod', '--off'], { env: org.env, cwd: org.dir })).code).toBe(0);
    await org.query('quiz-prod', 'CREATE TABLE notes (body TEXT)');
    await org.query('quiz-prod', "INSERT INTO notes VALUES ('a'), ('b')");
    const requestsBefore = org.platform.requests.length;
    const noTerminal = await runCli(['db', 'destroy', 'quiz-prod'], { env: org.env, cwd: org.dir });
    expect(noTerminal.code).toBe(5);
    expect(noTerminal.stderr).toContain('there is no terminal to ask at');
    expect(org.platform.requests.slice(requestsBefore).filter((r) => r.method === 'POST')).toEqual([]);
    expect(org.platform.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);

    const file = join(org.dir, 'quiz-prod.db');
    expect(existsSync(file)).toBe(true);
    const destroyed = await runCli(['--json', 'db', 'destroy', '--yes', 'quiz-prod'], { env: org.env, cwd: org.dir });
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(destroyed.json()).toMatchObject({ destroyed: 'quiz-prod', lost: { tables: 1, rows: 2, storageBytes: expect.any(Number) } });
    expect(destroyed.json().lost.storageBytes).toBeGreaterThan(0);
    expect(existsSync(file)).toBe(false);
    expect((await runCli(['db', 'show', 'quiz-prod'], { env: org.env, cwd: org.dir })).code).toBe(3);
    expectStandInFollowsTheSpec(org.platform);
  });
});

describe('qbank db destroy says what went', () => {
  it('names the tables, rows and storage lost; a database that no longer answers is still destroyed', async () => {
    const org = await organization();
    expect((await runCli(['db', 'create', 'scratch'], { env: org.env, cwd: org.dir })).code).toBe(0);
    await org.query('scratch', 'CREATE TABLE t (x)');
    await org.query('scratch', 'INSERT INTO t VALUES (1), (2), (3)');
    const destroyed = await runCli(['db', 'destroy', 'scratch', '--yes'], { env: org.env, cwd: org.dir });
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(destroyed.stderr).toMatch(/database "scratch" destroyed \(1 table\(s\), 3 row\(s\), \d+(\.\d)? KiB stored\)/);

    expect((await runCli(['db', 'create', 'gone'], { env: org.env, cwd: org.dir })).code).toBe(0);
    await org.platform.servers.get('gone')!.close();
    const unreadable = await runCli(['db', 'destroy', 'gone', '--yes', '--json'], { env: org.env, cwd: org.dir });
    expect(unreadable.code, unreadable.stderr).toBe(0);
    expect(unreadable.json()).toMatchObject({ destroyed: 'gone', lost: { tables: null, rows: null } });
  });
});

describe('qbank org audit-log', () => {
  it('lists who created, protected, minted and deleted, newest first, in pages; --since keeps the recent ones', async () => {
    const org = await organization();
    expect((await runCli(['db', 'create', 'quiz-a'], { env: org.env, cwd: org.dir })).code).toBe(0);
    expect((await runCli(['db', 'protect', 'quiz-a'], { env: org.env, cwd: org.dir })).code).toBe(0);
    const bad = await runCli(['org', 'audit-log', '--since', 'last week'], { env: org.env, cwd: org.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since: "last week" is not a time');
    const all = await runCli(['--json', 'org', 'audit-log'], { env: org.env, cwd: org.dir });
    expect(all.code, all.stderr).toBe(0);
    const codes = all.json().entries.map((e: { code: string }) => e.code);
    expect(codes[0]).toBe('db-protect');
    expect(codes).toContain('db-create');
    expect(codes).toContain('db-token-create');
    const table = await runCli(['org', 'audit-log'], { env: org.env, cwd: org.dir });
    expect(table.stdout).toMatch(/db-create\s+qbank-stand-in\s+cli\s+\{"name":"quiz-a"/);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await runCli(['org', 'audit-log', '--since', future, '--json'], { env: org.env, cwd: org.dir });
    expect(none.json().entries).toEqual([]);
    expectStandInFollowsTheSpec(org.platform);
  });
});

describe('undo on a managed database: a fork at a time before the bad change', () => {
  it('db create fix --from-db prod --at TIME holds the rows the bad change deleted; prod keeps the change', async () => {
    const org = await organization();
    expect((await runCli(['db', 'create', 'prod'], { env: org.env, cwd: org.dir })).code).toBe(0);
    await org.query('prod', 'CREATE TABLE questions (id INTEGER PRIMARY KEY, text TEXT)');
    await org.query('prod', "INSERT INTO questions (text) VALUES ('kept one'), ('kept two')");
    const before = org.platform.snapshot('prod');
    await org.query('prod', 'DELETE FROM questions');
    org.platform.snapshot('prod');

    const fork = await runCli(['db', 'create', 'fix', '--from-db', 'prod', '--at', before.toISOString(), '--json'], { env: org.env, cwd: org.dir });
    expect(fork.code, fork.stderr).toBe(0);
    expect(fork.json()).toMatchObject({ name: 'fix', parent: { name: 'prod' } });
    expect((await org.query('fix', 'SELECT text FROM questions ORDER BY id')).rows.map((r) => r.text)).toEqual(['kept one', 'kept two']);
    expect((await org.query('prod', 'SELECT count(*) AS n FROM questions')).rows[0]!.n).toBe(0);

    const tooEarly = await runCli(['db', 'create', 'fix2', '--from-db', 'prod', '--at', '2000-01-01T00:00:00Z'], { env: org.env, cwd: org.dir });
    expect(tooEarly.code).toBe(2);
    expect(tooEarly.stderr).toContain('no point-in-time restore point of database prod');
  });
});

describe('qbank db create with content: --schema, --seed, --from-dump; --location', () => {
  it('pushes the schema and seeds the new database, each step with its run entry, as JSON and as text', async () => {
    const org = await organization();
    const created = await runCli(['db', 'create', 'quiz-dev', '--schema', 'pingtopass', '--seed', '--json'], { env: org.env, cwd: org.dir });
    expect(created.code, created.stderr).toBe(0);
    expectDocument('db-create', created.json());
    const content = created.json().content;
    expect(content.restore).toBeNull();
    expect(content.push).toMatchObject({ system: 'pingtopass', upToDate: false });
    expect(content.seed.created).toBeGreaterThan(0);
    const questions = await org.query('quiz-dev', 'SELECT count(*) AS n FROM questions');
    expect(Number(questions.rows[0]!.n)).toBeGreaterThan(0);
    const runs = await org.query('quiz-dev', 'SELECT command FROM __qbank_audit ORDER BY started_at');
    expect(runs.rows.map((r) => r.command)).toEqual(['db create: schema push', 'db create: seed']);
    expect(created.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);

    const text = await runCli(['--schema', 'open-interview', 'db', 'create', 'oi-dev'], { env: org.env, cwd: org.dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toMatch(/pushed the open-interview schema \(\d+ statement\(s\)\)/);

    const seedAlone = await runCli(['db', 'create', 'nothing', '--seed'], { env: org.env, cwd: org.dir });
    expect(seedAlone.code).toBe(2);
    expect(seedAlone.stderr).toContain('--seed on a new empty database needs the system');
    expect(org.platform.requests.filter((r) => r.method === 'POST' && r.requestBody.includes('"nothing"'))).toHaveLength(0);
  });

  it('restores a qbank dump and a sqlite3 dump into the new database; a broken dump creates nothing', async () => {
    const org = await organization();
    const source = `file:${join(org.dir, 'source.db')}`;
    const local = { ...org.env, TURSO_DATABASE_URL: source };
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: local, cwd: org.dir })).code).toBe(0);
    expect((await runCli(['db', 'seed'], { env: local, cwd: org.dir })).code).toBe(0);
    expect((await runCli(['backup', 'dump', 'prod.sql'], { env: local, cwd: org.dir })).code).toBe(0);
    const sourceQuestions = Number((await runCli(['db', 'status', '--json'], { env: local, cwd: org.dir })).json().tables.find((t: { table: string }) => t.table === 'questions').rows);

    const restored = await runCli(['db', 'create', 'staging', '--from-dump', 'prod.sql', '--json'], { env: org.env, cwd: org.dir });
    expect(restored.code, restored.stderr).toBe(0);
    expectDocument('db-create', restored.json());
    expect(restored.json().content.restore).toMatchObject({ dumpKind: 'qbank' });
    expect(Number((await org.query('staging', 'SELECT count(*) AS n FROM questions')).rows[0]!.n)).toBe(sourceQuestions);

    writeFileSync(join(org.dir, 'notes.sql'), "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes VALUES(1,'first');\nINSERT INTO notes VALUES(2,'it''s second');\nCOMMIT;\n");
    const plain = await runCli(['db', 'create', 'notes', '--from-dump', 'notes.sql'], { env: org.env, cwd: org.dir });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toContain('restored 2 rows in 1 table(s) from notes.sql');
    expect((await org.query('notes', 'SELECT body FROM notes ORDER BY id')).rows.map((r) => r.body)).toEqual(['first', "it's second"]);

    const text = readFileSync(join(org.dir, 'prod.sql'), 'utf8');
    writeFileSync(join(org.dir, 'cut.sql'), text.slice(0, Math.floor(text.length / 2)));
    const before = org.platform.requests.length;
    const broken = await runCli(['db', 'create', 'broken', '--from-dump', 'cut.sql'], { env: org.env, cwd: org.dir });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toContain('cut.sql failed verification; no database was created');
    const missing = await runCli(['db', 'create', 'broken', '--from-dump', 'nowhere.sql', '--json'], { env: org.env, cwd: org.dir });
    expect(missing.code).toBe(3);
    expect(missing.json().error.message).toContain('no dump at nowhere.sql');
    expect(org.platform.requests.slice(before)).toHaveLength(0);
    const both = await runCli(['db', 'create', 'x', '--from-dump', 'prod.sql', '--from-db', 'staging'], { env: org.env, cwd: org.dir });
    expect(both.code).toBe(2);
  });

  it('a step that fails after the create says the database exists, what it holds, and how to go on', async () => {
    const org = await organization();
    writeFileSync(join(org.dir, 'notes.sql'), "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes VALUES(1,'first');\nCOMMIT;\n");
    const result = await runCli(['db', 'create', 'half', '--from-dump', 'notes.sql', '--seed'], { env: org.env, cwd: org.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('database "half" was created with the dump restored, then: cannot tell which system');
    expect(result.stderr).toContain('qbank db destroy half');
    expect((await org.query('half', 'SELECT count(*) AS n FROM notes')).rows[0]!.n).toBe(1);
  });

  it('--location creates the group there when it does not exist; an existing group elsewhere is refused before anything is created', async () => {
    const org = await organization();
    const created = await runCli(['db', 'create', 'eu-dev', '--group', 'eu', '--location', 'aws-eu-west-1', '--json'], { env: org.env, cwd: org.dir });
    expect(created.code, created.stderr).toBe(0);
    expectDocument('db-create', created.json());
    expect(created.json()).toMatchObject({ name: 'eu-dev', group: 'eu', primaryRegion: 'aws-eu-west-1', groupCreated: true });
    const second = await runCli(['db', 'create', 'eu-test', '--group', 'eu', '--location', 'aws-eu-west-1'], { env: org.env, cwd: org.dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('created database "eu-test" in group "eu"');

    const before = org.platform.requests.length;
    const elsewhere = await runCli(['db', 'create', 'x', '--group', 'eu', '--location', 'aws-us-west-2'], { env: org.env, cwd: org.dir });
    expect(elsewhere.code).toBe(5);
    expect(elsewhere.stderr).toContain('group "eu" exists in aws-eu-west-1 (primary aws-eu-west-1), not in aws-us-west-2: nothing was created');
    const badLocation = await runCli(['db', 'create', 'x', '--group', 'moon', '--location', 'moon-1'], { env: org.env, cwd: org.dir });
    expect(badLocation.code).toBe(2);
    expect(badLocation.stderr).toContain('invalid location: moon-1');
    expect(org.platform.requests.slice(before).filter((r) => r.method === 'POST' && r.path.endsWith('/databases'))).toHaveLength(0);
    const noGroup = await runCli(['db', 'create', 'x', '--group', 'nowhere'], { env: org.env, cwd: org.dir });
    expect(noGroup.code).not.toBe(0);
    expect(noGroup.stderr).toMatch(/group/);
    const list = await runCli(['db', 'list', '--json'], { env: org.env, cwd: org.dir });
    expect(list.json().databases.map((d: { name: string }) => d.name)).toEqual(['eu-dev', 'eu-test']);
  });
});
