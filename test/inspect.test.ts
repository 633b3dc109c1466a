import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { expectDocument } from './support/json-schemas.js';
import { createTestDatabase, MODES } from './support/modes.js';
import { loadOpenApiSpec, responseSchemaFor, validateAgainstSchema } from './support/openapi-validate.js';
import { cleanupAfterEach } from './support/cleanups.js';
import { startOrganization } from './support/organization.js';

const cleanups = cleanupAfterEach();
const organization = () => startOrganization(cleanups, 'qbank-inspect-test-token');

function fileBytes(path: string): number {
  return statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
}

describe('qbank db inspect NAME (a database of the organization)', () => {
  it('shows usage per instance, the top queries and every table with rows and sizes, as a table and as JSON', async () => {
    const org = await organization();
    expect((await runCli(['db', 'create', 'prod'], { env: org.env, cwd: org.dir })).code).toBe(0);
    await org.query('prod', 'CREATE TABLE questions (id INTEGER PRIMARY KEY, text TEXT)');
    await org.query('prod', 'CREATE INDEX questions_text ON questions (text)');
    await org.query('prod', "INSERT INTO questions (text) SELECT 'question ' || value FROM generate_series(1, 500)");
    await org.query('prod', 'CREATE TABLE exams (id INTEGER PRIMARY KEY)');
    await org.query('prod', 'INSERT INTO exams VALUES (1), (2)');

    const result = await runCli(['--json', 'db', 'inspect', 'prod'], { env: org.env, cwd: org.dir });
    expect(result.code, result.stderr).toBe(0);
    const report = result.json();
    expectDocument('db-inspect', report);
    expect(report).toMatchObject({ database: 'prod', url: org.platform.servers.get('prod')!.url, notes: [] });
    expect(report.platform.usage.instances).toHaveLength(1);
    expect(report.platform.usage.instances[0]).toMatchObject({ name: 'aws-us-east-1', type: 'primary', rowsWritten: 502 });
    expect(report.platform.usage.total.storageBytes).toBe(fileBytes(join(org.dir, 'prod.db')));
    expect(report.platform.usage.total.rowsRead).toBeGreaterThan(0);
    expect(report.platform.topQueries).toEqual([
      { query: 'INSERT INTO "questions" VALUES (?)', rowsRead: 0, rowsWritten: 500 },
      { query: 'INSERT INTO "exams" VALUES (?)', rowsRead: 0, rowsWritten: 2 },
    ]);
    const { storage } = report;
    expect(storage.sizesFrom).toBe('dbstat');
    expect(storage.tables.map((t: { table: string; rows: number }) => [t.table, t.rows])).toEqual([
      ['exams', 2],
      ['questions', 500],
    ]);
    const questions = storage.tables[1];
    expect(questions.bytes).toBeGreaterThan(storage.pageSize);
    expect(questions.indexBytes).toBeGreaterThan(0);
    expect(storage.totalBytes).toBe(storage.pageSize * storage.pageCount);
    expect(result.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);

    const table = await runCli(['db', 'inspect', 'prod'], { env: org.env, cwd: org.dir });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/aws-us-east-1\s+primary\s+\d+\s+502\s/);
    expect(table.stdout).toMatch(/INSERT INTO "questions" VALUES \(\?\)\s+0\s+500/);
    expect(table.stdout).toMatch(/questions\s+500\s+\d+(\.\d)? KiB\s+\d+(\.\d)? KiB/);
    expect(table.stdout).toMatch(/\d+ page\(s\) of 4096 B \(.*\), \d+ free/);

    const spec = loadOpenApiSpec();
    const checked = org.platform.requests.filter((r) => /\/(usage|stats)$/.test(r.path));
    expect(checked.length).toBeGreaterThanOrEqual(4);
    for (const request of checked) {
      const schema = responseSchemaFor(request.method, request.path, request.status, spec)!.schema;
      expect(validateAgainstSchema(request.body, schema!, spec), request.path).toEqual([]);
    }
  });

  it('an empty database has no top queries; a database that does not answer keeps the usage part and says why', async () => {
    const org = await organization();
    expect((await runCli(['db', 'create', 'empty'], { env: org.env, cwd: org.dir })).code).toBe(0);
    const empty = await runCli(['db', 'inspect', 'empty', '--json'], { env: org.env, cwd: org.dir });
    expect(empty.json()).toMatchObject({ platform: { topQueries: [] }, storage: { tables: [] } });
    const emptyTable = await runCli(['db', 'inspect', 'empty'], { env: org.env, cwd: org.dir });
    expect(emptyTable.stdout).toContain('(none reported)');

    await org.platform.servers.get('empty')!.close();
    const down = await runCli(['db', 'inspect', 'empty', '--json'], { env: org.env, cwd: org.dir });
    expect(down.code, down.stderr).toBe(0);
    expect(down.json().storage).toBeNull();
    expectDocument('db-inspect', down.json());
    expect(down.json().notes[0]).toContain('the tables of "empty" could not be read');
  });

  it('an unknown database is exit 3; without the Platform API it is a usage error (exit 2)', async () => {
    const org = await organization();
    const unknown = await runCli(['db', 'inspect', 'nope'], { env: org.env, cwd: org.dir });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('database "nope" not found');
    const unconfigured = await runCli(['db', 'inspect', 'nope', '--json'], { env: {}, cwd: org.dir });
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.json().error.message).toContain('TURSO_API_TOKEN');
  });

  it('the configured database is found by its hostname: usage and tables together', async () => {
    const org = await organization();
    expect((await runCli(['db', 'create', 'prod'], { env: org.env, cwd: org.dir })).code).toBe(0);
    const env = { ...org.env, TURSO_DATABASE_URL: org.platform.servers.get('prod')!.url, TURSO_AUTH_TOKEN: org.platform.mintToken('prod', { readOnly: true }) };
    const result = await runCli(['db', 'inspect', '--json'], { env, cwd: org.dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ database: 'prod', platform: { name: 'prod' }, storage: { tables: [] }, notes: [] });
  });
});

describe.each(MODES)('qbank db inspect, the configured database without the Platform API (%s)', (mode) => {
  it('shows the tables only, with rows, sizes and free pages, and says why', async () => {
    const db = await createTestDatabase(mode);
    cleanups.push(() => db.close());
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: db.env, cwd: db.dir })).code).toBe(0);
    expect((await runCli(['db', 'seed'], { env: db.env, cwd: db.dir })).code).toBe(0);
    const status = (await runCli(['db', 'status', '--json'], { env: db.env, cwd: db.dir })).json();
    const result = await runCli(['db', 'inspect', '--json'], { env: db.env, cwd: db.dir });
    expect(result.code, result.stderr).toBe(0);
    const report = result.json();
    expectDocument('db-inspect', report);
    expect(report.platform).toBeNull();
    expect(report.notes[0]).toMatch(mode === 'file' ? /a file: database has no Turso usage/ : /the Turso Platform API is not configured/);
    const rows = Object.fromEntries(report.storage.tables.map((t: { table: string; rows: number }) => [t.table, t.rows]));
    for (const table of status.tables as Array<{ table: string; rows: number }>) expect(rows[table.table], table.table).toBe(table.rows);
    expect(report.storage.freePages).toBeGreaterThanOrEqual(0);
    const text = await runCli(['db', 'inspect'], { env: db.env, cwd: db.dir });
    expect(text.stdout).toMatch(/questions\s+\d+/);
    expect(text.stderr).toMatch(/tables only/);
  });
});
