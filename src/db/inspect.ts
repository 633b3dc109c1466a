import { quoteIdent, readBatch, readQuery, type Database } from './client.js';

/*
 * What a database holds, read from the database itself: page size and counts, free pages, and per
 * table its rows and (where the server has the dbstat table) the bytes its pages and its indexes'
 * pages take. Read only; three round trips at most.
 */

export interface TableStorage {
  table: string;
  rows: number;
  /** Bytes of the table's own pages; null without dbstat. */
  bytes: number | null;
  /** Bytes of the pages of its indexes; null without dbstat. */
  indexBytes: number | null;
}

export interface StorageReport {
  pageSize: number;
  pageCount: number;
  freePages: number;
  /** pageSize × pageCount. */
  totalBytes: number;
  /** `dbstat`: sizes per table; `page counts`: only the database's page counts (the server has no dbstat). */
  sizesFrom: 'dbstat' | 'page counts';
  tables: TableStorage[];
}

const PAGES_AND_TABLES = [
  'SELECT page_size, page_count, freelist_count FROM pragma_page_size(), pragma_page_count(), pragma_freelist_count()',
  "SELECT name, tbl_name, type FROM sqlite_schema WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name",
];
const DBSTAT = 'SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name';

export async function inspectStorage(database: Database): Promise<StorageReport> {
  const [pages, objects] = await readBatch(database, PAGES_AND_TABLES);
  const facts = pages!.rows[0]!;
  const pageSize = Number(facts.page_size);
  const pageCount = Number(facts.page_count);
  const entries = objects!.rows.map((row) => ({ name: String(row.name), table: String(row.tbl_name), type: String(row.type) }));
  const tables = entries.filter((e) => e.type === 'table').map((e) => e.name);
  const [counts, sizes] = await Promise.all([
    tables.length > 0 ? readBatch(database, tables.map((name) => `SELECT count(*) AS n FROM ${quoteIdent(name)}`)) : Promise.resolve([]),
    readQuery(database, DBSTAT).then(
      (result) => new Map(result.rows.map((row) => [String(row.name), Number(row.bytes)])),
      () => undefined,
    ),
  ]);
  const indexBytes = (table: string) => entries.filter((e) => e.type === 'index' && e.table === table).reduce((sum, e) => sum + (sizes?.get(e.name) ?? 0), 0);
  return {
    pageSize,
    pageCount,
    freePages: Number(facts.freelist_count),
    totalBytes: pageSize * pageCount,
    sizesFrom: sizes ? 'dbstat' : 'page counts',
    tables: tables.map((table, i) => ({
      table,
      rows: Number(counts[i]!.rows[0]!.n),
      bytes: sizes ? (sizes.get(table) ?? 0) : null,
      indexBytes: sizes ? indexBytes(table) : null,
    })),
  };
}
