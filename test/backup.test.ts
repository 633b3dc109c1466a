import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Client } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../src/config.js';
import { spawnCli } from './support/child-cli.js';
import { runCli } from './support/cli.js';
import { startLibsqlServer } from './support/libsql-server.js';
import { createTestDatabase, MODES, seededDatabase, withFile as withDatabaseFile, type Mode, type TestDatabase } from './support/modes.js';

const HAVE_SQLITE3 = spawnSync('sqlite3', ['-version']).status === 0;

/** A direct connection to the file behind either mode, integers as bigint: what is really in the database. */
const withFile = <T>(t: TestDatabase, work: (client: Client) => Promise<T>): Promise<T> => withDatabaseFile(t, work, { intMode: 'bigint' });

/** Every value of every user table, typed so that 1 and 1.0, or a blob and its text, differ. */
async function contents(t: TestDatabase): Promise<Record<string, string[]>> {
  return withFile(t, async (client) => {
    const tables = await client.execute(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_qbank\\_%' ESCAPE '\\' ORDER BY name",
    );
    const result: Record<string, string[]> = {};
    for (const row of tables.rows) {
      const name = String(row[0]);
      const rows = await client.execute(`SELECT * FROM "${name.replaceAll('"', '""')}" ORDER BY ${name === 'pairs' ? 'k1, k2' : 'rowid'}`);
      result[name] = rows.rows.map((r) =>
        Array.from({ length: r.length }, (_, i) => {
          const v = r[i];
          if (v === null) return 'null';
          if (typeof v === 'bigint') return `int:${v}`;
          if (typeof v === 'number') {
            const bits = Buffer.alloc(8);
            bits.writeDoubleBE(v);
            return `real:${bits.toString('hex')}`;
          }
          if (typeof v === 'string') return `text:${JSON.stringify(v)}`;
          return `blob:${Buffer.from(v as ArrayBuffer).toString('hex')}`;
        }).join('|'),
      );
    }
    const sequence = await client.execute("SELECT name, seq FROM sqlite_sequence WHERE name NOT LIKE '\\_\\_qbank%' ESCAPE '\\' ORDER BY name").catch(() => undefined);
    result['(sqlite_sequence)'] = sequence?.rows.map((r) => `${r[0]}=${r[1]}`) ?? [];
    return result;
  });
}

async function objectNames(t: TestDatabase): Promise<string[]> {
  // qbank's own bookkeeping (the run record, the restore lease) is per database, never restored
  return withFile(t, async (client) =>
    (await client.execute("SELECT type || ' ' || name FROM sqlite_schema WHERE tbl_name NOT IN ('__qbank_audit', '__qbank_lock') ORDER BY 1")).rows.map((r) => String(r[0])),
  );
}

/** A dump without the lines that name the moment and the source. */
function comparable(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^-- (created-at|source|qbank-checksum):/.test(line))
    // the audit record travels with the dump, and a restore adds its own entry to it
    .filter((line) => !/^-- table "__qbank_audit": /.test(line) && !(line.startsWith('INSERT INTO "__qbank_audit" VALUES(') && line.includes(",'backup restore',")))
    .join('\n');
}

const EDGE_TABLE = `CREATE TABLE edge_values (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  label TEXT NOT NULL,
  anything,
  r REAL,
  i INTEGER,
  b BLOB
)`;

