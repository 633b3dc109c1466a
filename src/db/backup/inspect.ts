import { parseHeader, QBANK_OWN_PREFIX, STAGING_PREFIX, type DumpHeader } from './dump-format.js';
import { scanDump, type DumpScanOptions } from './dump-reader.js';
import { classifyStatement, type DumpStatement } from './statements.js';

export interface TableInDump {
  table: string;
  /** The CREATE TABLE text, absent in a data-only dump. */
  createSql?: string;
  /** INSERT statements for the table found in the file. */
  rows: number;
  /** Rows the header promises (qbank dumps only). */
  headerRows?: number;
}

export interface DumpInspection {
  file: string;
  /** `qbank` for qbank's own dumps; `sqlite` for `sqlite3 .dump` and sqld / `turso db shell .dump` output. */
  kind: 'qbank' | 'sqlite';
  compressed: boolean;
  bytes: number;
  header?: DumpHeader;
  checksum: { recorded?: string; computed: string; matches: boolean | null };
  statements: number;
  /** True when the text ends with the COMMIT of the dump's transaction and nothing is cut off. */
  complete: boolean;
  hasSchema: boolean;
  tables: TableInDump[];
  indexes: Array<{ name: string; table: string; sql: string }>;
  views: Array<{ name: string; sql: string }>;
  triggers: Array<{ name: string; table: string; sql: string }>;
  sequences: Array<{ table: string; seq: bigint }>;
  /** Statements a restore leaves out on purpose (statistics), said once each. */
  skipped: string[];
  /** Everything wrong with the file; empty means it may be restored. */
  problems: string[];
  ok: boolean;
}

/**
 * Reads a dump without a database and says whether it is whole: the seal (for qbank dumps), the
 * final COMMIT, row counts against the header, and statements a restore would not know.
 */
