import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

const HAVE_SQLITE3 = spawnSync('sqlite3', ['-version']).status === 0;

/** What is in the database, read straight from its file: schema (temp too) and every row. */
async function snapshot(t: TestDatabase): Promise<unknown> {
  const client = createClient({ url: `file:${t.dbPath}`, intMode: 'bigint' });
  try {
    const schema = (await client.execute("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE '\\_\\_qbank%' ESCAPE '\\' ORDER BY name")).rows.map((r) => Array.from({ length: r.length }, (_, i) => r[i]));
    const tables = schema.filter((r) => r[0] === 'table' && !String(r[1]).startsWith('sqlite_')).map((r) => String(r[1]));
    const rows: Record<string, unknown[]> = {};
    for (const table of tables) rows[table] = (await client.execute(`SELECT * FROM "${table}" ORDER BY rowid`)).rows.map((r) => Array.from({ length: r.length }, (_, i) => r[i]));
    return { schema, rows };
  } finally {
    client.close();
  }
}

/** A sqlite3-style dump (no qbank header, so no checksum to break) of a users table, with `extra` spliced in. */
function dumpWith(extra: { before?: string; rows?: string[]; after?: string }): string {
  return [
    'PRAGMA foreign_keys=OFF;',
    'BEGIN TRANSACTION;',
    'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);',
    ...(extra.before ? [extra.before] : []),
    ...(extra.rows ?? ["INSERT INTO users VALUES(1,'ada');"]),
    ...(extra.after ? [extra.after] : []),
    'COMMIT;',
    '',
  ].join('\n');
}

/** Forms a backup must never carry: each would act on the database beyond restoring rows. Line 4 is the hostile one. */
const HOSTILE: Array<[string, string]> = [
  ['a TEMP trigger that empties another table', dumpWith({ before: 'CREATE TEMP TRIGGER tt AFTER INSERT ON "users" BEGIN DELETE FROM "operator_notes"; END;' })],
  ['a TEMPORARY trigger', dumpWith({ before: 'CREATE TEMPORARY TRIGGER tt AFTER INSERT ON users BEGIN DELETE FROM operator_notes; END;' })],
  ['a trigger in the temp schema', dumpWith({ before: 'CREATE TRIGGER temp.tt AFTER INSERT ON users BEGIN DELETE FROM operator_notes; END;' })],
  ['a TEMP table', dumpWith({ before: 'CREATE TEMP TABLE t2 (x);' })],
  ['a subquery in a row', dumpWith({ rows: ["INSERT INTO users VALUES(1,(SELECT group_concat(note) FROM operator_notes));"] })],
  ['RETURNING', dumpWith({ rows: ["INSERT INTO users VALUES(1,'ada') RETURNING *;"] })],
  ['INSERT … SELECT', dumpWith({ rows: ['INSERT INTO users SELECT id, note FROM operator_notes;'] })],
  ['a function call in a row', dumpWith({ rows: ['INSERT INTO users VALUES(1,hex(randomblob(16)));'] })],
  ['arithmetic in a row', dumpWith({ rows: ['INSERT INTO users VALUES(1+1,\'ada\');'] })],
  ['CREATE TABLE … AS SELECT', dumpWith({ before: 'CREATE TABLE copied AS SELECT * FROM operator_notes;' })],
  ['INSERT OR REPLACE', dumpWith({ rows: ["INSERT OR REPLACE INTO operator_notes VALUES(1,'gone');"] })],
  ['a row for a schema-qualified table', dumpWith({ rows: ["INSERT INTO main.operator_notes VALUES(9,'planted');"] })],
  ['an UPDATE', dumpWith({ before: "UPDATE operator_notes SET note = 'changed';" })],
  ['a DELETE of another table', dumpWith({ before: 'DELETE FROM operator_notes;' })],
  ['a PRAGMA other than foreign_keys=OFF', dumpWith({ before: 'PRAGMA recursive_triggers=ON;' })],
  ['a replace() that is not the line-break form', dumpWith({ rows: ["INSERT INTO users VALUES(1,replace((SELECT note FROM operator_notes),'a','b'));"] })],
  ['a second statement after an INSERT on its line', dumpWith({ rows: ["INSERT INTO users VALUES(1,'ada'); DELETE FROM operator_notes;"] })],
];

