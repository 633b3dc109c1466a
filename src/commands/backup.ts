import type { Command } from 'commander';
import type { DumpProgress, DumpResult } from '../db/backup/dump.js';
import type { DumpInspection } from '../db/backup/inspect.js';
import type { CleanPlan, RestoreProgress, RestoreResult } from '../db/backup/restore.js';
import { CheckFailedError, ExitCode, RefusedError, UsageError } from '../errors.js';
import type { Output, Progress } from '../output/output.js';
import { type CommandContext, examples } from './context.js';
import { commaSeparated } from './flags.js';

function megabytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function defaultDumpName(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `qbank-backup-${stamp}.sql`;
}

/** How backup reads and writes: exact integers (BigInt), and a long per-request timeout for big pages. */
const BACKUP_OPEN = { intMode: 'bigint', timeoutMs: 120_000 } as const;
/** One attempt to learn a lost switch's outcome: short, so an unreachable server ends the run soon. */
const RECONNECT_TIMEOUT_MS = 5_000;

export function registerBackupCommands(program: Command, context: CommandContext): void {
  const backup = program.command('backup').description('consistent, verifiable SQL dumps that restore all-or-nothing');
  registerDump(backup, context);
  registerVerify(backup, context);
  registerRestore(backup, context);
  registerClean(backup, context);
}

interface DumpFlags {
  tables: string[];
  excludeTables: string[];
  schemaOnly?: boolean;
  dataOnly?: boolean;
  force?: boolean;
}

function registerDump(backup: Command, context: CommandContext): void {
  backup
    .command('dump')
    .description('write a consistent dump (schema, then rows as INSERTs) sealed with a checksum')
    .argument('[file]', 'where to write it; `-` for standard output; a name ending in .gz is compressed', undefined)
    .option('--tables <names>', 'only these tables (comma-separated, repeatable)', commaSeparated, [])
    .option('--exclude-tables <names>', 'leave these tables out (comma-separated, repeatable)', commaSeparated, [])
    .option('--schema-only', 'tables, indexes, views and triggers; no rows')
    .option('--data-only', 'rows only; restore into an existing schema')
    .option('--force', 'replace the file if it exists')
    .addHelpText(
      'after',
      examples([
        ['qbank backup dump backup.sql', 'dump the configured database'],
        ['qbank backup dump nightly.sql.gz', 'the same, gzip-compressed'],
        ['qbank backup dump - --tables questions,answer_options | less', 'two tables to standard output'],
        ['qbank backup dump schema.sql --schema-only', 'the schema alone'],
      ]),
    )
    .action(async (file: string | undefined, options: DumpFlags, command: Command) => {
      const out = context.output(command);
      if (file === '-' && out.json) throw new UsageError('--json and `-` both want standard output', { hint: 'write the dump to a file to get a JSON summary' });
      if (options.schemaOnly && options.dataOnly) throw new UsageError('--schema-only and --data-only exclude each other');
      const [{ dumpDatabase, UnknownDumpTablesError }, { fileSink, removeStalePartials, streamSink }, { VERSION }, { OutputFileExistsError }] = await Promise.all([
        import('../db/backup/dump.js'),
        import('../db/backup/dump-sink.js'),
        import('../version.js'),
        import('../output-file.js'),
      ]);
      const target = file ?? defaultDumpName(context.io.now());
      let sink;
      try {
        sink = target === '-' ? streamSink(context.io.stdout) : await fileSink(target, { overwrite: options.force, cwd: context.io.cwd });
      } catch (error) {
        if (error instanceof OutputFileExistsError) throw error.withHint('choose another name, or pass --force to replace it');
        throw error;
      }
      if (target !== '-') {
        for (const partial of await removeStalePartials(sink.target, context.io.now())) {
          out.notice(`removed ${partial.path} (${megabytes(partial.bytes)}), left by an earlier dump to the same file that did not finish`);
        }
      }
      const opened = sink;
      const { database, config } = await context.database(command, 'read', out, BACKUP_OPEN).catch(async (error: unknown) => {
        await opened.abort();
        throw error;
      });
      const progress = progressByTable(out);
      try {
        const result = await dumpDatabase(database, sink, {
          tables: options.tables,
          excludeTables: options.excludeTables,
          schemaOnly: options.schemaOnly,
          dataOnly: options.dataOnly,
          system: config.system,
          qbankVersion: VERSION,
          now: context.io.now,
          onProgress: progress.update,
        });
        progress.finish();
        renderDump(out, result, database.displayUrl, database.kind === 'remote');
      } catch (error) {
        if (error instanceof UnknownDumpTablesError) throw new UsageError(`--${error.selection}: ${error.message}`, { hint: error.hint });
        throw error;
      } finally {
        progress.finish();
      }
    });
}

