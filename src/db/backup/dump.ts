import { isUtf8 } from 'node:buffer';
import { availableParallelism } from 'node:os';
import type { InValue } from '@libsql/client';
import { QbankError, UsageError } from '../../errors.js';
import { describeDatabaseError, fileDatabasePath, openDatabase, quoteIdent, type Database, type OpenDatabaseOptions } from '../client.js';
import type { DatabaseConfig } from '../../config.js';
import { systemFromTableNames } from '../systems.js';
import { isOutputClosed, OutputClosedError } from '../../output/io.js';
import { checksumLine, DUMP_FORMAT, formatHeader, QBANK_OWN_PREFIX, type DumpContent } from './dump-format.js';
import type { DumpSink } from './dump-sink.js';
import { garbageBudget } from './memory.js';
import { InlinePipeline, PagePipeline, type DumpPipeline } from './page-pipeline.js';
import { PageRenderer, WriteFence, type RenderedPage } from './renderer.js';
import { openSnapshot, type Snapshot } from './snapshot.js';
import { quoteName } from './statements.js';

/**
 * Opens the database the way a backup must read it: integers as BigInt, so values beyond 2^53
 * survive, and floats kept apart from integers. Other commands keep the factory's defaults.
 */
export function openBackupDatabase(config: DatabaseConfig, options: Omit<OpenDatabaseOptions, 'intMode'> = {}): Database {
  return openDatabase(config, { ...options, intMode: 'bigint', timeoutMs: options.timeoutMs ?? 120_000 });
}

export interface DumpOptions {
  /** Only these tables (and their indexes and triggers; views only when named). */
  tables?: string[];
  excludeTables?: string[];
  schemaOnly?: boolean;
  dataOnly?: boolean;
  /** The system for the header; detected from the table names when absent. */
  system?: string;
  qbankVersion: string;
  now?: () => Date;
  onProgress?: (progress: DumpProgress) => void;
  /** Target size of one page of rows; remote pages must stay well under the server's 10 MB response cap. */
  pageBytes?: number;
  /** `file:` tables with this many rows or more are rendered by two renderer threads (default 20,000 with two cores or more; none with one). */
  parallelMinRows?: number;
}

export interface DumpProgress {
  table: string;
  rowsDone: number;
  rowsTotal: number;
  bytes: number;
}

export interface DumpResult {
  target: string;
  compressed: boolean;
  content: DumpContent;
  system: string;
  /** Uncompressed bytes, seal line included. */
  bytes: number;
  checksum: string;
  tables: Array<{ table: string; rows: number }>;
  indexes: number;
  views: number;
  triggers: number;
  /** Queries that read rows (one per page). */
  pages: number;
  /** Threads with their own connections that rendered pages beside this one (0 or 2). */
  renderers: number;
  /** Pages those threads rendered. */
  rendererPages: number;
  roundTrips: number;
  elapsedMs: number;
}

interface SchemaObject {
  type: string;
  name: string;
  table: string;
  sql: string;
}

interface ColumnInfo {
  name: string;
  /** The declared type, which decides the column's affinity. */
  type: string;
  hidden: number;
  pk: number;
}

/** SQLite's affinity rules, in their order: a TEXT column holds only NULL, TEXT or BLOB values. */
function hasTextAffinity(declared: string): boolean {
  const upper = declared.toUpperCase();
  return !upper.includes('INT') && (upper.includes('CHAR') || upper.includes('CLOB') || upper.includes('TEXT'));
}

interface TablePlan {
  name: string;
  createSql: string;
  columns: ColumnInfo[];
  /** SQL expressions that order the table and page it by keyset: the rowid, or the primary key. */
  key: string[];
  rowid: boolean;
  rows: number;
}

/** Tables no dump carries: SQLite's own, qbank's own (restore staging, lock, run record), libSQL's function registry. */
function isInternal(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('sqlite_') || lower.startsWith(QBANK_OWN_PREFIX) || lower === 'libsql_wasm_func_table';
}

/** A table selection names tables or views the database does not have. */
export class UnknownDumpTablesError extends UsageError {
  constructor(
    readonly selection: 'tables' | 'exclude-tables',
    readonly unknown: string[],
    available: string[],
  ) {
    super(`no table or view named ${unknown.join(', ')}`, { hint: `the database has: ${available.join(', ') || '(nothing)'}` });
  }
}

