// The `GET /dump` answer, in the format of sqld's exporter (a port of the sqlite3 shell's .dump).
import type { ServerResponse } from 'node:http';
import type Database from 'libsql';
import { drained } from './http.js';

/** Writes the dump in chunks of about 64 KB, waiting while the client catches up; `dropMid` cuts the first chunk in half. */
export async function streamDump(res: ServerResponse, db: Database.Database, dropMid: boolean): Promise<void> {
  db.exec('BEGIN');
  const lines = dumpLines(db);
  res.writeHead(200);
  let buffered: string[] = [];
  let size = 0;
  const flush = async () => {
    const chunk = buffered.join('');
    buffered = [];
    size = 0;
    if (dropMid) {
      res.write(chunk.slice(0, Math.ceil(chunk.length / 2)), () => res.destroy());
      return false;
    }
    return res.write(chunk) || (await drained(res));
  };
  for (const line of lines) {
    buffered.push(line);
    size += line.length;
    if (size >= 64 * 1024 && !(await flush())) return;
  }
  if (size > 0 && !(await flush())) return;
  res.end();
}

const SQLITE_KEYWORDS = new Set(
  (
    'ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN BETWEEN BY ' +
    'CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE ' +
    'CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP ' +
    'EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM ' +
    'FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD ' +
    'INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL ' +
    'NULL NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE ' +
    'RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS ' +
    'SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE ' +
    'USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT'
  ).split(' '),
);

function quoteIdentifier(name: string): string {
  if (/^[\p{L}_][\p{L}\p{N}_]*$/u.test(name) && !SQLITE_KEYWORDS.has(name.toUpperCase())) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

function unusedToken(text: string, first: string, second: string): string {
  if (!text.includes(first)) return first;
  if (!text.includes(second)) return second;
  for (let i = 0; ; i++) {
    const candidate = `(${first}${i})`;
    if (!text.includes(candidate)) return candidate;
  }
}

function textLiteral(text: string): string {
  let literal = `'${text.replace(/'/g, "''")}'`;
  if (text.includes('\r')) {
    const token = unusedToken(text, '\\r', '\\015');
    literal = `replace(${literal.replace(/\r/g, token)},'${token}',char(13))`;
  }
  if (text.includes('\n')) {
    const token = unusedToken(text, '\\n', '\\012');
    literal = `replace(${literal.replace(/\n/g, token)},'${token}',char(10))`;
  }
  return literal;
}

function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (value === Infinity) return '1e999';
    if (value === -Infinity) return '-1e999';
    // keep the value REAL when reloaded, even where the column has no affinity
    return Number.isInteger(value) && Math.abs(value) < 1e21 ? `${value}.0` : String(value);
  }
  if (typeof value === 'string') return textLiteral(value);
  if (value instanceof Uint8Array) return `X'${Buffer.from(value).toString('hex')}'`;
  return textLiteral(String(value));
}

function* dumpLines(db: Database.Database): Generator<string> {
  const query = (sql: string, ...params: unknown[]) =>
    db.prepare(sql).safeIntegers(true).raw(true).all(params) as unknown[][];
  yield 'PRAGMA foreign_keys=OFF;\n';
  yield 'BEGIN TRANSACTION;\n';
  let writableSchema = false;
  const tables = query(
    "SELECT name, type, sql FROM sqlite_schema WHERE type == 'table' AND sql NOT NULL ORDER BY tbl_name == 'sqlite_sequence', rowid",
  ) as [string, string, string][];
  for (const [name, , sql] of tables) {
    if (name === 'sqlite_sequence') yield 'DELETE FROM sqlite_sequence;\n';
    else if (name.startsWith('sqlite_stat')) yield 'ANALYZE sqlite_schema;\n';
    else if (name.startsWith('sqlite_')) continue;
    else if (sql.startsWith('CREATE VIRTUAL TABLE')) {
      if (!writableSchema) {
        yield 'PRAGMA writable_schema=ON;\n';
        writableSchema = true;
      }
      const quoted = textLiteral(name);
      yield `INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql) VALUES('table',${quoted},${quoted},0,${textLiteral(sql)});\n`;
      continue;
    } else {
      yield `${sql.startsWith('CREATE TABLE ') ? `CREATE TABLE IF NOT EXISTS ${sql.slice(13)}` : sql};\n`;
    }
    const columns = query('SELECT name FROM pragma_table_info(?)', name).map(([column]) => quoteIdentifier(String(column)));
    if (columns.length === 0) continue;
    const insert = `INSERT INTO ${quoteIdentifier(name)} VALUES(`;
    const select = db.prepare(`SELECT ${columns.join(',')} FROM ${quoteIdentifier(name)}`).safeIntegers(true).raw(true);
    for (const row of select.iterate() as Iterable<unknown[]>) {
      yield `${insert}${row.map(sqlLiteral).join(',')});\n`;
    }
  }
  const others = query("SELECT sql FROM sqlite_schema WHERE sql NOT NULL AND type IN ('index','trigger','view')");
  for (const [sql] of others) yield `${String(sql)};\n`;
  if (writableSchema) yield 'PRAGMA writable_schema=OFF;\n';
  yield 'COMMIT;\n';
}