describe.each(MODES)('a backup is data, not a program (%s)', (mode) => {
  let t: TestDatabase;

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.executeMultiple(`
      CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
      INSERT INTO users VALUES (7, 'old');
      CREATE TABLE operator_notes (id INTEGER PRIMARY KEY, note TEXT);
      INSERT INTO operator_notes VALUES (1, 'keep me'), (2, 'and me');
    `);
    client.close();
  });

  afterEach(async () => {
    await t.close();
  });

  it.each(HOSTILE)('refuses %s in verify and restore, naming its line, and changes nothing', async (_what, text) => {
    writeFileSync(join(t.dir, 'hostile.sql'), text);
    const line = 4;
    const verify = await runCli(['backup', 'verify', 'hostile.sql'], { env: t.env, cwd: t.dir });
    expect(verify.code, verify.stderr).toBe(6);
    expect(verify.stderr).toContain(`line ${line}:`);

    const before = await snapshot(t);
    for (const args of [['backup', 'restore', 'hostile.sql', '--clean', '--yes'], ['--url', t.url, 'backup', 'restore', '--clean', 'hostile.sql', '--yes']]) {
      const restore = await runCli(args, { env: t.env, cwd: t.dir });
      expect(restore.code, restore.stderr).toBe(6);
      expect(restore.stderr).toContain(`line ${line}:`);
      expect(await snapshot(t)).toEqual(before);
    }
  });

  it('creates a trigger of the dump after its rows, so it fires for none of them', async () => {
    const text = [
      'PRAGMA foreign_keys=OFF;',
      'BEGIN TRANSACTION;',
      'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);',
      'CREATE TABLE log (id INTEGER);',
      'CREATE TRIGGER users_log AFTER INSERT ON users BEGIN INSERT INTO log VALUES (new.id); END;',
      "INSERT INTO users VALUES(1,'ada');",
      "INSERT INTO users VALUES(2,'bob'),(3,'cy');",
      'INSERT INTO log VALUES(1);',
      'COMMIT;',
      '',
    ].join('\n');
    writeFileSync(join(t.dir, 'trigger.sql'), text);
    const verify = await runCli(['backup', 'verify', 'trigger.sql', '--json'], { env: t.env, cwd: t.dir });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json().tables).toEqual([
      { table: 'users', rows: 3, schema: true },
      { table: 'log', rows: 1, schema: true },
    ]);
    const restore = await runCli(['backup', 'restore', 'trigger.sql', '--clean', '--yes'], { env: t.env, cwd: t.dir });
    expect(restore.code, restore.stderr).toBe(0);
    const after = (await snapshot(t)) as { rows: Record<string, unknown[]>; schema: unknown[][] };
    expect(after.rows.log).toEqual([[1n]]);
    expect(after.rows.users).toHaveLength(3);
    expect(after.rows.operator_notes).toHaveLength(2);
    expect(after.schema.some((r) => r[1] === 'users_log')).toBe(true);
  });

  it.skipIf(!HAVE_SQLITE3)("restores sqlite3's own spellings of special values", async () => {
    const source = join(t.dir, 'special.db');
    const made = spawnSync('sqlite3', [source], {
      input: `CREATE TABLE v (id INTEGER PRIMARY KEY AUTOINCREMENT, a, b TEXT);
        INSERT INTO v (a, b) VALUES (9e999, 'line' || char(10) || 'break' || char(13)), (-9e999, 'it''s'), (X'00ff', NULL), (1.5e-300, ''), (-0.0, '\\n and \\r');
        DELETE FROM v WHERE id = 2; INSERT INTO v (a) VALUES (2);`,
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).toBe(0);
    const dumped = spawnSync('sqlite3', [source, '.dump'], { encoding: 'utf8' });
    writeFileSync(join(t.dir, 'special.sql'), dumped.stdout);
    const restore = await runCli(['backup', 'restore', 'special.sql', '--clean', '--yes', '--tables', 'v'], { env: t.env, cwd: t.dir });
    expect(restore.code, restore.stderr).toBe(0);
    const read = (path: string) => spawnSync('sqlite3', [path, "SELECT id, quote(a), quote(b) FROM v ORDER BY id; SELECT name, seq FROM sqlite_sequence WHERE name = 'v';"], { encoding: 'utf8' }).stdout;
    expect(read(t.dbPath)).toBe(read(source));
  });
});
