import { checkValueTuples } from './literals.js';
import { identifierValue, readToken, type Token } from './sql-splitter.js';

/**
 * What a dump statement does, as far as restoring needs to know. Dumps from qbank, `sqlite3 .dump`
 * and sqld's `GET /dump` (which `turso db shell .dump` prints) use the same small vocabulary, and
 * a dump is data: anything outside that vocabulary (TEMP objects, expressions in rows, INSERT …
 * SELECT, RETURNING, CREATE TABLE … AS SELECT, other statements) is `other`, with the reason, and
 * is never executed.
 */
export type DumpStatement =
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'pragma'; name: string; value: string }
  | { kind: 'create-table'; name: string; nameToken: Span; virtual: boolean }
  | { kind: 'create-index'; name: string; table: string; tableToken: Span }
  | { kind: 'create-view'; name: string }
  | { kind: 'create-trigger'; name: string; table: string }
  | Insert
  | { kind: 'sequence-reset' }
  | { kind: 'sequence'; table: string; seq: bigint }
  | { kind: 'analyze' }
  | { kind: 'other'; head: string; reason?: string };

export interface Insert {
  kind: 'insert';
  table: string;
  tableToken: Span;
  /** Offset of the `(` after VALUES. */
  valuesAt: number;
  /** Rows (tuples) the statement inserts. */
  rows: number;
}

export interface Span {
  start: number;
  end: number;
}

/** Tables that only SQLite writes, and that a restore handles itself or leaves alone. */
export const SEQUENCE_TABLE = 'sqlite_sequence';

function word(token: Token): string {
  return token.kind === 'word' ? token.raw.toUpperCase() : '';
}

function isPunct(token: Token, raw: string): boolean {
  return token.kind === 'punct' && token.raw === raw;
}

/** Reads a name; `schema.name` is read too, and marked, because a dump never qualifies names (`temp.x` would be a TEMP object). */
function readQualifiedName(text: string, pos: number): { name: string; span: Span; next: number; qualified: boolean } | undefined {
  const first = readToken(text, pos);
  if (first.kind !== 'word' && first.kind !== 'quoted' && first.kind !== 'string') return undefined;
  const dot = readToken(text, first.end);
  if (isPunct(dot, '.')) {
    const second = readToken(text, dot.end);
    if (second.kind === 'word' || second.kind === 'quoted' || second.kind === 'string') {
      return { name: identifierValue(second), span: { start: first.start, end: second.end }, next: second.end, qualified: true };
    }
  }
  return { name: identifierValue(first), span: { start: first.start, end: first.end }, next: first.end, qualified: false };
}

const INSERT_PREFIX = 'INSERT INTO ';
const BARE_NAME = /[A-Za-z_][A-Za-z0-9_$]*/y;

function other(head: string, reason?: string): DumpStatement {
  return { kind: 'other', head, reason };
}

function insertWithValues(table: string, tableToken: Span, text: string, valuesAt: number): DumpStatement {
  const checked = checkValueTuples(text, valuesAt);
  if ('problem' in checked) return other(`INSERT INTO ${table}`, checked.problem);
  return { kind: 'insert', table, tableToken, valuesAt, rows: checked.rows };
}

/**
 * The common cases, `INSERT INTO "t" VALUES(` (qbank, sqld) and `INSERT INTO t VALUES(` (sqlite3),
 * without the general tokenizer: a restore classifies millions of these.
 */
function fastInsert(text: string): DumpStatement | undefined {
  if (!text.startsWith(INSERT_PREFIX)) return undefined;
  const start = INSERT_PREFIX.length;
  let name: string;
  let after: number;
  if (text.charCodeAt(start) === 34) {
    let j = start + 1;
    let close: number;
    for (;;) {
      close = text.indexOf('"', j);
      if (close < 0) return undefined;
      if (text.charCodeAt(close + 1) !== 34) break;
      j = close + 2;
    }
    name = text.slice(start + 1, close).replaceAll('""', '"');
    after = close + 1;
  } else {
    BARE_NAME.lastIndex = start;
    const match = BARE_NAME.exec(text);
    if (!match) return undefined;
    name = match[0];
    after = start + name.length;
  }
  if (name.toLowerCase().startsWith('sqlite_')) return undefined;
  const span = { start, end: after };
  if (text.startsWith(' VALUES(', after)) return insertWithValues(name, span, text, after + 7);
  if (text.startsWith('VALUES(', after)) return insertWithValues(name, span, text, after + 6);
  return undefined;
}

