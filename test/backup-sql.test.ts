import { createHash } from 'node:crypto';
import { createClient } from '@libsql/client';
import Database from 'libsql';
import { describe, expect, it } from 'vitest';
import { SealedHash } from '../src/db/backup/dump-reader.js';
import { escapeLiteral, pageToLines } from '../src/db/backup/line-breaks.js';
import { IncompleteSqlError, SqlSplitter } from '../src/db/backup/sql-splitter.js';
import { classifyStatement } from '../src/db/backup/statements.js';

function split(text: string, chunkSize = text.length): string[] {
  const statements: string[] = [];
  const splitter = new SqlSplitter((s) => statements.push(s.text));
  for (let i = 0; i < text.length; i += chunkSize) splitter.push(text.slice(i, i + chunkSize));
  splitter.end();
  return statements;
}

const TRICKY = `-- a header comment; with a semicolon
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE "t;1" ("a;" TEXT, [b;c] INT, \`d;\` BLOB); /* block; comment */
INSERT INTO "t;1" VALUES('it''s; -- not a comment',1,X'3B');
INSERT INTO t VALUES('line 1
line 2;
line 3', -2, NULL);;
CREATE TRIGGER trg AFTER INSERT ON "t;1" BEGIN
  UPDATE "t;1" SET "a;" = CASE WHEN new."a;" IS NULL THEN 'x;' ELSE new."a;" END;
  -- END; in a comment
  SELECT 'END;';
END;
CREATE TEMP TRIGGER trg2 BEFORE DELETE ON t BEGIN SELECT 1; END ;
CREATE VIEW v AS SELECT 1 AS "x/*y*/";
COMMIT;
-- qbank-checksum: sha256:0000
`;

const EXPECTED = [
  'PRAGMA foreign_keys=OFF;',
  'BEGIN TRANSACTION;',
  'CREATE TABLE "t;1" ("a;" TEXT, [b;c] INT, `d;` BLOB);',
  `INSERT INTO "t;1" VALUES('it''s; -- not a comment',1,X'3B');`,
  `INSERT INTO t VALUES('line 1\nline 2;\nline 3', -2, NULL);`,
  `CREATE TRIGGER trg AFTER INSERT ON "t;1" BEGIN\n  UPDATE "t;1" SET "a;" = CASE WHEN new."a;" IS NULL THEN 'x;' ELSE new."a;" END;\n  -- END; in a comment\n  SELECT 'END;';\nEND;`,
  'CREATE TEMP TRIGGER trg2 BEFORE DELETE ON t BEGIN SELECT 1; END ;',
  'CREATE VIEW v AS SELECT 1 AS "x/*y*/";',
  'COMMIT;',
];

