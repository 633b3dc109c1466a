import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';
import { createTestDatabase, MODES } from './support/modes.js';

/** sqlite_schema (type, name, table, SQL text) and every row of every table, read from the file. */
async function everything(path: string): Promise<{ schema: unknown[][]; rows: Record<string, unknown[][]> }> {
  const client = createClient({ url: `file:${path}`, intMode: 'bigint' });
  const plain = (rows: ArrayLike<unknown>[]) => rows.map((r) => Array.from({ length: r.length }, (_, i) => r[i]));
  try {
    const schema = plain(
      (await client.execute("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE tbl_name NOT LIKE '\\_\\_qbank%' ESCAPE '\\' ORDER BY type, name")).rows as never,
    );
    const rows: Record<string, unknown[][]> = {};
    for (const [type, name] of schema) {
      if (type !== 'table' || String(name).startsWith('sqlite_stat')) continue;
      const quoted = '"' + String(name).replaceAll('"', '""') + '"';
      const withoutRowid = /WITHOUT\s+ROWID/i.test(String(schema.find((s) => s[1] === name)![3]));
      rows[String(name)] = plain((await client.execute(`SELECT * FROM ${quoted} ORDER BY ${withoutRowid ? '1' : 'rowid'}`)).rows as never);
    }
    return { schema, rows };
  } finally {
    client.close();
  }
}

/** Names a dump must carry through as they were written: backticks, brackets, bare, quotes, spaces, unicode. */
const ODD_NAMES = `
  CREATE TABLE \`users\` (\`id\` integer PRIMARY KEY NOT NULL, \`name\` text);
  CREATE TABLE [bracket table] ([key] TEXT PRIMARY KEY, [value] BLOB) WITHOUT ROWID;
  CREATE TABLE bare(x INTEGER, y REAL DEFAULT 1.5, "has ""quotes""" TEXT);
  CREATE TABLE "Mixed Case ""t""" (a INTEGER PRIMARY KEY AUTOINCREMENT, b TEXT REFERENCES \`users\`(\`id\`));
  CREATE TABLE  spaced   (  a  ,  b  ) ;
  CREATE TABLE "ünïcødé 表" (v TEXT);
  CREATE TABLE gen (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL);
  CREATE INDEX \`users_name_idx\` ON \`users\` (\`name\`);
  CREATE UNIQUE INDEX bare_xy ON bare(x, y);
  CREATE INDEX "odd index" ON "Mixed Case ""t"""(b);
  CREATE VIEW \`v_users\` AS SELECT \`id\`, \`name\` FROM \`users\`;
  CREATE TRIGGER [t_users] AFTER INSERT ON [users] BEGIN UPDATE bare SET x = x WHERE 0; END;
  INSERT INTO \`users\` VALUES (1, 'ada'), (2, 'it''s');
  INSERT INTO [bracket table] VALUES ('k', X'00ff');
  INSERT INTO bare VALUES (1, 2.5, 'q'), (NULL, NULL, NULL);
  INSERT INTO "Mixed Case ""t""" (b) VALUES ('1'), ('2');
  DELETE FROM "Mixed Case ""t""" WHERE a = 2;
  INSERT INTO spaced VALUES (1, 'x');
  INSERT INTO "ünïcødé 表" VALUES ('日本');
  INSERT INTO gen (a) VALUES (21);
`;

describe('a restore reproduces sqlite_schema and every row exactly', () => {
  const dir = tempDir();
  const sources: Record<string, string> = {};

  beforeAll(async () => {
    for (const system of ['pingtopass', 'open-interview']) {
      const path = join(dir.path, `${system}.db`);
      for (const args of [['db', 'push', '--schema', system], ['db', 'seed', '--schema', system]]) {
        const result = await runCli(args, { env: { TURSO_DATABASE_URL: `file:${path}` }, cwd: dir.path });
        expect(result.code, result.stderr).toBe(0);
      }
      sources[`${system} schema`] = path;
    }
    const demo = await runCli(['demo'], { env: {}, cwd: dir.path });
    expect(demo.code, demo.stderr).toBe(0);
    sources['pingtopass demo'] = join(dir.path, 'qbank-demo', 'pingtopass.db');
    sources['open-interview demo'] = join(dir.path, 'qbank-demo', 'open-interview.db');
    const odd = join(dir.path, 'odd.db');
    const client = createClient({ url: `file:${odd}` });
    await client.executeMultiple(ODD_NAMES);
    client.close();
    sources['quoted, unusual names'] = odd;
  }, 120_000);

  afterAll(() => dir.remove());

  describe.each(MODES)('into a %s database', (mode) => {
    it.each(['pingtopass schema', 'open-interview schema', 'pingtopass demo', 'open-interview demo', 'quoted, unusual names'])('%s', async (source) => {
      const path = sources[source]!;
      const dumpFile = join(dir.path, `${source.replace(/\W+/g, '-')}-${mode}.sql`);
      const dump = await runCli(['backup', 'dump', dumpFile], { env: { TURSO_DATABASE_URL: `file:${path}` }, cwd: dir.path });
      expect(dump.code, dump.stderr).toBe(0);
      const target = await createTestDatabase(mode);
      try {
        const restore = await runCli(['backup', 'restore', dumpFile], { env: target.env, cwd: target.dir });
        expect(restore.code, restore.stderr).toBe(0);
        const [before, after] = [await everything(path), await everything(target.dbPath)];
        expect(after.schema).toEqual(before.schema);
        expect(after.rows).toEqual(before.rows);
      } finally {
        await target.close();
      }
    });
  });
});