/** One progress bar per table being dumped. */
function progressByTable(out: Output): { update: (progress: DumpProgress) => void; finish: () => void } {
  let bar: Progress | undefined;
  let barTable = '';
  return {
    update: ({ table, rowsDone, rowsTotal, bytes }) => {
      if (table !== barTable) {
        bar?.finish();
        bar = out.progress(`dump ${table}`, rowsTotal, ' rows');
        barTable = table;
      }
      bar!.update(rowsDone, megabytes(bytes));
    },
    finish: () => bar?.finish(),
  };
}

function registerVerify(backup: Command, context: CommandContext): void {
  backup
    .command('verify')
    .description('check a dump without a database: its checksum, its completeness and its row counts')
    .argument('<file>', 'a qbank dump (.sql or .sql.gz), or a sqlite3 / turso db shell .dump')
    .addHelpText(
      'after',
      examples([
        ['qbank backup verify backup.sql', 'exit 0 when the file is whole, 6 when it is cut off, altered, or holds more than data'],
        ['qbank backup verify backup.sql.gz --json', 'the report as JSON'],
      ]),
    )
    .action(async (file: string, _options: unknown, command: Command) => {
      const out = context.output(command);
      const [{ inspectDump }, { findPartials }, { resolve }] = await Promise.all([import('../db/backup/inspect.js'), import('../db/backup/dump-sink.js'), import('node:path')]);
      const path = resolve(context.io.cwd, file);
      const inspection = await inspectDump(path);
      const partials = await findPartials(path);
      if (out.json) {
        out.data({ ...inspectionReport(inspection), partials: partials.map((p) => ({ path: p.path, bytes: p.bytes, modified: p.modified.toISOString() })) });
        if (!inspection.ok) {
          out.error(`${file} failed verification`);
          context.exitCode = ExitCode.checkFailed;
        }
        return;
      }
      renderInspection(out, inspection);
      for (const partial of partials) {
        out.notice(`${partial.path} (${megabytes(partial.bytes)}, last written ${partial.modified.toISOString()}) is the temporary file of a dump to ${file} that did not finish; the next dump to ${file} removes it`);
      }
      if (!inspection.ok) throw new CheckFailedError(`${file} failed verification`, { details: inspection.problems });
      out.success(`${file} is complete${inspection.kind === 'qbank' ? ' and its checksum matches' : ' (a sqlite3-style dump: no checksum to check)'}`);
    });
}

interface RestoreFlags {
  clean?: boolean;
  yes?: boolean;
  tables: string[];
  forceSystem?: boolean;
}

