import type { Command } from 'commander';
import type { DumpResult } from '../db/backup/dump.js';
import type { DumpInspection } from '../db/backup/inspect.js';
import type { RestoreResult } from '../db/backup/restore.js';
import { CheckFailedError, ExitCode, UsageError } from '../errors.js';
import type { Output, Progress } from '../output/output.js';
import { type CommandContext, examples } from './context.js';

function collectNames(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((name) => name.trim()).filter((name) => name.length > 0)];
}

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

export function registerBackupCommands(program: Command, context: CommandContext): void {
  const backup = program.command('backup').description('consistent, verifiable SQL dumps that restore all-or-nothing');

  backup
    .command('dump')
    .description('write a consistent dump (schema, then rows as INSERTs) sealed with a checksum')
    .argument('[file]', 'where to write it; `-` for standard output; a name ending in .gz is compressed', undefined)
    .option('--tables <names>', 'only these tables (comma-separated, repeatable)', collectNames, [])
    .option('--exclude-tables <names>', 'leave these tables out (comma-separated, repeatable)', collectNames, [])
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
    .action(
      async (
        file: string | undefined,
        options: { tables: string[]; excludeTables: string[]; schemaOnly?: boolean; dataOnly?: boolean; force?: boolean },
        command: Command,
      ) => {
        const out = context.output(command);
        if (file === '-' && out.json) throw new UsageError('--json and `-` both want standard output', { hint: 'write the dump to a file to get a JSON summary' });
        const config = context.config(command, 'read');
        for (const notice of config.notices) out.notice(notice);
        const [{ openBackupDatabase, dumpDatabase }, { fileSink, streamSink }, { resolve }, { VERSION }] = await Promise.all([
          import('../db/backup/dump.js'),
          import('../db/backup/dump-sink.js'),
          import('node:path'),
          import('../version.js'),
        ]);
        const target = file ?? defaultDumpName(context.io.now());
        const database = openBackupDatabase(config, { debug: debugLogger(context, command, out) });
        let bar: Progress | undefined;
        let barTable = '';
        try {
          const sink = target === '-' ? streamSink(context.io.stdout) : fileSink(resolve(context.io.cwd, target), { overwrite: options.force });
          const result = await dumpDatabase(database, sink, {
            tables: options.tables,
            excludeTables: options.excludeTables,
            schemaOnly: options.schemaOnly,
            dataOnly: options.dataOnly,
            system: config.system,
            qbankVersion: VERSION,
            now: context.io.now,
            onProgress: ({ table, rowsDone, rowsTotal, bytes }) => {
              if (table !== barTable) {
                bar?.finish();
                bar = out.progress(`dump ${table}`, rowsTotal, ' rows');
                barTable = table;
              }
              bar!.update(rowsDone, megabytes(bytes));
            },
          });
          bar?.finish();
          renderDump(out, result, database.displayUrl, database.kind === 'remote');
        } finally {
          bar?.finish();
          database.close();
        }
      },
    );

  backup
    .command('verify')
    .description('check a dump without a database: its checksum, its completeness and its row counts')
    .argument('<file>', 'a qbank dump (.sql or .sql.gz), or a sqlite3 / turso db shell .dump')
    .addHelpText(
      'after',
      examples([
        ['qbank backup verify backup.sql', 'exit 0 when the file is whole, 6 when it is cut off or altered'],
        ['qbank backup verify backup.sql.gz --json', 'the report as JSON'],
      ]),
    )
    .action(async (file: string, _options: unknown, command: Command) => {
      const out = context.output(command);
      const [{ inspectDump }, { resolve }] = await Promise.all([import('../db/backup/inspect.js'), import('node:path')]);
      const inspection = await inspectDump(resolve(context.io.cwd, file));
      if (out.json) {
        out.data(inspectionReport(inspection));
        if (!inspection.ok) {
          out.error(`${file} failed verification`);
          context.exitCode = ExitCode.checkFailed;
        }
        return;
      }
      renderInspection(out, inspection);
      if (!inspection.ok) throw new CheckFailedError(`${file} failed verification`, { details: inspection.problems });
      out.success(`${file} is complete${inspection.kind === 'qbank' ? ' and its checksum matches' : ' (a sqlite3-style dump: no checksum to check)'}`);
    });

  backup
    .command('restore')
    .description('restore a dump all-or-nothing (into an empty database unless --clean)')
    .argument('<file>', 'a qbank dump (.sql or .sql.gz), or a sqlite3 / turso db shell .dump')
    .option('--clean', 'drop the tables, views, indexes and triggers the dump contains first (data-only dumps: delete their rows)')
    .option('-y, --yes', 'confirm --clean without a prompt (needed without a terminal)')
    .option('--tables <names>', 'restore only these tables (comma-separated, repeatable)', collectNames, [])
    .addHelpText(
      'after',
      examples([
        ['qbank backup restore backup.sql', 'into an empty database'],
        ['qbank backup restore backup.sql.gz --clean --yes', 'replace what the dump contains, in CI'],
        ['qbank backup restore backup.sql --tables questions,answer_options --clean', 'put two tables back'],
      ]),
    )
    .action(async (file: string, options: { clean?: boolean; yes?: boolean; tables: string[] }, command: Command) => {
      const out = context.output(command);
      if (file === '-') throw new UsageError('restore reads the file twice (to verify it, then to load it), so it needs a file, not standard input');
      const config = context.config(command, 'write');
      for (const notice of config.notices) out.notice(notice);
      const [{ openBackupDatabase }, { restoreDump }, { resolve }] = await Promise.all([
        import('../db/backup/dump.js'),
        import('../db/backup/restore.js'),
        import('node:path'),
      ]);
      const database = openBackupDatabase(config, { debug: debugLogger(context, command, out) });
      let bar: Progress | undefined;
      let phase = '';
      try {
        const result = await restoreDump(database, resolve(context.io.cwd, file), {
          clean: options.clean,
          tables: options.tables,
          onProgress: (progress) => {
            if (progress.phase !== phase) {
              bar?.finish();
              phase = progress.phase;
              bar = out.progress(progress.phase === 'verify' ? 'verify' : 'restore', progress.fileBytes, ' bytes');
            }
            bar!.update(progress.fileBytesRead);
          },
          confirmClean: async (plan) => {
            if (options.yes) return true;
            bar?.finish();
            for (const item of plan.drop) out.info(`  drop ${item}`);
            for (const item of plan.empty) out.info(`  delete ${item.rows} rows from ${item.table}`);
            return out.confirm(`Replace this content of ${database.displayUrl} with the dump?`);
          },
        });
        bar?.finish();
        renderRestore(out, result);
      } finally {
        bar?.finish();
        database.close();
      }
    });
}

function debugLogger(context: CommandContext, command: Command, out: Output): ((line: string) => void) | undefined {
  return context.globals(command).debug ? (line: string) => out.notice(`debug: ${line}`) : undefined;
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
  if (result.leftoversRemoved.length > 0) out.notice(`removed ${result.leftoversRemoved.length} staging table(s) left by an interrupted restore`);
  for (const note of result.skipped) out.notice(`skipped ${note}`);
  out.table(
    ['table', 'rows', 'count check'],
    result.tables.map((t) => [t.table, t.rows.toLocaleString('en-US'), t.verified ? out.c.green('ok') : out.c.red('differs')]),
  );
  const rows = result.tables.reduce((sum, t) => sum + t.rows, 0);
  const how = result.strategy === 'one transaction' ? 'in one transaction' : `through staging tables, ${result.batches} batches, ${result.roundTrips} round trips`;
  out.success(
    `restored ${rows.toLocaleString('en-US')} rows in ${result.tables.length} tables, ${result.indexes} indexes, ${result.views} views, ` +
      `${result.triggers} triggers into ${result.database} ${how} (${seconds(result.elapsedMs)})`,
  );
}
