import { availableParallelism } from 'node:os';
import { QbankError, UsageError } from '../../errors.js';
import { describeDatabaseError, fileDatabasePath, openDatabase, quoteIdent, type Database, type OpenDatabaseOptions } from '../client.js';
import type { DatabaseConfig } from '../../config.js';
import { systemFromTableNames } from '../systems.js';
import { isOutputClosed, OutputClosedError } from '../../output/io.js';
import { checksumLine, DUMP_FORMAT, formatHeader, QBANK_OWN_PREFIX, type DumpContent } from './dump-format.js';
import type { DumpSink } from './dump-sink.js';
import { isMergedTable } from './merged-tables.js';
import { InlinePipeline, PagePipeline, type DumpPipeline } from './page-pipeline.js';
import { PageRenderer, WriteFence } from './renderer.js';
import { SPECIAL_REAL_MARKS, sqlLiteral, type TablePlan } from './row-sql.js';
import { TableReader } from './table-reader.js';
import { openSnapshot, type Snapshot } from './snapshot.js';

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

/**
 * Tables no dump carries: SQLite's own, qbank's bookkeeping of one database (restore staging, the
 * restore lock), libSQL's function registry. qbank's audit record is carried (a restore merges it).
 */
function isInternal(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('sqlite_') || (lower.startsWith(QBANK_OWN_PREFIX) && !isMergedTable(lower)) || lower === 'libsql_wasm_func_table';
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

/** Tables smaller than this are read on one connection: renderers cost more to start than they save. */
const PARALLEL_MIN_ROWS = 20_000;

/** Two renderers, or none when either cannot start (its read transaction, its thread): the dump then reads on one connection. */
async function openRenderers(path: string): Promise<PageRenderer[]> {
  const settled = await Promise.allSettled([PageRenderer.open(path, SPECIAL_REAL_MARKS), PageRenderer.open(path, SPECIAL_REAL_MARKS)]);
  const opened = settled.flatMap((outcome) => (outcome.status === 'fulfilled' && outcome.value ? [outcome.value] : []));
  if (opened.length === settled.length) return opened;
  await Promise.all(opened.map((renderer) => renderer.close().catch(() => undefined)));
  return [];
}

/** What a dump holds, read in its snapshot: tables (columns, paging key, rows), views, indexes, triggers, sequences. */
interface DumpPlan {
  sqliteVersion: string;
  journalMode: string;
  allTables: SchemaObject[];
  views: SchemaObject[];
  indexes: SchemaObject[];
  triggers: SchemaObject[];
  plans: TablePlan[];
  sequences: Array<{ table: string; seq: bigint }>;
  content: DumpContent;
}

async function planDump(snapshot: Snapshot, kind: Database['kind'], options: DumpOptions): Promise<DumpPlan> {
  const [versionRows, schemaRows, journalRows] = await snapshot.batch([
    'SELECT sqlite_version()',
    'SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid',
    ...(kind === 'file' ? ['PRAGMA journal_mode'] : []),
  ]);
  const journalMode = String(journalRows?.[0]?.[0] ?? '').toLowerCase();
  const sqliteVersion = String(versionRows![0]![0]);
  const objects: SchemaObject[] = schemaRows!
    .map((r) => ({ type: String(r[0]), name: String(r[1]), table: String(r[2]), sql: String(r[3]) }))
    // an index or trigger goes with its table (the audit record's index is named like qbank's own)
    .filter((o) => !isInternal(o.table));
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

  return { sqliteVersion, journalMode, allTables, views, indexes, triggers, plans, sequences, content };
}

/**
 * Chunks of dump text are processed (hashed, pages turned into lines) and written in order; a few
 * stay in flight so the pipeline and the disk keep up while SQLite renders the next page.
 */
class OrderedWriter {
  bytes = 0;
  /** Set once it is known whether renderers turn pages into lines. */
  pipeline: DumpPipeline | undefined;
  private written: Promise<void> = Promise.resolve();
  private readonly inFlight: Array<Promise<void>> = [];

  constructor(private readonly sink: DumpSink) {}

  readonly emit = async (chunk: string | Buffer, prefixBytes = -1): Promise<void> => {
    const processed = this.pipeline!.process(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk, prefixBytes);
    this.written = this.written
      .then(() => processed)
      .then((output) => {
        this.bytes += output.length;
        return this.sink.write(output);
      });
    this.written.catch(() => undefined);
    this.inFlight.push(this.written);
    while (this.inFlight.length > 3) await this.inFlight.shift();
  };

  /** Waits for every chunk, writes the checksum line over them and commits the sink; returns the checksum. */
  async seal(): Promise<string> {
    await this.written;
    const checksum = await this.pipeline!.digest();
    const seal = checksumLine(checksum);
    await this.sink.write(seal);
    this.bytes += Buffer.byteLength(seal);
    await this.sink.commit();
    return checksum;
  }
}

/** A failed dump, in words: what it left (no file, or output without a seal), and why. */
function describeDumpFailure(error: unknown, database: Database, sink: DumpSink): unknown {
  if (error instanceof UsageError) return error;
  // `qbank backup dump - | head`: the reader went away, which is no failure of the database
  if (isOutputClosed(error)) return new OutputClosedError({ cause: error });
  const described = describeDatabaseError(error, database, 'backup dump');
  const outcome = sink.target === '-' ? 'the output is incomplete (it has no checksum line)' : `no file was written to ${sink.target}`;
  described.message = `the dump failed and ${outcome}: ${described.message}`;
  return described;
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
  const writer = new OrderedWriter(sink);
  const emit = writer.emit;
  let pipeline: DumpPipeline | undefined;

  let snapshot: Snapshot | undefined;
  let renderers: PageRenderer[] = [];
  let rendererCount = 0;
  let fence: WriteFence | undefined;
  try {
    const parallelMinRows = options.parallelMinRows ?? (availableParallelism() > 1 ? PARALLEL_MIN_ROWS : Number.POSITIVE_INFINITY);
    // not when the URL carries options (nolock, immutable, a VFS...) that could change how the file is locked
    const mayRender = database.kind === 'file' && !options.schemaOnly && !database.url.includes('?') && Number.isFinite(parallelMinRows);
    if (mayRender) fence = await WriteFence.open(database);
    snapshot = await openSnapshot(database);
    const { sqliteVersion, journalMode, allTables, views, indexes, triggers, plans, sequences, content } = await planDump(snapshot, database.kind, options);

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
    writer.pipeline = pipeline;

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

    const reader = new TableReader({
      snapshot,
      sqliteVersion,
      remote: database.kind === 'remote',
      pageBytes: options.pageBytes,
      renderers,
      parallelMinRows,
      emit,
      onProgress: (progress) => options.onProgress?.({ ...progress, bytes: writer.bytes }),
    });
    if (!options.schemaOnly) {
      for (const plan of plans) await reader.readTable(plan);
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

    const checksum = await writer.seal();
    return {
      target: sink.target,
      compressed: sink.compressed,
      content,
      system,
      bytes: writer.bytes,
      checksum,
      tables: plans.map((p) => ({ table: p.name, rows: p.rows })),
      indexes: options.dataOnly ? 0 : indexes.length,
      views: options.dataOnly ? 0 : views.length,
      triggers: options.dataOnly ? 0 : triggers.length,
      pages: reader.pages,
      renderers: rendererCount,
      rendererPages: reader.rendererPages,
      roundTrips: database.roundTrips() - roundTripsBefore,
      elapsedMs: Date.now() - started,
    };
  } catch (error) {
    await sink.abort();
    throw describeDumpFailure(error, database, sink);
  } finally {
    fence?.lift();
    await Promise.all(renderers.map((renderer) => renderer.close().catch(() => undefined)));
    await snapshot?.close().catch(() => undefined);
    await pipeline?.close();
  }
}