function registerRestore(backup: Command, context: CommandContext): void {
  backup
    .command('restore')
    .description('restore a dump all-or-nothing (into an empty database unless --clean)')
    .argument('<file>', 'a qbank dump (.sql or .sql.gz), or a sqlite3 / turso db shell .dump')
    .option('--clean', 'drop the tables, views, indexes and triggers the dump contains first (data-only dumps: delete their rows)')
    .option('-y, --yes', 'confirm --clean without a prompt (needed without a terminal)')
    .option('--tables <names>', 'restore only these tables (comma-separated, repeatable)', commaSeparated, [])
    .option('--force-system', 'restore a dump of one system (pingtopass, open-interview) into a database of the other')
    .addHelpText(
      'after',
      examples([
        ['qbank backup restore backup.sql', 'into an empty database'],
        ['qbank backup restore backup.sql.gz --clean --yes', 'replace what the dump contains, in CI'],
        ['qbank backup restore backup.sql --tables questions,answer_options --clean', 'put two tables back'],
      ]),
    )
    .action(async (file: string, options: RestoreFlags, command: Command) => {
      const out = context.output(command);
      if (file === '-') throw new UsageError('restore reads the file twice (to verify it, then to load it), so it needs a file, not standard input');
      const [{ openBackupDatabase }, { restoreDump, SystemMismatchError, TargetOccupiedError, UnknownRelationsError }, { resolve }, { hostname }, { VERSION }, { resolveActor }] = await Promise.all([
        import('../db/backup/dump.js'),
        import('../db/backup/restore.js'),
        import('node:path'),
        import('node:os'),
        import('../version.js'),
        import('../db/run-record.js'),
      ]);
      const { database, config } = await context.database(command, 'write', out, BACKUP_OPEN);
      const progress = progressByPhase(out);
      try {
        const result = await restoreDump(database, resolve(context.io.cwd, file), {
          clean: options.clean,
          tables: options.tables,
          forceSystem: options.forceSystem,
          holder: `qbank ${VERSION} on ${hostname()} (pid ${process.pid})`,
          run: {
            ...resolveActor({ env: context.io.env, cwd: context.io.cwd }),
            command: 'backup restore',
            arguments: { file, clean: Boolean(options.clean), tables: options.tables, forceSystem: Boolean(options.forceSystem) },
            target: database.displayUrl,
          },
          reopen: () => openBackupDatabase(config, { timeoutMs: RECONNECT_TIMEOUT_MS }),
          onProgress: progress.update,
          confirmClean: async (plan) => {
            progress.finish();
            renderCleanPlan(out, plan);
            if (options.yes) return true;
            return out.confirm(`Replace this content of ${database.displayUrl} with the dump?`);
          },
        });
        progress.finish();
        renderRestore(out, result);
      } catch (error) {
        if (error instanceof UnknownRelationsError) throw new UsageError(`--tables: ${error.message}`, { hint: error.hint });
        if (error instanceof SystemMismatchError) throw new RefusedError(error.message, { hint: 'pass --force-system to restore it anyway' });
        if (error instanceof TargetOccupiedError) {
          throw new RefusedError(error.message, {
            details: error.details,
            hint:
              error.occupiedBy === 'rows'
                ? 'pass --clean to delete those rows first (the restore is still all-or-nothing)'
                : '--clean drops the tables, views, indexes and triggers the dump contains, then restores them (all-or-nothing)',
          });
        }
        throw error;
      } finally {
        progress.finish();
      }
    });
}

/** One progress bar for verifying the file, then one for loading it. */
function progressByPhase(out: Output): { update: (progress: RestoreProgress) => void; finish: () => void } {
  let bar: Progress | undefined;
  let phase = '';
  return {
    update: (progress) => {
      if (progress.phase !== phase) {
        bar?.finish();
        phase = progress.phase;
        bar = out.progress(progress.phase === 'verify' ? 'verify' : 'restore', progress.fileBytes, ' bytes');
      }
      bar!.update(progress.fileBytesRead);
    },
    finish: () => bar?.finish(),
  };
}

/** What --clean destroys, rows included, as `db push` shows its drops. */
function renderCleanPlan(out: Output, plan: CleanPlan): void {
  const rows = new Map(plan.rowsLost.map((t) => [t.table, t.rows]));
  for (const item of plan.drop) {
    const table = item.startsWith('table ') ? item.slice(6) : undefined;
    const count = table !== undefined ? rows.get(table) : undefined;
    out.info(`  drop ${item}${count !== undefined ? ` (${count.toLocaleString('en-US')} rows)` : ''}`);
  }
  for (const item of plan.empty) out.info(`  delete ${item.rows.toLocaleString('en-US')} rows from ${item.table}`);
  const total = plan.rowsLost.reduce((sum, t) => sum + t.rows, 0);
  if (total > 0) out.info(`  ${total.toLocaleString('en-US')} rows in all are replaced by the dump's`);
}

function registerClean(backup: Command, context: CommandContext): void {
  backup
    .command('clean')
    .description('remove the staging tables an interrupted remote restore left behind')
    .addHelpText(
      'after',
      examples([
        ['qbank backup clean', 'drop __qbank_restore_* tables of restores that are no longer running'],
        ['qbank backup clean --json', 'the same, with what was removed as JSON'],
      ]),
    )
    .action(async (_options: unknown, command: Command) => {
      const out = context.output(command);
      const { cleanRestoreLeftovers } = await import('../db/backup/staging.js');
      const { database } = await context.database(command, 'write', out);
      const result = await cleanRestoreLeftovers(database);
      if (out.json) return out.data({ dropped: result.dropped, running: result.running.map((r) => ({ runId: r.runId, tables: r.tables, holder: r.lease?.holder })) });
      for (const group of result.running) {
        out.notice(`left alone: ${group.tables.length} staging table(s) of restore run ${group.runId}, still running (${group.lease?.holder ?? 'unknown holder'})`);
      }
      out.success(result.dropped.length === 0 ? 'no leftovers of interrupted restores' : `removed ${result.dropped.length} staging table(s) of interrupted restores: ${result.dropped.join(', ')}`);
    });
}

