import type { InValue } from '@libsql/client';
import { and, getTableColumns, getTableName, is, SQL, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { SQLiteSyncDialect, type SQLiteColumn, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { RowSnapshot, SqlValue, Statement } from './sql.js';

/**
 * The review's writes and the reads that follow them, written with drizzle's typed builder over the
 * systems' tables in `schema/`, so a renamed column fails to compile. Nothing here runs a statement:
 * `statement()` turns a built one into SQL text and arguments, and `Query<T>` sends a decision, its
 * audit rows and the next read in one batch.
 */
export const build = drizzle.mock();

const dialect = new SQLiteSyncDialect();

/** A built statement (or a `sql` fragment) as the text and arguments a batch takes. */
export function statement(query: SQL | { toSQL(): { sql: string; params: unknown[] } }): Statement {
  const { sql: text, params } = is(query, SQL) ? dialect.sqlToQuery(query) : query.toSQL();
  return { sql: text, args: params as InValue[] };
}

/** The table's columns by their SQL name, with the key the builder knows them by. */
function columnsByName(table: SQLiteTable): Map<string, { key: string; column: SQLiteColumn }> {
  return new Map(Object.entries(getTableColumns(table)).map(([key, column]) => [column.name, { key, column: column as SQLiteColumn }]));
}

/**
 * True only while no column of the row differs from the snapshot it was shown in (`IS`: NULLs
 * compare equal). A column the schema does not know (a live table may have more) is compared by name.
 */
export function asShown(table: SQLiteTable, snapshot: RowSnapshot): SQL {
  const columns = columnsByName(table);
  const conditions = Object.entries(snapshot).map(([name, value]) => sql`${columns.get(name)?.column ?? sql.identifier(name)} IS ${value}`);
  return conditions.length > 0 ? and(...conditions)! : sql`1`;
}

/**
 * Values by SQL column name (a snapshot's, an edited field's) as the builder's `set()`: stored as they
 * are, not through a column's mode (they were read from the row, or are stored text already). A
 * column the builder would stamp on every update (`$onUpdate`) keeps its value unless named, so the
 * write changes exactly the columns it names.
 */
export function storedValues(table: SQLiteTable, values: RowSnapshot): Record<string, SQL> {
  const columns = columnsByName(table);
  const set: Record<string, SQL> = {};
  for (const [name, { key, column }] of columns) {
    if (Object.hasOwn(values, name)) set[key] = sql`${values[name] as SqlValue}`;
    else if (column.onUpdateFn) set[key] = sql`${sql.identifier(name)}`;
  }
  const unknown = Object.keys(values).filter((name) => !columns.has(name));
  if (unknown.length > 0) throw new Error(`no column ${unknown.join(', ')} in the schema's ${getTableName(table)}`);
  return set;
}

type InsertValues<T extends SQLiteTable> = { [K in keyof T['$inferInsert']]?: T['$inferInsert'][K] | SQL | null };

/**
 * `INSERT … SELECT … WHERE changes() = 1`: the row goes in only if the statement just before it in
 * the same transaction changed one row, so an audit row exists if and only if its change was made.
 */
export function insertIfChanged<T extends SQLiteTable>(table: T, values: InsertValues<T>): Statement {
  const columns = getTableColumns(table) as Record<string, SQLiteColumn>;
  const keys = Object.keys(values).filter((key) => (values as Record<string, unknown>)[key] !== undefined);
  const names = sql.join(keys.map((key) => sql.identifier(columns[key]!.name)), sql`, `);
  const selected = sql.join(
    keys.map((key) => {
      const value = (values as Record<string, unknown>)[key];
      return is(value, SQL) ? value : sql`${value}`;
    }),
    sql`, `,
  );
  return statement(sql`INSERT INTO ${table} (${names}) SELECT ${selected} WHERE changes() = 1`);
}
