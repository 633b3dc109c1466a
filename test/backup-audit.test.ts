import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../src/config.js';
import { fileSink } from '../src/db/backup/dump-sink.js';
import { dumpDatabase, openBackupDatabase } from '../src/db/backup/dump.js';
import { generateEd25519KeyPair, signToken } from '../src/auth/jwt.js';
import { runCli } from './support/cli.js';
import { startLibsqlServer } from './support/libsql-server.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

/**
 * qbank's audit record (`__qbank_audit`, `__qbank_audit_rows`) is part of a dump; a restore merges
 * the dump's record into the target's by key and never loses the target's own.
 */

const ROOT = join(import.meta.dirname, '..');
const EXAMS = join(ROOT, 'fixtures', 'pingtopass', 'exams.csv');
const HEADER = 'id,exam_code,text,option_a,option_b,option_c,correct,difficulty,tags';
const FILE_A = `${HEADER}\nba-1,CCNA-200-301,Which port does SSH use?,22,23,25,A,1,ssh\nba-2,CCNA-200-301,"Which port does ""Telnet"" use — ünïcødé?",22,23,25,B,1,telnet\n`;
const FILE_A2 = `${HEADER}\nba-1,CCNA-200-301,Which port does SSH use?,22,23,,B,1,ssh\nba-2,CCNA-200-301,Which TCP port does Telnet use?,22,23,25,B,2,telnet\nba-3,CCNA-200-301,Which port does DNS use?,53,54,55,A,1,dns\n`;

async function query(path: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const client = createClient({ url: `file:${path}` });
  try {
    return (await client.execute(sql)).rows.map((row) => ({ ...row }));
  } finally {
    client.close();
  }
}

const entries = (path: string) => query(path, 'SELECT * FROM __qbank_audit ORDER BY id');
const images = async (path: string) =>
  (await query(path, "SELECT count(*) AS n FROM sqlite_schema WHERE name = '__qbank_audit_rows'"))[0]!.n ? query(path, 'SELECT * FROM __qbank_audit_rows ORDER BY run_id, tbl, row_key') : [];
const auditSchema = (path: string) => query(path, "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE tbl_name LIKE '\\_\\_qbank\\_audit%' ESCAPE '\\' ORDER BY name");