export async function inspectDump(path: string, options: DumpScanOptions = {}): Promise<DumpInspection> {
  const tables = new Map<string, TableInDump>();
  const tableFor = (name: string) => {
    let entry = tables.get(name);
    if (!entry) {
      entry = { table: name, rows: 0 };
      tables.set(name, entry);
    }
    return entry;
  };
  const inspection: Omit<DumpInspection, 'file' | 'kind' | 'compressed' | 'bytes' | 'checksum' | 'statements' | 'complete' | 'ok' | 'tables'> = {
    hasSchema: false,
    indexes: [],
    views: [],
    triggers: [],
    sequences: [],
    skipped: [],
    problems: [],
  };
  const problems = inspection.problems;
  const skipped = new Set<string>();
  const unknown: string[] = [];
  let sawBegin = false;
  let last: DumpStatement | undefined;
  let afterCommit = 0;
  let rolledBack = false;

  const onStatement = ({ text, line }: { text: string; line: number }) => {
    const statement = classifyStatement(text);
    if (last?.kind === 'commit') afterCommit++;
    last = statement;
    switch (statement.kind) {
      case 'begin':
        sawBegin = true;
        break;
      case 'rollback':
        rolledBack = true;
        break;
      case 'commit':
        break;
      case 'pragma':
        if (statement.name === 'writable_schema') unknown.push(`line ${line}: PRAGMA writable_schema (virtual tables are not supported by qbank restore)`);
        else if (statement.name !== 'foreign_keys') unknown.push(`line ${line}: PRAGMA ${statement.name}`);
        break;
      case 'create-table':
        if (statement.virtual) unknown.push(`line ${line}: CREATE VIRTUAL TABLE ${statement.name} (virtual tables are not supported)`);
        else if (statement.name.startsWith(STAGING_PREFIX)) unknown.push(`line ${line}: ${statement.name} is a name qbank reserves for restores`);
        else {
          if (statement.name.toLowerCase().startsWith(QBANK_OWN_PREFIX)) skipped.add(`qbank's own table ${statement.name} (bookkeeping of the database the dump came from)`);
          inspection.hasSchema = true;
          const entry = tableFor(statement.name);
          if (entry.createSql !== undefined) unknown.push(`line ${line}: table ${statement.name} is created twice`);
          entry.createSql = text;
        }
        break;
      case 'create-index':
        inspection.hasSchema = true;
        inspection.indexes.push({ name: statement.name, table: statement.table, sql: text });
        break;
      case 'create-view':
        inspection.hasSchema = true;
        inspection.views.push({ name: statement.name, sql: text });
        break;
      case 'create-trigger':
        inspection.hasSchema = true;
        inspection.triggers.push({ name: statement.name, table: statement.table, sql: text });
        break;
      case 'insert':
        tableFor(statement.table).rows += statement.rows;
        break;
      case 'sequence':
        inspection.sequences.push({ table: statement.table, seq: statement.seq });
        break;
      case 'sequence-reset':
        break;
      case 'analyze':
        skipped.add('sqlite_stat1 statistics (run ANALYZE after the restore to rebuild them)');
        break;
      case 'other':
        unknown.push(`line ${line}: ${statement.head}${statement.reason ? `: ${statement.reason}` : '…'}`);
        break;
    }
  };

  const scan = await scanDump(path, onStatement, options);
  const { header, problems: headerProblems } = parseHeader(scan.headerLines);
  problems.push(...headerProblems);
  const kind = header ? 'qbank' : 'sqlite';

  if (scan.notUtf8) problems.push(scan.notUtf8);
  if (scan.incomplete) problems.push(`the file is cut off: ${scan.incomplete}`);
  let matches: boolean | null = null;
  if (kind === 'qbank') {
    if (scan.checksum.recorded === undefined) problems.push('the last line is not the qbank-checksum line: the file is cut off or was edited');
    else {
      matches = scan.checksum.recorded === scan.checksum.computed;
      if (!matches) problems.push(`checksum mismatch: the file was altered or damaged after it was written (recorded ${scan.checksum.recorded.slice(0, 12)}…, computed ${scan.checksum.computed.slice(0, 12)}…)`);
    }
  }
  if (rolledBack) problems.push('the dump ends its transaction with ROLLBACK: the tool that wrote it hit an error');
  const complete = !scan.incomplete && last?.kind === 'commit' && afterCommit === 0 && sawBegin;
  if (!complete && !scan.incomplete && !scan.notUtf8) {
    problems.push(
      sawBegin
        ? 'the dump does not end with the COMMIT of its transaction: it is cut off'
        : 'this is not a database dump: there is no BEGIN TRANSACTION ... COMMIT around its statements',
    );
  }
  if (unknown.length > 0) {
    problems.push(`${unknown.length} statement(s) a restore does not accept (a dump holds tables, indexes, views, triggers and rows of literal values only):`);
    problems.push(...unknown.slice(0, 10).map((line) => '  ' + line));
  }

  if (header) {
    const headerRows = new Map(header.tables.map((t) => [t.table, t.rows]));
    for (const entry of tables.values()) {
      if (headerRows.has(entry.table)) entry.headerRows = headerRows.get(entry.table);
    }
    if (header.content !== 'schema only') {
      for (const { table, rows } of header.tables) {
        const found = tables.get(table);
        if (!found) {
          tables.set(table, { table, rows: 0, headerRows: rows });
          if (rows > 0) problems.push(`table ${table}: the header promises ${rows} rows, the file has none`);
        } else if (found.rows !== rows) problems.push(`table ${table}: the header promises ${rows} rows, the file has ${found.rows}`);
      }
      for (const entry of tables.values()) {
        if (!headerRows.has(entry.table) && entry.rows > 0) problems.push(`table ${entry.table}: ${entry.rows} rows that the header does not list`);
      }
    }
  }
  for (const entry of tables.values()) {
    if (entry.rows > 0 && entry.createSql === undefined && inspection.hasSchema) {
      problems.push(`table ${entry.table}: rows but no CREATE TABLE in a dump that has a schema`);
    }
  }
  for (const index of inspection.indexes) {
    if (inspection.hasSchema && !tables.get(index.table)?.createSql) problems.push(`index ${index.name} is on ${index.table}, which the dump does not create`);
  }
  const viewNames = new Set(inspection.views.map((v) => v.name.toLowerCase()));
  for (const trigger of inspection.triggers) {
    if (!tables.get(trigger.table)?.createSql && !viewNames.has(trigger.table.toLowerCase())) {
      problems.push(`trigger ${trigger.name} is on ${trigger.table}, which the dump does not create`);
    }
  }

  return {
    file: path,
    kind,
    compressed: scan.compressed,
    bytes: scan.bytes,
    header,
    checksum: { ...scan.checksum, matches },
    statements: scan.statements,
    complete,
    ...inspection,
    skipped: [...skipped],
    tables: [...tables.values()],
    ok: problems.length === 0,
  };
}