function renderDump(out: Output, result: DumpResult, displayUrl: string, remote: boolean): void {
  if (out.json) return out.data(result);
  const rows = result.tables.reduce((sum, t) => sum + t.rows, 0);
  if (result.target !== '-') {
    out.table(['table', 'rows'], result.tables.map((t) => [t.table, t.rows.toLocaleString('en-US')]));
  }
  const where = result.target === '-' ? 'standard output' : result.target;
  const trips = remote ? `, ${result.roundTrips} round trips` : '';
  out.success(
    `dumped ${displayUrl} to ${where}: ${result.content}, ${rows.toLocaleString('en-US')} rows in ${result.tables.length} tables, ` +
      `${megabytes(result.bytes)}, sha256 ${result.checksum.slice(0, 12)}… (${seconds(result.elapsedMs)}${trips})`,
  );
}

function inspectionReport(inspection: DumpInspection) {
  return {
    file: inspection.file,
    ok: inspection.ok,
    kind: inspection.kind,
    compressed: inspection.compressed,
    bytes: inspection.bytes,
    header: inspection.header,
    checksum: inspection.checksum,
    complete: inspection.complete,
    statements: inspection.statements,
    tables: inspection.tables.map((t) => ({ table: t.table, rows: t.rows, headerRows: t.headerRows, schema: t.createSql !== undefined })),
    indexes: inspection.indexes.length,
    views: inspection.views.length,
    triggers: inspection.triggers.length,
    skipped: inspection.skipped,
    problems: inspection.problems,
  };
}

function renderInspection(out: Output, inspection: DumpInspection): void {
  const header = inspection.header;
  if (header) {
    out.info(`qbank dump (format ${header.format}) by qbank ${header.qbankVersion}, system ${header.system}, created ${header.createdAt}`);
    out.info(`source ${header.source}; ${header.content}; ${megabytes(inspection.bytes)}${inspection.compressed ? ' uncompressed' : ''}`);
  } else {
    out.info(`sqlite3-style dump (no qbank header), ${megabytes(inspection.bytes)}${inspection.compressed ? ' uncompressed' : ''}`);
  }
  out.table(
    ['table', 'rows in file', 'header says'],
    inspection.tables.map((t) => [
      t.table,
      t.rows.toLocaleString('en-US'),
      t.headerRows === undefined ? '' : t.headerRows === t.rows ? out.c.green(t.headerRows.toLocaleString('en-US')) : out.c.red(t.headerRows.toLocaleString('en-US')),
    ]),
  );
  for (const note of inspection.skipped) out.notice(`a restore skips ${note}`);
}

function renderRestore(out: Output, result: RestoreResult): void {
  if (out.json) return out.data(result);
  if (result.leftoversRemoved.length > 0) out.notice(`removed ${result.leftoversRemoved.length} staging table(s) left by an interrupted restore: ${result.leftoversRemoved.join(', ')}`);
  if (result.reconnected) out.notice('the connection dropped as the restore was being switched in; qbank reconnected and found it applied');
  for (const note of result.skipped) out.notice(`skipped ${note}`);
  out.table(
    ['table', 'rows', 'count check'],
    result.tables.map((t) => [t.table, t.rows.toLocaleString('en-US'), t.verified ? out.c.green('ok') : out.c.red('differs')]),
  );
  const rows = result.tables.reduce((sum, t) => sum + t.rows, 0);
  const how = result.strategy === 'one transaction' ? 'in one transaction' : `through staging tables, ${result.batches} batches, ${result.roundTrips} round trips`;
  const audit = result.auditMerged.map((t) => `${t.rows.toLocaleString('en-US')} rows of ${t.table}`);
  if (audit.length > 0) out.notice(`merged the dump's audit record into the database's own (${audit.join(', ')}); entries the database had are kept`);
  out.success(
    `restored ${rows.toLocaleString('en-US')} rows in ${result.tables.length} tables, ${result.indexes} indexes, ${result.views} views, ` +
      `${result.triggers} triggers into ${result.database} ${how} (${seconds(result.elapsedMs)})`,
  );
}