describe('SqlSplitter', () => {
  it('splits where SQLite does: strings, identifiers, comments and trigger bodies hold semicolons', () => {
    expect(split(TRICKY)).toEqual(EXPECTED);
  });

  it('says on which line each statement starts, whatever the chunk boundaries', () => {
    const expected = [2, 3, 4, 5, 6, 9, 14, 15, 16];
    for (const size of [1, 3, 64, TRICKY.length]) {
      const lines: number[] = [];
      const splitter = new SqlSplitter((s) => lines.push(s.line));
      for (let i = 0; i < TRICKY.length; i += size) splitter.push(TRICKY.slice(i, i + size));
      splitter.end();
      expect(lines, `chunks of ${size}`).toEqual(expected);
    }
  });

  it('gives the same statements whatever the chunk boundaries', () => {
    for (const size of [1, 2, 3, 7, 64]) expect(split(TRICKY, size), `chunks of ${size}`).toEqual(EXPECTED);
  });

  it('agrees with SQLite on what the statements are', () => {
    // SQLite itself runs the whole text; the splitter's statements, each of which SQLite must
    // accept as exactly one statement, are run one by one: both databases end the same
    const state = (db: Database.Database) => ({
      schema: db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").raw(true).all(),
      temp: db.prepare("SELECT type, name, sql FROM sqlite_temp_schema ORDER BY name").raw(true).all(),
      rows: db.prepare('SELECT * FROM t ORDER BY rowid').raw(true).all(),
      quoted: db.prepare('SELECT * FROM "t;1" ORDER BY rowid').raw(true).all(),
    });
    const script = TRICKY.replace('BEGIN TRANSACTION;', 'BEGIN TRANSACTION;\nCREATE TABLE t (a, b, c);');
    const whole = new Database(':memory:');
    const oneByOne = new Database(':memory:');
    try {
      whole.exec(script);
      for (const statement of split(script, 5)) oneByOne.prepare(statement).run();
      expect(state(oneByOne)).toEqual(state(whole));
      expect(state(whole).rows).toEqual([['line 1\nline 2;\nline 3', -2, null]]);
    } finally {
      whole.close();
      oneByOne.close();
    }
  });

  it('copies each character a bounded number of times, however long a statement is', () => {
    const statements: string[] = [];
    const splitter = new SqlSplitter((s) => statements.push(s.text));
    const value = 'ab;'.repeat((8 << 20) / 3);
    const row = `INSERT INTO t VALUES('${value}',X'${'0f'.repeat(1 << 20)}');`;
    const trigger = `CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT '${value}'; END;`;
    const input = `${row}\n${trigger}\nSELECT 1;\n`;
    for (let i = 0; i < input.length; i += 64 << 10) splitter.push(input.slice(i, i + (64 << 10)));
    splitter.end();
    expect(statements.map((s) => s.length)).toEqual([row.length, trigger.length, 'SELECT 1;'.length]);
    expect(statements[0]).toBe(row);
    expect(statements[1]).toBe(trigger);
    expect(splitter.charsCopied).toBeLessThan(4 * input.length);
  });

  it('reports text that stops inside a statement, a string or a trigger', () => {
    expect(() => split('INSERT INTO t VALUES(1);\nINSERT INTO t VALUES(2')).toThrow(IncompleteSqlError);
    expect(() => split("INSERT INTO t VALUES('abc;")).toThrow(IncompleteSqlError);
    expect(() => split('CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1;')).toThrow(IncompleteSqlError);
    expect(split('SELECT 1; -- trailing comment without newline')).toEqual(['SELECT 1;']);
    expect(split('SELECT 1; /* unterminated comment')).toEqual(['SELECT 1;']);
  });
});

describe('classifyStatement', () => {
  it('recognises the statements of qbank, sqlite3 and sqld dumps', () => {
    expect(classifyStatement(`INSERT INTO "a""b" VALUES(1,'x');`)).toMatchObject({ kind: 'insert', table: 'a"b', tableToken: { start: 12, end: 18 }, valuesAt: 25 });
    expect(classifyStatement('INSERT INTO plain VALUES(1);')).toMatchObject({ kind: 'insert', table: 'plain', valuesAt: 24 });
    expect(classifyStatement('INSERT INTO t("a",b) VALUES(1,2),(3,4);')).toMatchObject({ kind: 'insert', table: 't', valuesAt: 27, rows: 2 });
    expect(classifyStatement(`INSERT INTO t VALUES(replace(replace('a\\r\\nb','\\r',char(13)),'\\n',char(10)),1e999,-9.0e+999,(8.9e+307*2),CAST(X'6100' AS TEXT),unistr('\\u000a'),NULL,X'',-0.5,.5);`)).toMatchObject({ kind: 'insert', rows: 1 });
    expect(classifyStatement('INSERT INTO main.t(a,b) VALUES(1,2);')).toMatchObject({ kind: 'other' });
    expect(classifyStatement(`INSERT INTO sqlite_sequence VALUES('it''s',42);`)).toEqual({ kind: 'sequence', table: "it's", seq: 42n });
    expect(classifyStatement(`INSERT INTO "sqlite_sequence" VALUES('t',7);`)).toEqual({ kind: 'sequence', table: 't', seq: 7n });
    expect(classifyStatement('DELETE FROM sqlite_sequence;')).toEqual({ kind: 'sequence-reset' });
    expect(classifyStatement("INSERT INTO sqlite_stat1 VALUES('t','i','10 1');")).toEqual({ kind: 'analyze' });
    expect(classifyStatement('CREATE TABLE IF NOT EXISTS `q` (id)')).toMatchObject({ kind: 'create-table', name: 'q', nameToken: { start: 27, end: 30 } });
    expect(classifyStatement('CREATE UNIQUE INDEX "i" ON [t] (a);')).toMatchObject({ kind: 'create-index', name: 'i', table: 't' });
    expect(classifyStatement('CREATE TRIGGER tr BEFORE UPDATE OF a ON t BEGIN SELECT 1; END;')).toMatchObject({ kind: 'create-trigger', name: 'tr', table: 't' });
    expect(classifyStatement('CREATE VIRTUAL TABLE f USING fts5(x);')).toMatchObject({ kind: 'create-table', virtual: true });
    expect(classifyStatement('PRAGMA writable_schema=ON;')).toMatchObject({ kind: 'pragma', name: 'writable_schema' });
    expect(classifyStatement("DELETE FROM sqlite_sequence WHERE name IN ('a','it''s');")).toEqual({ kind: 'sequence-reset' });
    expect(classifyStatement('CREATE TEMP TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END;')).toMatchObject({ kind: 'other' });
    expect(classifyStatement('CREATE TABLE t AS SELECT 1;')).toMatchObject({ kind: 'other' });
    expect(classifyStatement('BEGIN TRANSACTION;').kind).toBe('begin');
    expect(classifyStatement('COMMIT;').kind).toBe('commit');
    expect(classifyStatement('UPDATE t SET a = 1;').kind).toBe('other');
  });
});

