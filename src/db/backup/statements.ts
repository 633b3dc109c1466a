import { identifierValue, readToken, type Token } from './sql-splitter.js';

/**
 * What a dump statement does, as far as restoring needs to know. Dumps from qbank, `sqlite3 .dump`
 * and sqld's `GET /dump` (which `turso db shell .dump` prints) use the same small vocabulary.
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
  | { kind: 'other'; head: string };

export interface Insert {
  kind: 'insert';
  table: string;
  tableToken: Span;
  /** Offset of the `(` after VALUES when the statement is a plain `INSERT INTO t[(cols)] VALUES(...);`. */
  valuesAt: number;
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

/** Reads `name` or `schema.name`; returns the name and the span covering both parts. */
function readQualifiedName(text: string, pos: number): { name: string; span: Span; next: number } | undefined {
  const first = readToken(text, pos);
  if (first.kind !== 'word' && first.kind !== 'quoted' && first.kind !== 'string') return undefined;
  const dot = readToken(text, first.end);
  if (dot.kind === 'punct' && dot.raw === '.') {
    const second = readToken(text, dot.end);
    if (second.kind === 'word' || second.kind === 'quoted' || second.kind === 'string') {
      return { name: identifierValue(second), span: { start: first.start, end: second.end }, next: second.end };
    }
  }
  return { name: identifierValue(first), span: { start: first.start, end: first.end }, next: first.end };
}

const INSERT_PREFIX = 'INSERT INTO ';
const BARE_NAME = /[A-Za-z_][A-Za-z0-9_$]*/y;

/**
 * The common cases, `INSERT INTO "t" VALUES(` (qbank, sqld) and `INSERT INTO t VALUES(` (sqlite3),
 * without the general tokenizer: a restore classifies millions of these.
 */
function fastInsert(text: string): Insert | undefined {
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
  const span = { start, end: after };
  if (text.startsWith(' VALUES(', after)) return { kind: 'insert', table: name, tableToken: span, valuesAt: after + 7 };
  if (text.startsWith('VALUES(', after)) return { kind: 'insert', table: name, tableToken: span, valuesAt: after + 6 };
  return undefined;
}

function classifyInsert(text: string, afterInsert: number): DumpStatement {
  let token = readToken(text, afterInsert);
  if (word(token) === 'OR') {
    token = readToken(text, readToken(text, token.end).end);
  }
  if (word(token) !== 'INTO') return { kind: 'other', head: 'INSERT' };
  const target = readQualifiedName(text, token.end);
  if (!target) return { kind: 'other', head: 'INSERT' };
  const lower = target.name.toLowerCase();
  if (lower === SEQUENCE_TABLE) return sequenceRow(text, target.next);
  if (lower.startsWith('sqlite_stat')) return { kind: 'analyze' };
  let next = readToken(text, target.next);
  if (next.kind === 'punct' && next.raw === '(') {
    // a column list: skip to its closing parenthesis
    let depth = 1;
    let pos = next.end;
    while (depth > 0) {
      const t = readToken(text, pos);
      if (t.kind === 'end') return { kind: 'other', head: 'INSERT' };
      if (t.kind === 'punct' && t.raw === '(') depth++;
      if (t.kind === 'punct' && t.raw === ')') depth--;
      pos = t.end;
    }
    next = readToken(text, pos);
  }
  let valuesAt = -1;
  if (word(next) === 'VALUES') {
    const open = readToken(text, next.end);
    if (open.kind === 'punct' && open.raw === '(') valuesAt = open.start;
  }
  return { kind: 'insert', table: target.name, tableToken: target.span, valuesAt };
}

/** `INSERT INTO sqlite_sequence VALUES('t',42);` as both sqlite3 and qbank write it. */
function sequenceRow(text: string, pos: number): DumpStatement {
  const match = /^\s*VALUES\s*\(\s*'((?:[^']|'')*)'\s*,\s*(-?\d+)\s*\)\s*;\s*$/i.exec(text.slice(pos));
  if (!match) return { kind: 'other', head: 'INSERT INTO sqlite_sequence' };
  return { kind: 'sequence', table: match[1]!.replaceAll("''", "'"), seq: BigInt(match[2]!) };
}

export function classifyStatement(text: string): DumpStatement {
  const fast = fastInsert(text);
  if (fast) {
    const lower = fast.table.toLowerCase();
    if (lower !== SEQUENCE_TABLE && !lower.startsWith('sqlite_')) return fast;
  }
  const first = readToken(text, 0);
  switch (word(first)) {
    case 'INSERT':
      return classifyInsert(text, first.end);
    case 'REPLACE':
      return { kind: 'other', head: 'REPLACE' };
    case 'BEGIN':
      return { kind: 'begin' };
    case 'COMMIT':
    case 'END':
      return { kind: 'commit' };
    case 'ROLLBACK':
      return { kind: 'rollback' };
    case 'ANALYZE':
      return { kind: 'analyze' };
    case 'PRAGMA': {
      const name = readQualifiedName(text, first.end);
      const rest = name ? text.slice(name.next).replace(/[\s;=()]+/g, ' ').trim() : '';
      return { kind: 'pragma', name: name?.name.toLowerCase() ?? '', value: rest.toLowerCase() };
    }
    case 'DELETE': {
      const from = readToken(text, first.end);
      const target = word(from) === 'FROM' ? readQualifiedName(text, from.end) : undefined;
      if (target?.name.toLowerCase() === SEQUENCE_TABLE) return { kind: 'sequence-reset' };
      return { kind: 'other', head: 'DELETE' };
    }
    case 'CREATE':
      return classifyCreate(text, first.end);
    default:
      return { kind: 'other', head: text.slice(0, 40).replace(/\s+/g, ' ') };
  }
}

function classifyCreate(text: string, pos: number): DumpStatement {
  let token = readToken(text, pos);
  if (word(token) === 'TEMP' || word(token) === 'TEMPORARY') token = readToken(text, token.end);
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
  if (!name) return { kind: 'other', head: `CREATE ${what}` };
  if (what === 'TABLE' && !unique) return { kind: 'create-table', name: name.name, nameToken: name.span, virtual };
  if (what === 'VIEW') return { kind: 'create-view', name: name.name };
  if (what === 'INDEX' || what === 'TRIGGER') {
    // the table follows the first top-level ON
    let p = name.next;
    for (let guard = 0; guard < 10_000; guard++) {
      const t = readToken(text, p);
      if (t.kind === 'end') break;
      p = t.end;
      if (word(t) === 'ON') {
        const table = readQualifiedName(text, p);
        if (!table) break;
        if (what === 'INDEX') return { kind: 'create-index', name: name.name, table: table.name, tableToken: table.span };
        return { kind: 'create-trigger', name: name.name, table: table.name };
      }
    }
  }
  return { kind: 'other', head: `CREATE ${what}` };
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