function classifyInsert(text: string, afterInsert: number): DumpStatement {
  const token = readToken(text, afterInsert);
  if (word(token) === 'OR') return other('INSERT OR …', 'only plain INSERT INTO … VALUES belongs in a dump');
  if (word(token) !== 'INTO') return other('INSERT');
  const target = readQualifiedName(text, token.end);
  if (!target) return other('INSERT INTO');
  if (target.qualified) return other(`INSERT INTO ${text.slice(target.span.start, target.span.end)}`, 'a dump never names a schema');
  const lower = target.name.toLowerCase();
  if (lower === SEQUENCE_TABLE) return sequenceRow(text, target.next);
  let next = readToken(text, target.next);
  if (isPunct(next, '(')) {
    // a column list: names separated by commas, nothing else
    for (;;) {
      const column = readToken(text, next.end);
      if (column.kind !== 'word' && column.kind !== 'quoted') return other(`INSERT INTO ${target.name}`, 'its column list holds something other than names');
      next = readToken(text, column.end);
      if (isPunct(next, ',')) continue;
      if (isPunct(next, ')')) break;
      return other(`INSERT INTO ${target.name}`, 'its column list holds something other than names');
    }
    next = readToken(text, next.end);
  }
  if (word(next) !== 'VALUES') return other(`INSERT INTO ${target.name}`, 'only INSERT … VALUES(…) belongs in a dump (not SELECT or DEFAULT VALUES)');
  const open = readToken(text, next.end);
  const statement = insertWithValues(target.name, target.span, text, open.start);
  if (statement.kind === 'insert' && lower.startsWith('sqlite_stat')) return { kind: 'analyze' };
  if (statement.kind === 'insert' && lower.startsWith('sqlite_')) return other(`INSERT INTO ${target.name}`, 'a table only SQLite writes');
  return statement;
}

/** `INSERT INTO sqlite_sequence VALUES('t',42);` as both sqlite3 and qbank write it. */
function sequenceRow(text: string, pos: number): DumpStatement {
  const match = /^\s*VALUES\s*\(\s*'((?:[^']|'')*)'\s*,\s*(-?\d+)\s*\)\s*;\s*$/i.exec(text.slice(pos));
  if (!match) return other('INSERT INTO sqlite_sequence', "only VALUES('table', number) is accepted");
  return { kind: 'sequence', table: match[1]!.replaceAll("''", "'"), seq: BigInt(match[2]!) };
}

const BEGIN = /^BEGIN(?:\s+TRANSACTION)?\s*;\s*$/i;
const COMMIT = /^(?:COMMIT|END)(?:\s+TRANSACTION)?\s*;\s*$/i;
const ROLLBACK = /^ROLLBACK(?:\s+TRANSACTION)?\s*;\s*$/i;
const ANALYZE = /^ANALYZE\s+(?:sqlite_schema|sqlite_master)\s*;\s*$/i;
/** `DELETE FROM sqlite_sequence;` (sqlite3, sqld) and `DELETE FROM sqlite_sequence WHERE name IN ('a','b');` (qbank). */
const SEQUENCE_RESET = /^DELETE\s+FROM\s+(?:sqlite_sequence|"sqlite_sequence")(?:\s+WHERE\s+name\s+IN\s*\(\s*'(?:[^']|'')*'(?:\s*,\s*'(?:[^']|'')*')*\s*\))?\s*;\s*$/i;
const PRAGMA = /^PRAGMA\s+([A-Za-z_]+)\s*=\s*([A-Za-z0-9_]+)\s*;\s*$/i;

