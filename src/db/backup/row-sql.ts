import { isUtf8 } from 'node:buffer';
import type { InValue } from '@libsql/client';
import { blobBytes, quoteIdent } from '../client.js';
import { quoteName } from './statements.js';

/**
 * How a table's rows become INSERT statements: rendered inside SQLite, a page at a time, as one
 * NUL-joined blob per page (see `rowSql`), and how such a page is read back.
 */

export interface ColumnInfo {
  name: string;
  /** The declared type, which decides the column's affinity. */
  type: string;
  hidden: number;
  pk: number;
}

/** SQLite's affinity rules, in their order: a TEXT column holds only NULL, TEXT or BLOB values. */
export function hasTextAffinity(declared: string): boolean {
  const upper = declared.toUpperCase();
  return !upper.includes('INT') && (upper.includes('CHAR') || upper.includes('CLOB') || upper.includes('TEXT'));
}

export interface TablePlan {
  name: string;
  createSql: string;
  columns: ColumnInfo[];
  /** SQL expressions that order the table and page it by keyset: the rowid, or the primary key. */
  key: string[];
  rowid: boolean;
  rows: number;
}

export function sqlLiteral(text: string): string {
  return "'" + text.replaceAll("'", "''") + "'";
}

/** `a || b || c ...` as a balanced tree: SQLite limits expression depth, and wide tables are real. */
function concatTree(parts: string[]): string {
  if (parts.length <= 16) return parts.join(' || ');
  const mid = parts.length >> 1;
  return `(${concatTree(parts.slice(0, mid))}) || (${concatTree(parts.slice(mid))})`;
}

function chunked<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/**
 * SQL that renders one row as its INSERT statement inside SQLite, where `quote()` and printf's
 * `%Q` do the work in C: that is what keeps a dump near `sqlite3 .dump`'s speed through a client
 * that would otherwise cross into JavaScript for every value. The fast form is exact for
 * integers, blobs, NULL, finite floats and text without NUL. A row it would get wrong (text with
 * a NUL, which both stop at; a blob in a TEXT column, which %Q would turn into text) renders as
 * NULL, and pages with such rows, with ±Infinity (which quote() spells Inf) or with floats near
 * the top of the range (which SQLite's parser reads back as Infinity) are read again in the exact
 * (slow) form.
 */
export function rowSql(table: string, columns: ColumnInfo[], sqliteVersion: string): { prefix: string; fast: string; slow: (hexText: boolean) => string } {
  const stored = columns.filter((c) => c.hidden === 0);
  const columnList = stored.length < columns.length ? `(${stored.map((c) => quoteIdent(c.name)).join(',')})` : '';
  const prefix = `INSERT INTO ${quoteName(table)}${columnList} VALUES(`;
  const refs = stored.map((c) => quoteIdent(c.name));
  if (refs.length === 0) return { prefix, fast: sqlLiteral(prefix + ');'), slow: () => sqlLiteral(prefix + ');') };
  // %Q quotes a text value in one step; only TEXT-affinity columns (NULL, TEXT or BLOB) can take it
  const textual = stored.map((c) => hasTextAffinity(c.type));
  const format = (index: number) => (textual[index] ? '%Q' : '%s');
  const arg = (index: number) => (textual[index] ? refs[index]! : `quote(${refs[index]})`);
  const indexes = refs.map((_, i) => i);
  const groups = chunked(indexes, 100);
  const fastBody =
    groups.length === 1
      ? `printf(${sqlLiteral(prefix.replaceAll('%', '%%') + indexes.map(format).join(',') + ');')}, ${indexes.map(arg).join(', ')})`
      : concatTree([
          sqlLiteral(prefix),
          ...groups.flatMap((group, i) => [...(i > 0 ? ["','"] : []), `printf(${sqlLiteral(group.map(format).join(','))}, ${group.map(arg).join(', ')})`]),
          "');'",
        ]);

  const slowValue = (ref: string, hexText: boolean) => {
    const hex = `'CAST(X''' || hex(${ref}) || ''' AS TEXT)'`;
    const text = hexText ? hex : `CASE WHEN instr(${ref}, char(0)) > 0 THEN ${hex} ELSE quote(${ref}) END`;
    const real = `CASE WHEN +${ref} = 9e999 THEN '9.0e+999' WHEN +${ref} = -9e999 THEN '-9.0e+999' WHEN abs(+${ref}) > 1e308 THEN '(' || quote(${ref} / 2) || '*2)' ELSE quote(${ref}) END`;
    return `CASE typeof(${ref}) WHEN 'text' THEN ${text} WHEN 'real' THEN ${real} ELSE quote(${ref}) END`;
  };
  const slow = (hexText: boolean) => concatTree([sqlLiteral(prefix), ...refs.flatMap((ref, i) => [...(i > 0 ? ["','"] : []), slowValue(ref, hexText)]), "');'"]);

  const joined = versionAtLeast(sqliteVersion, 3, 44)
    ? groups.length === 1
      ? `concat(${refs.join(', ')})`
      : `concat(${groups.map((g) => `concat(${g.map((i) => refs[i]).join(', ')})`).join(', ')})`
    : concatTree(refs.map((r) => `ifnull(${r}, '')`));
  const blobGuards = refs.filter((_, i) => textual[i]).map((ref) => ` OR typeof(${ref}) = 'blob'`);
  // NULL leaves the row out of the page (group_concat skips it); the page is then read again exactly
  const fast = `CASE WHEN instr(${joined}, char(0)) > 0${blobGuards.join('')} THEN NULL ELSE ${fastBody} END`;
  return { prefix, fast, slow };
}