describe('line breaks in dumped values', () => {
  it('escapes them the way sqlite3 does, with a marker the text does not use', async () => {
    expect(escapeLiteral("'a\nb'")).toBe(`replace('a\\nb','\\n',char(10))`);
    expect(escapeLiteral("'a\r\nb'")).toBe(`replace(replace('a\\r\\nb','\\r',char(13)),'\\n',char(10))`);
    expect(escapeLiteral("'has \\n already\n'")).toBe(`replace('has \\n already\\012','\\012',char(10))`);
    const client = createClient({ url: ':memory:' });
    try {
      for (const text of ['a\nb', 'a\r\nb\r', 'has \\n and \\012\nand \\r\\015\r', '\n\n']) {
        const literal = "'" + text.replaceAll("'", "''") + "'";
        const back = await client.execute(`SELECT ${escapeLiteral(literal)}`);
        expect(back.rows[0]![0]).toBe(text);
      }
    } finally {
      client.close();
    }
  });

  it('turns NUL-joined rows into lines, leaving quotes in the prefix alone', () => {
    const prefix = `INSERT INTO "it's" VALUES(`;
    const rows = [`${prefix}1,'a');`, `${prefix}2,'b\nc','d''e');`, `${prefix}3,X'0A');`];
    const page = Buffer.from(rows.join('\u0000'));
    const lines = pageToLines(page, Buffer.byteLength(prefix)).toString();
    expect(lines.split('\n')).toEqual([`${prefix}1,'a');`, `${prefix}2,replace('b\\nc','\\n',char(10)),'d''e');`, `${prefix}3,X'0A');`]);
  });
});

describe('SealedHash', () => {
  it('hashes everything before a final checksum line, in any chunking', () => {
    const body = 'x'.repeat(2000) + '\nCOMMIT;\n';
    const digest = createHash('sha256').update(body).digest('hex');
    const file = Buffer.from(body + `-- qbank-checksum: sha256:${digest}\n`);
    for (const size of [1, 100, 511, 512, 513, file.length]) {
      const hash = new SealedHash();
      for (let i = 0; i < file.length; i += size) hash.update(file.subarray(i, i + size));
      expect(hash.finish()).toEqual({ recorded: digest, computed: digest });
    }
    const extra = new SealedHash();
    extra.update(Buffer.concat([file, Buffer.from('more\n')]));
    expect(extra.finish().recorded).toBeUndefined();
  });
});