/** A dump cannot be both schema only and data only. */
export class ContentConflictError extends UsageError {
  constructor() {
    super('a dump of the schema only cannot also be of the data only');
  }
}

function resolveNames(requested: string[], available: string[], selection: 'tables' | 'exclude-tables'): string[] {
  const byLower = new Map(available.map((name) => [name.toLowerCase(), name]));
  const unknown = requested.filter((name) => !byLower.has(name.toLowerCase()));
  if (unknown.length > 0) throw new UnknownDumpTablesError(selection, unknown, available);
  return requested.map((name) => byLower.get(name.toLowerCase())!);
}

function sqlLiteral(text: string): string {
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
function rowSql(table: string, columns: ColumnInfo[], sqliteVersion: string): { prefix: string; fast: string; slow: (hexText: boolean) => string } {
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

const SPECIAL_REAL_MARKS = [',Inf', '(Inf', '-Inf', 'e+308'];

function pageNeedsSlowForm(page: Page): 'hex-text' | 'exact' | undefined {
  if (!isUtf8(page.text)) return 'hex-text';
  for (const mark of SPECIAL_REAL_MARKS) if (page.text.includes(mark)) return 'exact';
  return undefined;
}

function isTooBig(error: unknown): boolean {
  const text = `${(error as { code?: string })?.code ?? ''} ${(error as Error)?.message ?? ''}`;
  return /TOOBIG|too big|RESPONSE_TOO_LARGE|too large/i.test(text);
}

function toBuffer(value: unknown): Buffer {
  if (value === null || value === undefined) return Buffer.alloc(0);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(String(value), 'utf8');
}

interface Page {
  rows: number;
  rendered: number;
  last: InValue[];
  text: Buffer;
  prefixBytes: number;
}

interface PageQuery {
  sql: string;
  prefixBytes: number;
}

/** The query that renders up to `limit` rows of a table after a key (or from the start) as one NUL-joined blob. */
function pageQueries(sqliteVersion: string): (table: TablePlan, form: 'fast' | 'exact' | 'hex-text', hasAfter: boolean) => PageQuery {
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

function parsePage(table: TablePlan, row: unknown[], prefixBytes: number): Page {
  return {
    rows: Number(row[0] as bigint),
    rendered: Number(row[1] as bigint),
    last: table.rowid ? [row[2] as InValue] : table.key.map((_, i) => row[3 + i] as InValue),
    text: toBuffer(row[row.length - 1]),
    prefixBytes,
  };
}

/** Tables smaller than this are read on one connection: renderers cost more to start than they save. */
const PARALLEL_MIN_ROWS = 20_000;
/** Pages a renderer has queued or in hand: one to render while the last one travels. */
const PAGES_AHEAD = 2;

/** Two renderers, or none when either cannot start (its read transaction, its thread): the dump then reads on one connection. */
async function openRenderers(path: string): Promise<PageRenderer[]> {
  const settled = await Promise.allSettled([PageRenderer.open(path, SPECIAL_REAL_MARKS), PageRenderer.open(path, SPECIAL_REAL_MARKS)]);
  const opened = settled.flatMap((outcome) => (outcome.status === 'fulfilled' && outcome.value ? [outcome.value] : []));
  if (opened.length === settled.length) return opened;
  await Promise.all(opened.map((renderer) => renderer.close().catch(() => undefined)));
  return [];
}

/**
 * Writes a consistent dump of the database to `sink`: one read snapshot, every page read by
 * keyset (rowid or primary key, never OFFSET), pages sized by bytes so memory stays flat. The seal
 * line is written last; a failure anywhere aborts the sink, so no complete-looking file is left.
 */
export async function dumpDatabase(database: Database, sink: DumpSink, options: DumpOptions): Promise<DumpResult> {
  if (options.schemaOnly && options.dataOnly) throw new ContentConflictError();
  const started = Date.now();
  const roundTripsBefore = database.roundTrips();
  // set once it is known whether renderers turn pages into lines (see below)
  let pipeline: DumpPipeline | undefined;
  let bytes = 0;
  // chunks are processed (hashed, pages turned into lines) and written in order; a few stay in
  // flight so the pipeline and the disk keep up while SQLite renders the next page
  let written: Promise<void> = Promise.resolve();
  const inFlight: Array<Promise<void>> = [];
  const emit = async (chunk: string | Buffer, prefixBytes = -1) => {
    const processed = pipeline!.process(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk, prefixBytes);
    written = written
      .then(() => processed)
      .then((output) => {
        bytes += output.length;
        return sink.write(output);
      });
    written.catch(() => undefined);
    inFlight.push(written);
    while (inFlight.length > 3) await inFlight.shift();
  };

  let snapshot: Snapshot | undefined;
  let renderers: PageRenderer[] = [];
  let rendererCount = 0;
  let rendererPages = 0;
  let fence: WriteFence | undefined;
  try {
    const parallelMinRows = options.parallelMinRows ?? (availableParallelism() > 1 ? PARALLEL_MIN_ROWS : Number.POSITIVE_INFINITY);
    // not when the URL carries options (nolock, immutable, a VFS...) that could change how the file is locked
    const mayRender = database.kind === 'file' && !options.schemaOnly && !database.url.includes('?') && Number.isFinite(parallelMinRows);
    if (mayRender) fence = await WriteFence.open(database);
    snapshot = await openSnapshot(database);
    const [versionRows, schemaRows, journalRows] = await snapshot.batch([
      'SELECT sqlite_version()',
      'SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid',
      ...(database.kind === 'file' ? ['PRAGMA journal_mode'] : []),
    ]);
    const journalMode = String(journalRows?.[0]?.[0] ?? '').toLowerCase();
    const sqliteVersion = String(versionRows![0]![0]);
    const objects: SchemaObject[] = schemaRows!
      .map((r) => ({ type: String(r[0]), name: String(r[1]), table: String(r[2]), sql: String(r[3]) }))
      .filter((o) => !isInternal(o.name) && !isInternal(o.table));
    const allTables = objects.filter((o) => o.type === 'table');
    const allViews = objects.filter((o) => o.type === 'view');
    const sequenceExists = schemaRows!.some((r) => String(r[1]) === 'sqlite_sequence');

    const relations = [...allTables, ...allViews].map((o) => o.name);
    const wanted = options.tables?.length ? new Set(resolveNames(options.tables, relations, 'tables')) : undefined;
    const excluded = new Set(options.excludeTables?.length ? resolveNames(options.excludeTables, relations, 'exclude-tables') : []);
    const include = (name: string, isView: boolean) => !excluded.has(name) && (wanted ? wanted.has(name) : true) && (isView || !isInternal(name));
    const tables = allTables.filter((t) => include(t.name, false));
    const views = allViews.filter((v) => include(v.name, true));
    const relationNames = new Set([...tables, ...views].map((o) => o.name));
    const indexes = objects.filter((o) => o.type === 'index' && relationNames.has(o.table));
    const triggers = objects.filter((o) => o.type === 'trigger' && relationNames.has(o.table));
    const virtual = tables.filter((t) => /^CREATE\s+VIRTUAL\s+TABLE/i.test(t.sql));
    if (virtual.length > 0) {
      throw new UsageError(`qbank backup does not handle virtual tables: ${virtual.map((t) => t.name).join(', ')}`, {
        hint: 'leave them (and their shadow tables) out of the dump, and rebuild them after a restore',
      });
    }

    const content: DumpContent = options.schemaOnly ? 'schema only' : options.dataOnly ? 'data only' : 'schema and data';
    const detail = await snapshot.batch([
      ...tables.map((t) => ({ sql: 'SELECT name, type, hidden, pk FROM pragma_table_xinfo(?) ORDER BY cid', args: [t.name] })),
      ...(options.schemaOnly ? [] : tables.map((t) => `SELECT count(*) FROM ${quoteIdent(t.name)}`)),
      ...(sequenceExists && !options.schemaOnly ? ['SELECT name, seq FROM sqlite_sequence ORDER BY rowid'] : []),
    ]);
    const plans: TablePlan[] = tables.map((t, i) => {
      const columns = detail[i]!.map((r) => ({ name: String(r[0]), type: String(r[1] ?? ''), hidden: Number(r[2]), pk: Number(r[3]) }));
      const withoutRowid = /\)\s*WITHOUT\s+ROWID\s*$/i.test(t.sql.trim()) || /\bWITHOUT\s+ROWID\b/i.test(t.sql.slice(t.sql.lastIndexOf(')')));
      const names = new Set(columns.map((c) => c.name.toLowerCase()));
      const alias = ['rowid', '_rowid_', 'oid'].find((a) => !names.has(a));
      let key: string[];
      if (!withoutRowid && alias) key = [alias];
      else {
        const pk = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
        if (pk.length === 0) throw new QbankError(`table ${t.name}: cannot page through it (no rowid alias free and no primary key)`);
        key = pk.map((c) => quoteIdent(c.name));
      }
      const rows = options.schemaOnly ? 0 : Number(detail[tables.length + i]![0]![0] as bigint);
      return { name: t.name, createSql: t.sql, columns, key, rowid: !withoutRowid && alias !== undefined, rows };
    });
    const sequences =
      sequenceExists && !options.schemaOnly
        ? detail[detail.length - 1]!
            .map((r) => ({ table: String(r[0]), seq: r[1] as bigint }))
            .filter((s) => plans.some((p) => p.name === s.table))
        : [];

    // writers cannot commit while renderers start: the shared lock this snapshot holds keeps them
    // off in the rollback-journal modes, the fence in WAL mode
    const rollbackJournal = ['delete', 'truncate', 'persist', 'memory', 'off'].includes(journalMode);
    if (mayRender && (rollbackJournal || fence) && plans.some((p) => p.rowid && p.rows >= parallelMinRows)) {
      renderers = await openRenderers(fileDatabasePath(database));
      rendererCount = renderers.length;
    }
    fence?.lift();
    // Renderers turn their pages into lines themselves, which leaves hashing and the odd page of
    // this thread: a worker for that costs more in messages than it saves (measured: 8% of the
    // dump). Without renderers, a worker turns pages into lines while SQLite renders the next one;
    // remote reads wait on the network anyway.
    pipeline = database.kind === 'file' && renderers.length === 0 ? new PagePipeline() : new InlinePipeline();

    const detected = systemFromTableNames(allTables.map((t) => t.name));
    const system = options.system ?? (detected && detected !== 'both' ? detected : 'unknown');
    await emit(
      formatHeader({
        format: DUMP_FORMAT,
        qbankVersion: options.qbankVersion,
        system,
        createdAt: (options.now?.() ?? new Date()).toISOString(),
        source: database.displayUrl,
        content,
        tables: plans.map((p) => ({ table: p.name, rows: p.rows })),
      }),
    );
    await emit('PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n');
    if (!options.dataOnly) {
      for (const plan of plans) await emit(plan.createSql + ';\n');
    }

    let pages = 0;
    if (!options.schemaOnly) {
      const open = snapshot;
      const query = pageQueries(sqliteVersion);
      const readPage = async (plan: TablePlan, after: InValue[] | undefined, limit: number, form: 'fast' | 'exact' | 'hex-text'): Promise<Page> => {
        const { sql, prefixBytes } = query(plan, form, after !== undefined);
        return parsePage(plan, await open.one(sql, [...(after ?? []), limit]), prefixBytes);
      };
      /** A page of at most `limit` rows; one too big for a single response is asked again with a quarter of the rows. */
      const readFitting = async (plan: TablePlan, after: InValue[] | undefined, limit: number): Promise<{ page: Page; limit: number }> => {
        for (;;) {
          try {
            return { page: await readPage(plan, after, limit, 'fast'), limit };
          } catch (error) {
            if (!isTooBig(error)) throw error;
            if (limit <= 1) throw new QbankError(`table ${plan.name}: a single row is too large to read in one response`, { cause: error });
            limit = Math.max(1, limit >> 2);
          }
        }
      };
      // same keyset bounds in the same transaction give the same rows: read them again, exactly
      const exactPage = async (plan: TablePlan, after: InValue[] | undefined, page: Page): Promise<Page> => {
        let form = page.rendered < page.rows ? 'exact' : pageNeedsSlowForm(page);
        while (form) {
          const exact = await readPage(plan, after, page.rows, form);
          pages++;
          if (exact.rows !== page.rows || exact.rendered !== exact.rows) throw new QbankError(`table ${plan.name}: a page read twice in one transaction changed`);
          page = exact;
          form = form === 'exact' && !isUtf8(page.text) ? 'hex-text' : undefined;
        }
        return page;
      };
      const pageBytes = options.pageBytes ?? (database.kind === 'remote' ? 2 << 20 : 1 << 20);
      const maxRows = database.kind === 'remote' ? 20_000 : 100_000;
      const memory = garbageBudget(database.kind === 'remote' ? 4 << 20 : 32 << 20);
      for (const plan of plans) {
        let done = 0;
        const emitLines = async (text: Buffer, rows: number, prefixBytes = -1) => {
          memory.add(text.length);
          await emit(text, prefixBytes);
          await emit('\n');
          done += rows;
          options.onProgress?.({ table: plan.name, rowsDone: done, rowsTotal: plan.rows, bytes });
        };
        const emitPage = (page: Page) => emitLines(page.text, page.rows, page.prefixBytes);
        let after: InValue[] | undefined;
        let limit = database.kind === 'remote' ? 100 : 1_000;
        options.onProgress?.({ table: plan.name, rowsDone: 0, rowsTotal: plan.rows, bytes });
        for (;;) {
          let page;
          ({ page, limit } = await readFitting(plan, after, limit));
          pages++;
          if (page.rows === 0) break;
          page = await exactPage(plan, after, page);
          const average = Math.max(1, page.text.length / page.rows);
          await emitPage(page);
          after = page.last;
          if (page.rows < limit) break;
          limit = Math.max(1, Math.min(maxRows, Math.floor(pageBytes / average)));
          if (renderers.length > 0 && plan.rowid && plan.rows >= parallelMinRows && plan.rows - done >= 2 * limit) {
            pages += await readByRenderers(plan, after, limit, emitPage, emitLines);
            break;
          }
        }
        if (done !== plan.rows) {
          throw new QbankError(`table ${plan.name}: counted ${plan.rows} rows but read ${done} in the same transaction; the dump is not consistent`);
        }
      }

      /**
       * The rest of a table after `start`, rendered by the renderers in turn while this thread
       * only writes what they send back, in order. Each page is the next `width` rows after a key;
       * this connection finds the key that ends it (a short walk over the keys) before the page is
       * handed out, so every page's row count is known here and checked against the renderer's.
       * The width follows the size of the rows, as on one connection. A page a renderer cannot
       * write exactly, or that is too big for it, is read again here.
       */
      async function readByRenderers(
        plan: TablePlan,
        start: InValue[],
        firstWidth: number,
        emitPage: (page: Page) => Promise<void>,
        emitLines: (text: Buffer, rows: number) => Promise<void>,
      ): Promise<number> {
        const key = plan.key[0]!;
        const endOfPage = `SELECT ${key} FROM ${quoteIdent(plan.name)} WHERE ${key} > ? ORDER BY ${key} LIMIT 1 OFFSET ?`;
        const { sql, prefixBytes } = query(plan, 'fast', true);
        interface Scheduled {
          after: InValue;
          width: number;
          /** `width` when a key ends the page; undefined for the table's last page, which has fewer rows. */
          rows: number | undefined;
          result: Promise<RenderedPage>;
        }
        const queue: Scheduled[] = [];
        let next: InValue | undefined = start[0];
        let width = firstWidth;
        let turn = 0;
        let reads = 0;
        const schedule = async () => {
          if (next === undefined) return;
          const after = next;
          const [ends] = await open.batch([{ sql: endOfPage, args: [after, width - 1] }]);
          const end = ends![0]?.[0] as InValue | undefined;
          const result = renderers[turn++ % renderers.length]!.render(sql, [after, width], prefixBytes);
          result.catch(() => undefined);
          queue.push({ after, width, rows: end === undefined ? undefined : width, result });
          next = end;
        };
        for (let i = 0; i < PAGES_AHEAD * renderers.length; i++) await schedule();
        while (queue.length > 0) {
          const page = queue.shift()!;
          let rendered: RenderedPage | undefined;
          try {
            rendered = await page.result;
          } catch (error) {
            if (!isTooBig(error)) throw error;
          }
          reads++;
          if (rendered && (page.rows === undefined ? rendered.rows >= page.width : rendered.rows !== page.rows)) {
            throw new QbankError(`table ${plan.name}: the dump's connections read different rows; the dump is not consistent`);
          }
          if (rendered?.lines) {
            rendererPages++;
            // sized before the lines move on to the pipeline, which takes their memory
            if (rendered.rows > 0) width = Math.max(1, Math.min(maxRows, Math.floor(pageBytes / Math.max(1, rendered.lines.length / rendered.rows))));
            await emitLines(rendered.lines, rendered.rows);
          } else if (!rendered || rendered.rows > 0) {
            if (!rendered) width = Math.max(1, width >> 2);
            reads += await readRowsHere(plan, page.after, rendered?.rows ?? page.rows, emitPage);
          }
          await schedule();
        }
        return reads;
      }

      /** `rows` rows after `after` (all that are left when undefined), read on this connection in pages that shrink when one is too big. */
      async function readRowsHere(plan: TablePlan, after: InValue, rows: number | undefined, emitPage: (page: Page) => Promise<void>): Promise<number> {
        let cursor: InValue[] = [after];
        let left = rows ?? Number.POSITIVE_INFINITY;
        let limit = Math.min(left, 1_000);
        let reads = 0;
        while (left > 0) {
          let page;
          ({ page, limit } = await readFitting(plan, cursor, Math.min(limit, left)));
          reads++;
          const full = page.rows === limit;
          if (page.rows > 0) {
            page = await exactPage(plan, cursor, page);
            await emitPage(page);
            left -= page.rows;
            cursor = page.last;
          }
          if (!full) break;
        }
        if (rows !== undefined && left !== 0) throw new QbankError(`table ${plan.name}: a page read twice in one transaction changed`);
        return reads;
      }
      if (sequences.length > 0) {
        await emit(`DELETE FROM sqlite_sequence WHERE name IN (${sequences.map((s) => sqlLiteral(s.table)).join(',')});\n`);
        for (const s of sequences) await emit(`INSERT INTO sqlite_sequence VALUES(${sqlLiteral(s.table)},${s.seq});\n`);
      }
    }
    if (!options.dataOnly) {
      for (const index of indexes) await emit(index.sql + ';\n');
      for (const view of views) await emit(view.sql + ';\n');
      for (const trigger of triggers) await emit(trigger.sql + ';\n');
    }
    await emit('COMMIT;\n');
    await Promise.all(renderers.map((renderer) => renderer.close()));
    renderers = [];
    await snapshot.close();
    snapshot = undefined;

    await written;
    const checksum = await pipeline.digest();
    const seal = checksumLine(checksum);
    await sink.write(seal);
    bytes += Buffer.byteLength(seal);
    await sink.commit();
    return {
      target: sink.target,
      compressed: sink.compressed,
      content,
      system,
      bytes,
      checksum,
      tables: plans.map((p) => ({ table: p.name, rows: p.rows })),
      indexes: options.dataOnly ? 0 : indexes.length,
      views: options.dataOnly ? 0 : views.length,
      triggers: options.dataOnly ? 0 : triggers.length,
      pages,
      renderers: rendererCount,
      rendererPages,
      roundTrips: database.roundTrips() - roundTripsBefore,
      elapsedMs: Date.now() - started,
    };
  } catch (error) {
    await sink.abort();
    if (error instanceof UsageError) throw error;
    // `qbank backup dump - | head`: the reader went away, which is no failure of the database
    if (isOutputClosed(error)) throw new OutputClosedError({ cause: error });
    const described = describeDatabaseError(error, database, 'backup dump');
    const outcome = sink.target === '-' ? 'the output is incomplete (it has no checksum line)' : `no file was written to ${sink.target}`;
    described.message = `the dump failed and ${outcome}: ${described.message}`;
    throw described;
  } finally {
    fence?.lift();
    await Promise.all(renderers.map((renderer) => renderer.close().catch(() => undefined)));
    await snapshot?.close().catch(() => undefined);
    await pipeline?.close();
  }
}
