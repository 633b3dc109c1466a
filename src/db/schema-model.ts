import { is, SQL } from 'drizzle-orm';
import { getTableConfig, SQLiteBaseInteger, SQLiteSyncDialect, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { quoteIdent } from './client.js';

/**
 * A database schema reduced to what decides whether two databases are the same: built from the
 * Drizzle definitions (what should be) and from the live database's catalogue (what is).
 */
export interface ColumnModel {
  name: string;
  type: string;
  notNull: boolean;
  /** The default as SQL text, exactly as SQLite stores it in the catalogue; null when none. */
  defaultSql: string | null;
  /** Position in the primary key, 0 when not part of it. */
  primaryKey: number;
  autoIncrement: boolean;
}

export interface IndexModel {
  name: string;
  columns: string[];
  unique: boolean;
  where: string | null;
  /** The CREATE INDEX text from the catalogue (live indexes only). */
  sql?: string | null;
}

export interface ForeignKeyModel {
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface TableModel {
  name: string;
  columns: ColumnModel[];
  indexes: IndexModel[];
  foreignKeys: ForeignKeyModel[];
}

export type SchemaModel = Map<string, TableModel>;

const dialect = new SQLiteSyncDialect();

function sqlText(value: SQL): string {
  return dialect.sqlToQuery(value, 'indexes').sql;
}

function defaultToSql(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (is(value, SQL)) return sqlText(value);
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return String(Math.floor(value.getTime() / 1000));
  return `'${JSON.stringify(value).replace(/'/g, "''")}'`;
}

function normaliseAction(action: string | undefined): string {
  return (action ?? 'no action').toLowerCase();
}

/** The schema as the Drizzle definitions describe it. Column-level `.unique()` becomes `<table>_<column>_unique`, as drizzle-kit names it. */
export function modelFromDrizzle(tables: Record<string, SQLiteTable>): SchemaModel {
  const model: SchemaModel = new Map();
  for (const table of Object.values(tables)) {
    const config = getTableConfig(table);
    const compositePk = config.primaryKeys[0]?.columns.map((c) => c.name) ?? [];
    const columns: ColumnModel[] = config.columns.map((column) => ({
      name: column.name,
      type: column.getSQLType().toUpperCase(),
      notNull: column.notNull || column.primary,
      defaultSql: defaultToSql(column.default),
      primaryKey: column.primary ? 1 : compositePk.indexOf(column.name) + 1,
      autoIncrement: is(column, SQLiteBaseInteger) ? Boolean((column as unknown as { autoIncrement: boolean }).autoIncrement) : false,
    }));
    const indexes: IndexModel[] = [];
    for (const column of config.columns) {
      if (column.isUnique) {
        indexes.push({ name: column.uniqueName ?? `${config.name}_${column.name}_unique`, columns: [column.name], unique: true, where: null });
      }
    }
    for (const unique of config.uniqueConstraints) {
      indexes.push({ name: unique.getName() ?? `${config.name}_${unique.columns.map((c) => c.name).join('_')}_unique`, columns: unique.columns.map((c) => c.name), unique: true, where: null });
    }
    for (const index of config.indexes) {
      indexes.push({
        name: index.config.name,
        columns: index.config.columns.map((c) => (is(c, SQL) ? sqlText(c) : (c as { name: string }).name)),
        unique: Boolean(index.config.unique),
        where: index.config.where ? sqlText(index.config.where) : null,
      });
    }
    const foreignKeys: ForeignKeyModel[] = config.foreignKeys.map((fk) => {
      const reference = fk.reference();
      return {
        columns: reference.columns.map((c) => c.name),
        refTable: getTableConfig(reference.foreignTable).name,
        refColumns: reference.foreignColumns.map((c) => c.name),
        onDelete: normaliseAction(fk.onDelete),
        onUpdate: normaliseAction(fk.onUpdate),
      };
    });
    model.set(config.name, { name: config.name, columns, indexes, foreignKeys });
  }
  return model;
}

/** The CREATE TABLE statement for a table model, in drizzle-kit's layout so pushed and migrated databases match. */
export function createTableSql(table: TableModel, name = table.name): string {
  const pkColumns = table.columns.filter((c) => c.primaryKey > 0).sort((a, b) => a.primaryKey - b.primaryKey);
  const lines = table.columns.map((column) => {
    let line = `\t${quoteIdentBacktick(column.name)} ${column.type.toLowerCase()}`;
    if (pkColumns.length === 1 && column.primaryKey === 1) line += column.autoIncrement ? ' PRIMARY KEY AUTOINCREMENT' : ' PRIMARY KEY';
    if (column.defaultSql !== null) line += ` DEFAULT ${column.defaultSql}`;
    if (column.notNull) line += ' NOT NULL';
    return line;
  });
  if (pkColumns.length > 1) {
    lines.push(`\tPRIMARY KEY(${pkColumns.map((c) => quoteIdentBacktick(c.name)).join(', ')})`);
  }
  for (const fk of table.foreignKeys) {
    lines.push(
      `\tFOREIGN KEY (${fk.columns.map(quoteIdentBacktick).join(',')}) REFERENCES ${quoteIdentBacktick(fk.refTable)}(${fk.refColumns
        .map(quoteIdentBacktick)
        .join(',')}) ON UPDATE ${fk.onUpdate} ON DELETE ${fk.onDelete}`,
    );
  }
  return `CREATE TABLE ${quoteIdentBacktick(name)} (\n${lines.join(',\n')}\n);`;
}

export function createIndexSql(table: string, index: IndexModel): string {
  const columns = index.columns.map((c) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(c) ? quoteIdentBacktick(c) : c)).join(',');
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdentBacktick(index.name)} ON ${quoteIdentBacktick(table)} (${columns})${
    index.where ? ` WHERE ${index.where}` : ''
  };`;
}

function quoteIdentBacktick(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** Tables qbank never manages: SQLite's own, migration bookkeeping, libSQL internals. */
export function isInternalTable(name: string): boolean {
  return name.startsWith('sqlite_') || name.startsWith('_litestream') || name.startsWith('libsql_') || name === '__drizzle_migrations' || name.startsWith('__qbank');
}

/**
 * Three catalogue queries that together describe every table; sent in one read batch (one round trip).
 * The result stays small: a table's CREATE TABLE text never travels, only whether it says AUTOINCREMENT
 * (on the row of its first primary-key column), and an index's CREATE INDEX text comes on its first row alone.
 */
export const INTROSPECTION_QUERIES = [
  `SELECT m.name AS tbl, CASE WHEN p.pk = 1 THEN coalesce(instr(upper(m.sql), 'AUTOINCREMENT'), 0) > 0 ELSE 0 END AS tbl_autoincrement,
          p.cid, p.name, p.type, p."notnull" AS not_null, p.dflt_value, p.pk, p.hidden
     FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p
    WHERE m.type = 'table' ORDER BY m.name, p.cid`,
  `SELECT m.name AS tbl, il.name AS idx, il."unique" AS is_unique, il.origin, il.partial, ii.seqno, ii.name AS col,
          CASE WHEN ii.seqno = 0 THEN s.sql END AS idx_sql
     FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) ii
     LEFT JOIN sqlite_master s ON s.type = 'index' AND s.name = il.name
    WHERE m.type = 'table' AND ii.key = 1 ORDER BY m.name, il.name, ii.seqno`,
  `SELECT m.name AS tbl, f.id, f.seq, f."table" AS ref_table, f."from" AS from_col, f."to" AS to_col, f.on_update, f.on_delete
     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
    WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq`,
];

type Row = Record<string, unknown>;

/** Builds the live schema from the rows of INTROSPECTION_QUERIES. */
export function modelFromCatalogue(columnRows: Row[], indexRows: Row[], foreignKeyRows: Row[]): SchemaModel {
  const model: SchemaModel = new Map();
  for (const row of columnRows) {
    const tableName = String(row.tbl);
    let table = model.get(tableName);
    if (!table) {
      table = { name: tableName, columns: [], indexes: [], foreignKeys: [] };
      model.set(tableName, table);
    }
    if (Number(row.hidden) !== 0) continue;
    const pk = Number(row.pk);
    table.columns.push({
      name: String(row.name),
      type: String(row.type).toUpperCase(),
      notNull: Number(row.not_null) === 1 || pk > 0,
      defaultSql: row.dflt_value === null || row.dflt_value === undefined ? null : String(row.dflt_value),
      primaryKey: pk,
      autoIncrement: pk === 1 && Number(row.tbl_autoincrement) === 1 && String(row.type).toUpperCase() === 'INTEGER',
    });
  }
  const indexesByName = new Map<string, { table: string; index: IndexModel }>();
  for (const row of indexRows) {
    if (row.origin === 'pk') continue;
    const name = String(row.idx);
    let entry = indexesByName.get(name);
    if (!entry) {
      const indexSql = row.idx_sql === null || row.idx_sql === undefined ? null : String(row.idx_sql);
      const where = indexSql ? /\bWHERE\b([\s\S]*)$/i.exec(indexSql)?.[1].trim().replace(/;$/, '') ?? null : null;
      entry = { table: String(row.tbl), index: { name, columns: [], unique: Number(row.is_unique) === 1, where, sql: indexSql } };
      indexesByName.set(name, entry);
      model.get(entry.table)?.indexes.push(entry.index);
    }
    entry.index.columns.push(row.col === null ? '<expr>' : String(row.col));
  }
  const fkById = new Map<string, ForeignKeyModel>();
  for (const row of foreignKeyRows) {
    const key = `${row.tbl}\u0000${row.id}`;
    let fk = fkById.get(key);
    if (!fk) {
      fk = { columns: [], refTable: String(row.ref_table), refColumns: [], onDelete: normaliseAction(String(row.on_delete)), onUpdate: normaliseAction(String(row.on_update)) };
      fkById.set(key, fk);
      model.get(String(row.tbl))?.foreignKeys.push(fk);
    }
    fk.columns.push(String(row.from_col));
    fk.refColumns.push(row.to_col === null ? '' : String(row.to_col));
  }
  return model;
}

export function sameColumns(a: ColumnModel, b: ColumnModel): boolean {
  return (
    a.name === b.name &&
    a.type === b.type &&
    a.notNull === b.notNull &&
    normaliseDefault(a.defaultSql) === normaliseDefault(b.defaultSql) &&
    a.primaryKey === b.primaryKey &&
    a.autoIncrement === b.autoIncrement
  );
}

function normaliseDefault(value: string | null): string | null {
  if (value === null) return null;
  let text = value.trim();
  while (/^\(.*\)$/s.test(text) && balanced(text.slice(1, -1))) text = text.slice(1, -1).trim();
  return text.toLowerCase() === 'null' ? null : text.replace(/\s+/g, ' ').toLowerCase();
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

export function sameIndex(a: IndexModel, b: IndexModel): boolean {
  return (
    a.unique === b.unique &&
    a.columns.join(',') === b.columns.join(',') &&
    (a.where ?? '').replace(/\s+/g, ' ').trim().toLowerCase() === (b.where ?? '').replace(/\s+/g, ' ').trim().toLowerCase()
  );
}

export function sameForeignKey(a: ForeignKeyModel, b: ForeignKeyModel): boolean {
  return (
    a.refTable === b.refTable &&
    a.columns.join(',') === b.columns.join(',') &&
    a.refColumns.join(',') === b.refColumns.join(',') &&
    a.onDelete === b.onDelete &&
    a.onUpdate === b.onUpdate
  );
}

export { quoteIdent };