export const SPECIAL_REAL_MARKS = [',Inf', '(Inf', '-Inf', 'e+308'];

export function pageNeedsSlowForm(page: Page): 'hex-text' | 'exact' | undefined {
  if (!isUtf8(page.text)) return 'hex-text';
  for (const mark of SPECIAL_REAL_MARKS) if (page.text.includes(mark)) return 'exact';
  return undefined;
}

export function isTooBig(error: unknown): boolean {
  const text = `${(error as { code?: string })?.code ?? ''} ${(error as Error)?.message ?? ''}`;
  return /TOOBIG|too big|RESPONSE_TOO_LARGE|too large/i.test(text);
}

function toBuffer(value: unknown): Buffer {
  if (value === null || value === undefined) return Buffer.alloc(0);
  return blobBytes(value) ?? Buffer.from(String(value), 'utf8');
}

export interface Page {
  rows: number;
  rendered: number;
  last: InValue[];
  text: Buffer;
  prefixBytes: number;
}

export interface PageQuery {
  sql: string;
  prefixBytes: number;
}

/** The query that renders up to `limit` rows of a table after a key (or from the start) as one NUL-joined blob. */
export function pageQueries(sqliteVersion: string): (table: TablePlan, form: 'fast' | 'exact' | 'hex-text', hasAfter: boolean) => PageQuery {
  const cache = new Map<string, PageQuery>();
  return (table, form, hasAfter) => {
    const cacheKey = `${table.name}\u0000${form}\u0000${hasAfter ? 'next' : 'first'}`;
    let query = cache.get(cacheKey);
    if (!query) {
      const lines = rowSql(table.name, table.columns, sqliteVersion);
      const line = form === 'fast' ? lines.fast : lines.slow(form === 'hex-text');
      const from = quoteIdent(table.name);
      const order = table.key.join(', ');
      const where = hasAfter ? `WHERE ${table.key.length === 1 ? table.key[0] : `(${order})`} > ${table.key.length === 1 ? '?' : `(${table.key.map(() => '?').join(', ')})`} ` : '';
      // aliases no column can have: ORDER BY would take a result alias before a column of the same name
      const keys = table.key.map((k, i) => `${k} AS __qbank_k${i}`).join(', ');
      // rows are joined by NUL, which no rendered row contains, so line breaks inside values stay recognisable
      const sql = table.rowid
        ? `SELECT count(*), count(__qbank_line), max(__qbank_k0), CAST(group_concat(__qbank_line, char(0)) AS BLOB) FROM (SELECT ${keys}, ${line} AS __qbank_line FROM ${from} ${where}ORDER BY ${order} LIMIT ?)`
        : `SELECT count(*), count(__qbank_line), max(__qbank_rn), ${table.key.map((_, i) => `__qbank_k${i}`).join(', ')}, CAST(group_concat(__qbank_line, char(0)) AS BLOB) FROM (SELECT row_number() OVER (ORDER BY ${order}) AS __qbank_rn, ${keys}, ${line} AS __qbank_line FROM ${from} ${where}ORDER BY ${order} LIMIT ?)`;
      query = { sql, prefixBytes: Buffer.byteLength(lines.prefix) };
      cache.set(cacheKey, query);
    }
    return query;
  };
}

export function parsePage(table: TablePlan, row: unknown[], prefixBytes: number): Page {
  return {
    rows: Number(row[0] as bigint),
    rendered: Number(row[1] as bigint),
    last: table.rowid ? [row[2] as InValue] : table.key.map((_, i) => row[3 + i] as InValue),
    text: toBuffer(row[row.length - 1]),
    prefixBytes,
  };
}