/** Values a careless dump gets wrong, each in a column with no affinity so SQLite keeps its type. */
async function addEdgeValues(t: TestDatabase): Promise<void> {
  await withFile(t, async (client) => {
    await client.execute(EDGE_TABLE);
    await client.execute('CREATE VIEW edge_labels AS SELECT id, label FROM edge_values');
    // CASE ... END; inside the body: the trigger ends only at `; END;`
    await client.execute(
      `CREATE TRIGGER edge_touch AFTER UPDATE ON edge_values BEGIN UPDATE edge_values SET i = CASE WHEN new.i IS NULL THEN 0 ELSE new.i END WHERE id = new.id AND 0; END`,
    );
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const rows: Array<[string, unknown]> = [
      ['quotes and comment marks', `it's "quoted"; -- not a comment /* nor this */ ; INSERT INTO x VALUES(1);`],
      ['newlines', 'line 1\nline 2\r\nline 3\r'],
      ['unicode', 'Ünïcödé — 日本語 🚀 \u{10FFFF} שלום \u200b'],
      ['NUL inside text', 'before\u0000after'],
      ['text Inf', 'Inf'],
      ['text ,Inf and e+308', ',Inf,(Inf,-Inf e+308'],
      ['max int', 9223372036854775807n],
      ['min int', -9223372036854775808n],
      ['2^53 + 1', 9007199254740993n],
      ['0.1', 0.1],
      ['1.0 stays real', 1.0],
      ['-1.0e300', -1e300],
      ['1/3', 1 / 3],
      ['subnormal', -2.5e-310],
      ['smallest', 5e-324],
      ['largest', Number.MAX_VALUE],
      ['-largest', -Number.MAX_VALUE],
      ['empty blob', new Uint8Array(0)],
      ['every byte', all],
      ['NULL', null],
      ['empty text', ''],
    ];
    for (const [label, value] of rows) await client.execute({ sql: 'INSERT INTO edge_values (label, anything) VALUES (?, ?)', args: [label, value as never] });
    await client.execute(`INSERT INTO edge_values (label, anything) VALUES ('+Infinity', 9e999), ('-Infinity', -9e999)`);
    await client.execute(`INSERT INTO edge_values (label, r, i, b) VALUES ('typed columns', 2.0, 'not a number', X'00ff00')`);
    // a TEXT column keeps a blob as a blob
    await client.execute(`INSERT INTO edge_values (label, anything) VALUES (X'626c6f62', 'blob in the TEXT column label')`);
    await client.execute(`INSERT INTO edge_values (label) VALUES ('deleted, so the sequence runs ahead')`);
    await client.execute(`DELETE FROM edge_values WHERE label LIKE 'deleted%'`);
  });
}

function prepareSource(mode: Mode, system: (typeof SYSTEMS)[number] = 'pingtopass'): Promise<TestDatabase> {
  return seededDatabase(mode, system, [['db', 'migrate', '--schema', system]]);
}

/** Rows enough that a restore takes a while: `count` questions with four options each. */
async function addQuestions(t: TestDatabase, count: number): Promise<void> {
  await withFile(t, async (client) => {
    await client.executeMultiple(`
      PRAGMA foreign_keys=OFF;
      BEGIN;
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
      INSERT INTO questions (id, exam_id, type, text, explanation, difficulty, tags, created_at, updated_at)
      SELECT printf('bulk-q%07d', i), (SELECT id FROM exams LIMIT 1), 'single',
             'Bulk question ' || i || ': which route wins? ''longest prefix''; see RFC 1812' || char(10) || 'Pick one.',
             'Because the most specific route is preferred.', 1 + i % 5, '["bulk"]', 1700000000 + i, 1700000000 + i FROM n;
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${count * 4 - 1})
      INSERT INTO answer_options (id, question_id, text, is_correct, "order", created_at)
      SELECT printf('bulk-o%08d', i), printf('bulk-q%07d', 1 + i / 4), 'Option ' || (i % 4), (i % 4) = 0, i % 4, 1700000000 FROM n;
      COMMIT;
    `);
  });
}

function partialFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.partial'));
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}