/** Every row of every table but qbank's own and SQLite's: the database's content. */
async function content(path: string): Promise<Record<string, string[]>> {
  const tables = await query(path, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_\\_qbank%' ESCAPE '\\' ORDER BY name");
  const all: Record<string, string[]> = {};
  for (const { name } of tables) all[String(name)] = (await query(path, `SELECT * FROM "${String(name)}"`)).map((row) => JSON.stringify(row)).sort();
  return all;
}

describe.each(MODES)('the audit record in backups (%s)', (mode) => {
  let source: TestDatabase;
  let target: TestDatabase;
  const cliOn = (t: TestDatabase) => (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  /** A PingToPass database with entries and before-images: push, seed, exams, import A, import A'. */
  async function build(t: TestDatabase): Promise<void> {
    const cli = cliOn(t);
    writeFileSync(join(t.dir, 'a.csv'), FILE_A);
    writeFileSync(join(t.dir, 'a2.csv'), FILE_A2);
    for (const args of [['db', 'push', '--schema', 'pingtopass'], ['db', 'seed'], ['import', 'exams', EXAMS], ['import', 'a.csv'], ['import', 'a2.csv']]) {
      const result = await cli(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
  }

  beforeEach(async () => {
    source = await createTestDatabase(mode);
    target = await createTestDatabase(mode);
    await build(source);
  });
  afterEach(async () => {
    await source.close();
    await target.close();
  });

  it('a dump carries the audit tables; a restore into an empty database brings them exactly, plus its own entry, and they are no drift', async () => {
    const dumpFile = join(source.dir, 'with-audit.sql');
    const dumped = await cliOn(source)(['backup', 'dump', dumpFile]);
    expect(dumped.code, dumped.stderr).toBe(0);
    const text = readFileSync(dumpFile, 'utf8');
    expect(text).toMatch(/^CREATE TABLE "__qbank_audit" \(/m);
    expect(text).toMatch(/^CREATE INDEX "__qbank_audit_rows_row" ON "__qbank_audit_rows"/m);
    expect(text).toMatch(/^INSERT INTO "__qbank_audit_rows" VALUES\(/m);
    expect(text).not.toMatch(/__qbank_lock|__qbank_restore_/);

    const verified = await cliOn(source)(['backup', 'verify', dumpFile, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.json().skipped).toEqual([]);

    const sourceEntries = await entries(source.dbPath);
    expect(sourceEntries.length).toBe(5);
    const restored = await cliOn(target)(['backup', 'restore', dumpFile, '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    const sourceImages = await images(source.dbPath);
    expect(restored.json().auditMerged).toEqual([
      { table: '__qbank_audit', rows: 5 },
      { table: '__qbank_audit_rows', rows: sourceImages.length },
    ]);
    const targetEntries = await entries(target.dbPath);
    expect(targetEntries.filter((entry) => entry.id !== restored.json().runId)).toEqual(sourceEntries);
    expect(targetEntries.find((entry) => entry.id === restored.json().runId)).toMatchObject({ command: 'backup restore' });
    expect(await images(target.dbPath)).toEqual(sourceImages);
    expect(await auditSchema(target.dbPath)).toEqual(await auditSchema(source.dbPath));

    const status = await cliOn(target)(['db', 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    // a remote restore leaves its (released) lease table beside them
    expect(status.json().drift).toMatchObject({ upToDate: true, unmanagedTables: [], qbankTables: expect.arrayContaining(['__qbank_audit', '__qbank_audit_rows']) });
    const push = await cliOn(target)(['db', 'push', '--dry-run', '--exit-code', '--json']);
    expect(push.code, push.stderr).toBe(0);
    expect(push.json()).toMatchObject({ upToDate: true, unmanagedTables: [] });
  });

  it("a restore keeps the database's own record and merges the dump's in by run id, once", async () => {
    const dumpFile = join(source.dir, 'with-audit.sql');
    expect((await cliOn(source)(['backup', 'dump', dumpFile])).code).toBe(0);
    const cli = cliOn(target);
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    expect((await cli(['db', 'seed'])).code).toBe(0);
    const own = await entries(target.dbPath);
    const ownImages = await images(target.dbPath);
    expect(own.map((entry) => entry.command)).toEqual(['db push', 'db seed']);

    const first = await cli(['backup', 'restore', dumpFile, '--clean', '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const second = await cli(['backup', 'restore', dumpFile, '--clean', '--yes', '--json']);
    expect(second.code, second.stderr).toBe(0);

    const after = await entries(target.dbPath);
    const sourceEntries = await entries(source.dbPath);
    expect(after.map((entry) => entry.id).sort()).toEqual([...own, ...sourceEntries].map((entry) => entry.id).concat(first.json().runId, second.json().runId).sort());
    for (const entry of [...own, ...sourceEntries]) expect(after).toContainEqual(entry);
    const afterImages = await images(target.dbPath);
    for (const image of [...ownImages, ...(await images(source.dbPath))]) expect(afterImages).toContainEqual(image);
    expect(await content(target.dbPath)).toEqual(await content(source.dbPath));
  });

  it("undo after a restore: a run whose rows the restore changed is refused and names them", async () => {
    const cli = cliOn(target);
    writeFileSync(join(target.dir, 'a.csv'), FILE_A);
    writeFileSync(join(target.dir, 'a2.csv'), FILE_A2);
    for (const args of [['db', 'push', '--schema', 'pingtopass'], ['db', 'seed'], ['import', 'exams', EXAMS], ['import', 'a.csv']]) expect((await cli(args)).code).toBe(0);
    const dumpFile = join(target.dir, 'after-a.sql');
    expect((await cli(['backup', 'dump', dumpFile])).code).toBe(0);
    expect((await cli(['import', 'a2.csv'])).code).toBe(0);
    const listed = await cli(['audit', 'list', '--command', 'import', '--limit', '1', '--json']);
    const runId = (listed.json() as { runs: Array<{ id: string }> }).runs[0].id;

    const restored = await cli(['backup', 'restore', dumpFile, '--clean', '--yes']);
    expect(restored.code, restored.stderr).toBe(0);
    const before = await content(target.dbPath);
    // the run's entry and before-images survive the restore: the database's own record is kept
    expect((await entries(target.dbPath)).map((entry) => entry.id)).toContain(runId);

    const refused = await cli(['undo', runId]);
    expect(refused.code, refused.stderr).toBe(5);
    expect(refused.stderr).toMatch(/changed since/);
    expect(refused.stderr).toMatch(/questions ba-2/);
    expect(await content(target.dbPath)).toEqual(before);
  });

  it('a dump of data only creates the audit tables a database lacks; a dump without them (an older one) still restores', async () => {
    const dataOnly = join(source.dir, 'data-only.sql');
    expect((await cliOn(source)(['backup', 'dump', dataOnly, '--data-only'])).code).toBe(0);
    const cli = cliOn(target);
    // the schema without qbank's record: the tables as a push creates them, then the record dropped
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    await query(target.dbPath, 'DROP TABLE __qbank_audit');
    const restored = await cli(['backup', 'restore', dataOnly, '--clean', '--yes', '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await images(target.dbPath)).toEqual(await images(source.dbPath));
    expect((await entries(target.dbPath)).length).toBe((await entries(source.dbPath)).length + 1);
    expect(await auditSchema(target.dbPath)).toEqual(await auditSchema(source.dbPath));

    const older = join(source.dir, 'older.sql');
    expect((await cliOn(source)(['backup', 'dump', older, '--exclude-tables', '__qbank_audit,__qbank_audit_rows'])).code).toBe(0);
    expect(readFileSync(older, 'utf8')).not.toMatch(/__qbank_audit/);
    const fresh = await createTestDatabase(mode);
    try {
      const into = await cliOn(fresh)(['backup', 'restore', older, '--json']);
      expect(into.code, into.stderr).toBe(0);
      expect(into.json().auditMerged).toEqual([]);
      expect((await entries(fresh.dbPath)).map((entry) => entry.command)).toEqual(['backup restore']);
      expect(await content(fresh.dbPath)).toEqual(await content(source.dbPath));
    } finally {
      await fresh.close();
    }
  });
});

describe('the audit tables dump byte for byte alike: one connection, renderer threads, remote', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('file');
    const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
    const lines = (revised: string) =>
      Array.from({ length: 1_500 }, (_, i) => `bx-${i},CCNA-200-301,"Question ${i} — ""quoted"", ünïcødé ${revised}",a${i},b${i},c${i},A,${1 + (i % 5)},t${i}`);
    writeFileSync(join(t.dir, 'a.csv'), [HEADER, ...lines('')].join('\n') + '\n');
    writeFileSync(join(t.dir, 'b.csv'), [HEADER, ...lines("it's revised\nover two lines")].join('\n') + '\n');
    for (const args of [['db', 'push', '--schema', 'pingtopass'], ['import', 'exams', EXAMS], ['import', 'a.csv'], ['import', 'b.csv']]) {
      const result = await cli(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });
  afterEach(async () => {
    await t.close();
  });

  /** The dump's text without the lines that name its moment, source and seal. */
  const body = (path: string) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => !/^-- (qbank-checksum|source|created-at|qbank-version):/.test(line))
      .join('\n');

  it('the same text whichever way the rows were read', async () => {
    const config: DatabaseConfig = { url: `file:${t.dbPath}`, displayUrl: `file:${t.dbPath}`, kind: 'file', source: 'test', readOnlyCredentials: false, notices: [] };
    const texts: string[] = [];
    for (const parallelMinRows of [1, Number.POSITIVE_INFINITY]) {
      const database = openBackupDatabase(config);
      try {
        const path = join(t.dir, `file-${parallelMinRows}.sql`);
        const result = await dumpDatabase(database, await fileSink(path, { overwrite: true }), { qbankVersion: 'test', parallelMinRows, pageBytes: 16 << 10 });
        expect(result.tables.map((table) => table.table)).toEqual(expect.arrayContaining(['__qbank_audit', '__qbank_audit_rows']));
        if (parallelMinRows === 1) expect(result.rendererPages).toBeGreaterThan(0);
        texts.push(body(path));
      } finally {
        database.close();
      }
    }
    const keys = generateEd25519KeyPair();
    const server = await startLibsqlServer({ dbPath: t.dbPath, publicKeys: [keys.publicKey] });
    try {
      const remote = join(t.dir, 'remote.sql');
      const env = { TURSO_DATABASE_URL: server.url, TURSO_AUTH_TOKEN: signToken({ a: 'ro' }, keys.privateKey) };
      const dumped = await runCli(['backup', 'dump', remote], { env, cwd: t.dir });
      expect(dumped.code, dumped.stderr).toBe(0);
      texts.push(body(remote));
    } finally {
      await server.close();
    }
    expect(texts[0]).toMatch(/INSERT INTO "__qbank_audit_rows" VALUES\('[^']+','questions','\["bx-0"\]','update'/);
    expect(texts[1]).toBe(texts[0]);
    expect(texts[2]).toBe(texts[0]);
  });
});