export function classifyStatement(text: string): DumpStatement {
  const fast = fastInsert(text);
  if (fast) return fast;
  const first = readToken(text, 0);
  switch (word(first)) {
    case 'INSERT':
      return classifyInsert(text, first.end);
    case 'BEGIN':
      return BEGIN.test(text) ? { kind: 'begin' } : other('BEGIN …', 'only BEGIN TRANSACTION; opens a dump');
    case 'COMMIT':
    case 'END':
      return COMMIT.test(text) ? { kind: 'commit' } : other(word(first));
    case 'ROLLBACK':
      return ROLLBACK.test(text) ? { kind: 'rollback' } : other('ROLLBACK …');
    case 'ANALYZE':
      return ANALYZE.test(text) ? { kind: 'analyze' } : other('ANALYZE …');
    case 'PRAGMA': {
      const match = PRAGMA.exec(text);
      if (!match) return other('PRAGMA …', 'only PRAGMA foreign_keys=OFF; belongs in a dump');
      return { kind: 'pragma', name: match[1]!.toLowerCase(), value: match[2]!.toLowerCase() };
    }
    case 'DELETE':
      return SEQUENCE_RESET.test(text) ? { kind: 'sequence-reset' } : other('DELETE …', 'a dump deletes nothing but sqlite_sequence rows');
    case 'CREATE':
      return classifyCreate(text, first.end);
    default:
      return other(text.slice(0, 40).replace(/\s+/g, ' '));
  }
}

function classifyCreate(text: string, pos: number): DumpStatement {
  let token = readToken(text, pos);
  if (word(token) === 'TEMP' || word(token) === 'TEMPORARY') {
    const what = word(readToken(text, token.end));
    return other(`CREATE ${word(token)} ${what}`, 'a TEMP object is no part of a database; a dump never holds one');
  }
  let unique = false;
  if (word(token) === 'UNIQUE') {
    unique = true;
    token = readToken(text, token.end);
  }
  let virtual = false;
  if (word(token) === 'VIRTUAL') {
    virtual = true;
    token = readToken(text, token.end);
  }
  const what = word(token);
  let next = token.end;
  const ifNotExists = readToken(text, next);
  if (word(ifNotExists) === 'IF') next = readToken(text, readToken(text, ifNotExists.end).end).end;
  const name = readQualifiedName(text, next);
  if (!name) return other(`CREATE ${what}`);
  if (name.qualified) return other(`CREATE ${what} ${text.slice(name.span.start, name.span.end)}`, 'a dump never names a schema (temp.x would be a TEMP object)');
  if (what === 'TABLE' && !unique) {
    const body = readToken(text, name.next);
    if (!virtual && !isPunct(body, '(')) return other(`CREATE TABLE ${name.name}`, 'only CREATE TABLE name (columns…) belongs in a dump (not CREATE TABLE … AS SELECT)');
    return { kind: 'create-table', name: name.name, nameToken: name.span, virtual };
  }
  if (what === 'VIEW' && !unique && !virtual) return { kind: 'create-view', name: name.name };
  if ((what === 'INDEX' && !virtual) || (what === 'TRIGGER' && !unique && !virtual)) {
    // the table follows the first top-level ON
    let p = name.next;
    for (let guard = 0; guard < 10_000; guard++) {
      const t = readToken(text, p);
      if (t.kind === 'end') break;
      p = t.end;
      if (word(t) === 'ON') {
        const table = readQualifiedName(text, p);
        if (!table) break;
        if (table.qualified) return other(`CREATE ${what} ${name.name} ON ${text.slice(table.span.start, table.span.end)}`, 'a dump never names a schema');
        if (what === 'INDEX') return { kind: 'create-index', name: name.name, table: table.name, tableToken: table.span };
        return { kind: 'create-trigger', name: name.name, table: table.name };
      }
    }
  }
  return other(`CREATE ${what}`);
}

/** `"name"` with embedded quotes doubled: the form SQLite itself writes when it renames a table. */
export function quoteName(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

/** The SQL text with the span replaced. */
export function replaceSpan(text: string, span: Span, replacement: string): string {
  return text.slice(0, span.start) + replacement + text.slice(span.end);
}

/** Whether a restore loads `statement`, given the lower-case names of the tables and views it restores. */
export function isSelected(statement: DumpStatement, tableNames: ReadonlySet<string>, viewNames: ReadonlySet<string>): boolean {
  switch (statement.kind) {
    case 'create-table':
    case 'insert':
      return tableNames.has((statement.kind === 'insert' ? statement.table : statement.name).toLowerCase());
    case 'create-index':
    case 'create-trigger':
      return tableNames.has(statement.table.toLowerCase()) || viewNames.has(statement.table.toLowerCase());
    case 'create-view':
      return viewNames.has(statement.name.toLowerCase());
    default:
      return false;
  }
}