describe.each(MODES)('backup (%s)', (mode) => {
  const opened: TestDatabase[] = [];
  const database = async (make: () => Promise<TestDatabase>) => {
    const t = await make();
    opened.push(t);
    return t;
  };
  const cli = (t: TestDatabase, args: string[], extra: { tty?: boolean } = {}) => runCli(args, { env: t.env, cwd: t.dir, tty: extra.tty });

  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
  });

  it.each(SYSTEMS)('dump → restore → dump gives the same content, values exact to the bit (%s)', async (system) => {
    const source = await database(() => prepareSource(mode, system));
    await addEdgeValues(source);
    const first = await cli(source, ['backup', 'dump', 'first.sql']);
    expect(first.code, first.stderr).toBe(0);

    const target = await database(() => createTestDatabase(mode));
    const restore = await cli(target, ['backup', 'restore', join(source.dir, 'first.sql'), '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    const result = restore.json();
    expect(result.strategy).toBe(mode === 'file' ? 'one transaction' : 'staging tables');
    expect(result.tables.every((t: { verified: boolean }) => t.verified)).toBe(true);
    expect(result).toMatchObject({ views: 1, triggers: 1 });

    expect(await contents(target)).toEqual(await contents(source));
    const second = await cli(target, ['backup', 'dump', 'second.sql']);
    expect(second.code, second.stderr).toBe(0);
    const firstText = readFileSync(join(source.dir, 'first.sql'), 'utf8');
    expect(comparable(readFileSync(join(target.dir, 'second.sql'), 'utf8'))).toBe(comparable(firstText));

    // the dump is SQL text, the values are spelled the way SQLite reads them back exactly
    expect(firstText).toContain(`CAST(X'6265666F7265006166746572' AS TEXT)`);
    expect(firstText).toContain('9223372036854775807');
    expect(firstText).toContain('9.0e+999');
    expect(firstText).toMatch(/'1\.0 stays real',1\.0,/);
    expect(firstText).toContain(`X'626C6F62','blob in the TEXT column label'`);
    expect(firstText).toContain("X'000102");
    // one statement per line, line breaks inside values written the way sqlite3 writes them
    expect(firstText).toContain(`replace(replace('line 1\\nline 2\\r\\nline 3\\r','\\r',char(13)),'\\n',char(10))`);
    const body = firstText.slice(firstText.indexOf('BEGIN TRANSACTION;'), firstText.lastIndexOf('COMMIT;'));
    for (const line of body.split('\n').filter((l) => l.startsWith('INSERT'))) expect(line.endsWith(');'), line).toBe(true);
    expect(firstText).toContain('INSERT INTO sqlite_sequence VALUES(\'edge_values\',26);');
    expect(firstText).toMatch(/COMMIT;\n-- qbank-checksum: sha256:[0-9a-f]{64}\n$/);
    expect(await objectNames(target)).toEqual(await objectNames(source));
  });

  it('handles odd names, generated columns, WITHOUT ROWID tables and many pages', async () => {
    const source = await database(() => prepareSource(mode));
    await withFile(source, async (c) => {
      await c.executeMultiple(`
        CREATE TABLE "it's ""odd"" 100%" ("a b" TEXT, [c;d] INTEGER, total INTEGER GENERATED ALWAYS AS ([c;d] * 2) VIRTUAL);
        INSERT INTO "it's ""odd"" 100%" ("a b", [c;d]) VALUES ('x', 1), ('y''z', 2);
        CREATE TABLE pairs (k1 TEXT, k2 INTEGER, v BLOB, PRIMARY KEY (k1, k2)) WITHOUT ROWID;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
        INSERT INTO pairs SELECT 'k' || (i % 7), i, randomblob(i % 50) FROM n;
        CREATE INDEX "idx on odd" ON "it's ""odd"" 100%" ("a b");
      `);
    });
    const dump = await cli(source, ['backup', 'dump', 'odd.sql', '--json']);
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.json().pages).toBeGreaterThan(3);
    const target = await database(() => createTestDatabase(mode));
    const restore = await cli(target, ['backup', 'restore', join(source.dir, 'odd.sql')]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await contents(target)).toEqual(await contents(source));
    const total = await withFile(target, (c) => c.execute(`SELECT sum(total) FROM "it's ""odd"" 100%"`));
    expect(Number(total.rows[0]![0])).toBe(6);
  });

  it('shows progress on stderr at a terminal only', async () => {
    const source = await database(() => prepareSource(mode));
    const atTerminal = await cli(source, ['backup', 'dump', 'tty.sql'], { tty: true });
    expect(atTerminal.code, atTerminal.stderr).toBe(0);
    expect(atTerminal.stderr).toMatch(/dump questions.*rows/);
    const restore = await cli(await database(() => createTestDatabase(mode)), ['backup', 'restore', join(source.dir, 'tty.sql')], { tty: true });
    expect(restore.stderr).toMatch(/\r\x1b\[2K(\x1b\[\d+m)?restore/);
    const piped = await cli(source, ['backup', 'dump', 'piped.sql']);
    expect(piped.stderr).not.toMatch(/\r/);
  });

  it('verify accepts a whole dump and reports its header and counts', async () => {
    const source = await database(() => prepareSource(mode));
    expect((await cli(source, ['backup', 'dump', 'b.sql'])).code).toBe(0);
    const report = await cli(source, ['backup', 'verify', 'b.sql', '--json']);
    expect(report.code, report.stderr).toBe(0);
    const json = report.json();
    expect(json).toMatchObject({ ok: true, kind: 'qbank', complete: true, problems: [] });
    expect(json.header).toMatchObject({ format: 1, system: 'pingtopass', content: 'schema and data' });
    expect(json.checksum.matches).toBe(true);
    const questions = json.tables.find((t: { table: string }) => t.table === 'questions');
    expect(questions).toMatchObject({ rows: 8, headerRows: 8 });
    expect(json.tables.map((t: { table: string }) => t.table)).toContain('__drizzle_migrations');

    const human = await cli(source, ['backup', 'verify', 'b.sql']);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/complete and its checksum matches/);
  });

  it('refuses a truncated dump and an altered dump before anything changes', async () => {
    const source = await database(() => prepareSource(mode));
    await addEdgeValues(source);
    expect((await cli(source, ['backup', 'dump', 'whole.sql'])).code).toBe(0);
    const whole = readFileSync(join(source.dir, 'whole.sql'), 'utf8');
    const cut = whole.slice(0, Math.floor(whole.length * 0.6));
    writeFileSync(join(source.dir, 'truncated.sql'), cut);
    // one letter changed in a row: the text stays valid SQL with the same counts
    writeFileSync(join(source.dir, 'altered.sql'), whole.replace('line 2', 'line 9'));
    // a cut exactly at a line break, with the seal missing
    writeFileSync(join(source.dir, 'unsealed.sql'), whole.slice(0, whole.lastIndexOf('-- qbank-checksum')));

    const target = await database(() => prepareSource(mode));
    const before = await contents(target);
    for (const [file, message] of [
      ['truncated.sql', /cut off/],
      ['altered.sql', /checksum mismatch/],
      ['unsealed.sql', /not the qbank-checksum line/],
    ] as const) {
      const verify = await cli(source, ['backup', 'verify', file]);
      expect(verify.code, file).toBe(6);
      expect(verify.stderr).toMatch(message);
      const restore = await cli(target, ['backup', 'restore', join(source.dir, file), '--clean', '--yes']);
      expect(restore.code, file).toBe(6);
      expect(restore.stderr).toMatch(/failed verification; nothing was changed/);
      expect(await contents(target)).toEqual(before);
    }
  });

  it('restores into an empty database only, unless --clean, which needs --yes without a terminal', async () => {
    const source = await database(() => prepareSource(mode));
    await addEdgeValues(source);
    expect((await cli(source, ['backup', 'dump', 'b.sql'])).code).toBe(0);
    const dump = join(source.dir, 'b.sql');

    const target = await database(() => prepareSource(mode));
    await withFile(target, (c) => c.execute("UPDATE questions SET text = 'changed after the backup'").then(() => undefined));
    await withFile(target, (c) => c.execute('CREATE TABLE keep_me (x)').then(() => undefined));
    const before = await contents(target);

    const refused = await cli(target, ['backup', 'restore', dump]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/is not empty/);
    expect(refused.stderr).toMatch(/--clean/);

    const noTerminal = await cli(target, ['backup', 'restore', dump, '--clean']);
    expect(noTerminal.code).toBe(5);
    expect(noTerminal.stderr).toMatch(/--yes/);
    expect(await contents(target)).toEqual(before);

    const cleaned = await cli(target, ['backup', 'restore', dump, '--clean', '--yes', '--json']);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(cleaned.json().cleaned.drop).toContain('table questions');
    const after = await contents(target);
    const expected = await contents(source);
    for (const table of Object.keys(expected)) expect(after[table], table).toEqual(expected[table]);
    // what the dump does not contain is left alone
    expect(after.keep_me).toEqual([]);
  });

  it('restores a selection of tables with --tables', async () => {
    const source = await database(() => prepareSource(mode));
    expect((await cli(source, ['backup', 'dump', 'b.sql'])).code).toBe(0);
    const target = await database(() => prepareSource(mode));
    await withFile(target, async (c) => {
      await c.execute('PRAGMA foreign_keys=OFF');
      await c.execute('DELETE FROM answer_options');
      await c.execute("UPDATE exams SET name = 'kept as it is'");
    });
    const result = await cli(target, ['backup', 'restore', join(source.dir, 'b.sql'), '--tables', 'answer_options', '--clean', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().tables).toEqual([{ table: 'answer_options', rows: 32, verified: true }]);
    const after = await contents(target);
    const expected = await contents(source);
    expect(after.answer_options).toEqual(expected.answer_options);
    expect(after.exams).not.toEqual(expected.exams);
    const indexes = await withFile(target, (c) => c.execute("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'answer_options' AND sql IS NOT NULL ORDER BY name"));
    expect(indexes.rows.map((r) => r[0])).toEqual(['answer_options_question_idx', 'answer_options_question_order_idx']);

    const unknown = await cli(target, ['backup', 'restore', join(source.dir, 'b.sql'), '--tables', 'nope']);
    expect(unknown.code).toBe(2);
  });

  it('writes .gz, filters tables, and dumps the schema or the data alone', async () => {
    const source = await database(() => prepareSource(mode, 'open-interview'));
    const gz = await cli(source, ['backup', 'dump', 'all.sql.gz']);
    expect(gz.code, gz.stderr).toBe(0);
    const text = gunzipSync(readFileSync(join(source.dir, 'all.sql.gz'))).toString('utf8');
    expect(text.startsWith('-- qbank backup dump (format 1)')).toBe(true);
    expect((await cli(source, ['backup', 'verify', 'all.sql.gz'])).code).toBe(0);

    const some = await cli(source, ['backup', 'dump', 'some.sql', '--tables', 'questions,channel_mappings', '--json']);
    expect(some.code, some.stderr).toBe(0);
    expect(some.json().tables.map((t: { table: string }) => t.table)).toEqual(['questions', 'channel_mappings']);
    const without = await cli(source, ['backup', 'dump', 'without.sql', '--exclude-tables', 'bot_ledger', '--json']);
    expect(without.json().tables.map((t: { table: string }) => t.table)).not.toContain('bot_ledger');
    expect((await cli(source, ['backup', 'dump', 'x.sql', '--tables', 'no_such_table'])).code).toBe(2);

    expect((await cli(source, ['backup', 'dump', 'schema.sql', '--schema-only'])).code).toBe(0);
    expect((await cli(source, ['backup', 'dump', 'data.sql', '--data-only'])).code).toBe(0);
    const schema = readFileSync(join(source.dir, 'schema.sql'), 'utf8');
    const data = readFileSync(join(source.dir, 'data.sql'), 'utf8');
    expect(schema).toMatch(/CREATE TABLE/);
    expect(schema).not.toMatch(/^INSERT INTO/m);
    expect(data).not.toMatch(/^CREATE (TABLE|INDEX)/m);
    expect(data).toMatch(/INSERT INTO "questions"/);

    // schema first, then the data into that schema: the two halves make the whole again
    const target = await database(() => createTestDatabase(mode));
    const r1 = await cli(target, ['backup', 'restore', join(source.dir, 'schema.sql')]);
    expect(r1.code, r1.stderr).toBe(0);
    const r2 = await cli(target, ['backup', 'restore', join(source.dir, 'data.sql')]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(await contents(target)).toEqual(await contents(source));
    // rows are there now: the same data-only restore needs --clean
    expect((await cli(target, ['backup', 'restore', join(source.dir, 'data.sql')])).code).toBe(5);
    const again = await cli(target, ['backup', 'restore', join(source.dir, 'data.sql'), '--clean', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(await contents(target)).toEqual(await contents(source));

    const overwrite = await cli(source, ['backup', 'dump', 'all.sql.gz']);
    expect(overwrite.code).toBe(5);
    expect((await cli(source, ['backup', 'dump', 'all.sql.gz', '--force'])).code).toBe(0);
  });

  it.skipIf(!HAVE_SQLITE3)('restores a sqlite3 .dump, and sqlite3 loads a qbank dump', async () => {
    const source = await database(() => prepareSource(mode, 'open-interview'));
    await addEdgeValues(source);
    const sqlite3Dump = spawnSync('sqlite3', [source.dbPath, '.dump'], { encoding: 'buffer', maxBuffer: 1 << 28 });
    expect(sqlite3Dump.status).toBe(0);
    writeFileSync(join(source.dir, 'sqlite3.sql'), sqlite3Dump.stdout);
    const verify = await cli(source, ['backup', 'verify', 'sqlite3.sql', '--json']);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.json()).toMatchObject({ kind: 'sqlite', ok: true, complete: true });

    const target = await database(() => createTestDatabase(mode));
    const restore = await cli(target, ['backup', 'restore', join(source.dir, 'sqlite3.sql')]);
    expect(restore.code, restore.stderr).toBe(0);
    const expected = await contents(source);
    const actual = await contents(target);
    // sqlite3 3.40 cuts text at NUL and writes Inf as 1e999 overflow text: compare what it can carry
    for (const table of Object.keys(expected).filter((t) => t !== 'edge_values')) expect(actual[table], table).toEqual(expected[table]);

    expect((await cli(source, ['backup', 'dump', 'qbank.sql'])).code).toBe(0);
    const loaded = join(source.dir, 'loaded-by-sqlite3.db');
    const load = spawnSync('sqlite3', [loaded], { input: readFileSync(join(source.dir, 'qbank.sql')), encoding: 'utf8' });
    expect(load.status, load.stderr).toBe(0);
    expect(load.stderr).toBe('');
    const count = spawnSync('sqlite3', [loaded, 'SELECT count(*) FROM questions; SELECT quote(anything) FROM edge_values WHERE label = \'max int\';'], { encoding: 'utf8' });
    expect(count.stdout.trim().split('\n')).toEqual([String((await contents(source)).questions!.length), '9223372036854775807']);
  });

  it('restores the output of GET /dump (what `turso db shell .dump` prints)', async () => {
    const source = await database(() => prepareSource(mode, 'open-interview'));
    const server = source.server ?? (await startLibsqlServer({ dbPath: source.dbPath }));
    try {
      const response = await fetch(`${server.url}/dump`, { headers: source.authToken ? { authorization: `Bearer ${source.authToken}` } : {} });
      expect(response.status).toBe(200);
      writeFileSync(join(source.dir, 'server.sql'), Buffer.from(await response.arrayBuffer()));
    } finally {
      if (!source.server) await server.close();
    }
    const target = await database(() => createTestDatabase(mode));
    const restore = await cli(target, ['backup', 'restore', join(source.dir, 'server.sql'), '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.json().dumpKind).toBe('sqlite');
    expect(await contents(target)).toEqual(await contents(source));
  });

  it('a restore killed mid-way leaves the database as it was', async () => {
    const source = await database(() => prepareSource(mode));
    await addQuestions(source, mode === 'file' ? 60_000 : 15_000);
    expect((await cli(source, ['backup', 'dump', 'big.sql'])).code).toBe(0);

    const target = await database(() => prepareSource(mode));
    await withFile(target, (c) => c.execute("UPDATE questions SET text = 'the state to keep'").then(() => undefined));
    const before = await contents(target);
    const beforeObjects = await objectNames(target);

    const child = spawnCli(['backup', 'restore', join(source.dir, 'big.sql'), '--clean', '--yes'], { cwd: target.dir, env: target.env });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // mid-way: the open transaction has spilled rows into the file (file:), or staging tables hold rows (remote)
    const sizeBefore = statSync(target.dbPath).size;
    const midway =
      mode === 'file'
        ? () => existsSync(`${target.dbPath}-journal`) && statSync(target.dbPath).size > sizeBefore + 4 * 1024 * 1024
        : async () =>
            withFile(target, async (c) => {
              const staged = await c.execute("SELECT name FROM sqlite_schema WHERE name LIKE '\\_\\_qbank\\_restore\\_%\\_answer\\_options' ESCAPE '\\'");
              if (staged.rows.length === 0) return false;
              return Number((await c.execute(`SELECT count(*) FROM "${String(staged.rows[0]![0])}"`)).rows[0]![0]) > 2_000;
            }).catch(() => false);
    const reached = await waitFor(midway, 60_000);
    child.kill('SIGKILL');
    const code = await exited;
    expect(reached, `never saw the restore mid-way; it exited ${code}: ${stderr}`).toBe(true);
    expect(code).toBe(null);

    expect(await contents(target)).toEqual(before);
    if (mode === 'remote') {
      // the real tables are untouched; the next restore removes the staging tables first
      // qbank's lock table (the restore's lease) is new; the rest is as it was
      expect((await objectNames(target)).filter((n) => !n.includes('__qbank_restore_') && !n.includes('__qbank_lock'))).toEqual(beforeObjects);
      const rerun = await cli(target, ['backup', 'restore', join(source.dir, 'big.sql'), '--clean', '--yes', '--json']);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.json().leftoversRemoved.length).toBeGreaterThan(0);
      expect((await objectNames(target)).some((n) => n.includes('__qbank_restore_'))).toBe(false);
      expect(await contents(target)).toEqual(await contents(source));
    } else {
      expect(await objectNames(target)).toEqual(beforeObjects);
    }
  }, 120_000);

  it('a failed dump leaves no file that looks complete', async () => {
    const source = await database(() => prepareSource(mode));
    await withFile(source, (c) => c.execute('CREATE VIRTUAL TABLE notes USING fts5(body)').then(() => undefined)).catch(() => undefined);
    const virtual = await cli(source, ['backup', 'dump', 'v.sql']);
    const hasFts = (await objectNames(source)).includes('table notes');
    if (hasFts) {
      expect(virtual.code).toBe(2);
      expect(virtual.stderr).toMatch(/virtual tables/);
      expect(existsSync(join(source.dir, 'v.sql'))).toBe(false);
    }
    expect(partialFiles(source.dir)).toEqual([]);
  });
});

describe('backup against a failing remote server', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  beforeEach(async () => {
    source = await prepareSource('remote');
    await addQuestions(source, 6_000);
    target = await prepareSource('remote');
  });
  afterEach(async () => {
    await source.close();
    await target.close();
  });

  for (const knob of ['dropOnRequest', 'dropMidResponse', 'failOnRequest'] as const) {
    it(`a dump whose connection fails mid-way (${knob}) exits non-zero and leaves no file`, async () => {
      source.server!.knobs[knob] = 6;
      const result = await runCli(['backup', 'dump', 'cut.sql'], { env: source.env, cwd: source.dir });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/the dump failed and no file was written/);
      expect(existsSync(join(source.dir, 'cut.sql'))).toBe(false);
      expect(partialFiles(source.dir)).toEqual([]);
      // the same dump without the fault succeeds: the fault, not the data, made it fail
      const again = await runCli(['backup', 'dump', 'cut.sql'], { env: source.env, cwd: source.dir });
      expect(again.code, again.stderr).toBe(0);
    });
  }

  it('a dump to standard output that fails has no checksum line', async () => {
    source.server!.knobs.dropOnRequest = 6;
    const result = await runCli(['backup', 'dump', '-'], { env: source.env, cwd: source.dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/incomplete \(it has no checksum line\)/);
    expect(result.stdout).not.toMatch(/qbank-checksum/);
  });

  it('a response lost on the switch itself is settled by looking for the run record', async () => {
    expect((await runCli(['backup', 'dump', 'b.sql'], { env: source.env, cwd: source.dir })).code).toBe(0);
    const probe = await prepareSource('remote');
    try {
      const rehearsal = await runCli(['backup', 'restore', join(source.dir, 'b.sql'), '--clean', '--yes', '--json'], { env: probe.env, cwd: probe.dir });
      expect(rehearsal.code, rehearsal.stderr).toBe(0);
      // the switch is the request before the final count: lose its answer after it ran
      target.server!.knobs.dropMidResponse = rehearsal.json().roundTrips - 1;
      const result = await runCli(['backup', 'restore', join(source.dir, 'b.sql'), '--clean', '--yes'], { env: target.env, cwd: target.dir });
      expect(result.code, result.stderr).toBe(0);
      expect(target.server!.knobs.dropMidResponse).toBe(0);
      // qbank reconnects and reports it applied
      expect(result.stderr).not.toMatch(/unexpected error/);
      expect(result.stderr).toMatch(/reconnected and found it applied/);
      expect(await contents(target)).toEqual(await contents(source));
      expect((await objectNames(target)).some((n) => n.includes('__qbank_restore_'))).toBe(false);
    } finally {
      await probe.close();
    }
  }, 90_000);

  for (const knob of ['dropOnRequest', 'failOnRequest'] as const) {
    it(`a restore whose connection fails mid-way (${knob}) leaves the database as it was`, async () => {
      expect((await runCli(['backup', 'dump', 'b.sql'], { env: source.env, cwd: source.dir })).code).toBe(0);
      const before = await contents(target);
      target.server!.knobs[knob] = 3;
      const result = await runCli(['backup', 'restore', join(source.dir, 'b.sql'), '--clean', '--yes'], { env: target.env, cwd: target.dir });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/the database is as it was/);
      expect(await contents(target)).toEqual(before);
      expect((await objectNames(target)).some((n) => n.includes('__qbank_restore_'))).toBe(false);
    });
  }
});
