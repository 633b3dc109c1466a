import { parseHeader, QBANK_OWN_PREFIX, STAGING_PREFIX, type DumpHeader } from './dump-format.js';
import { scanDump, type DumpScanOptions, type DumpScanResult } from './dump-reader.js';
import { isMergedTable } from './merged-tables.js';
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

/** What the statements of a dump say, gathered one statement at a time. */
class StatementCollector {
  readonly tables = new Map<string, TableInDump>();
  hasSchema = false;
  readonly indexes: DumpInspection['indexes'] = [];
  readonly views: DumpInspection['views'] = [];
  readonly triggers: DumpInspection['triggers'] = [];
  readonly sequences: DumpInspection['sequences'] = [];
  readonly skipped = new Set<string>();
  /** Statements outside a dump's vocabulary, with their lines. */
  readonly unknown: string[] = [];
  sawBegin = false;
  last: DumpStatement | undefined;
  afterCommit = 0;
  rolledBack = false;

  private tableFor(name: string): TableInDump {
    let entry = this.tables.get(name);
    if (!entry) {
      entry = { table: name, rows: 0 };
      this.tables.set(name, entry);
    }
    return entry;
  }

  readonly add = ({ text, line }: { text: string; line: number }): void => {
    const statement = classifyStatement(text);
    if (this.last?.kind === 'commit') this.afterCommit++;
    this.last = statement;
    switch (statement.kind) {
      case 'begin':
        this.sawBegin = true;
        break;
      case 'rollback':
        this.rolledBack = true;
        break;
      case 'commit':
        break;
      case 'pragma':
        if (statement.name === 'writable_schema') this.unknown.push(`line ${line}: PRAGMA writable_schema (virtual tables are not supported by qbank restore)`);
        else if (statement.name !== 'foreign_keys') this.unknown.push(`line ${line}: PRAGMA ${statement.name}`);
        break;
      case 'create-table':
        if (statement.virtual) this.unknown.push(`line ${line}: CREATE VIRTUAL TABLE ${statement.name} (virtual tables are not supported)`);
        else if (statement.name.startsWith(STAGING_PREFIX)) this.unknown.push(`line ${line}: ${statement.name} is a name qbank reserves for restores`);
        else {
          if (statement.name.toLowerCase().startsWith(QBANK_OWN_PREFIX) && !isMergedTable(statement.name)) this.skipped.add(`qbank's own table ${statement.name} (bookkeeping of the database the dump came from)`);
          this.hasSchema = true;
          const entry = this.tableFor(statement.name);
          if (entry.createSql !== undefined) this.unknown.push(`line ${line}: table ${statement.name} is created twice`);
          entry.createSql = text;
        }
        break;
      case 'create-index':
        this.hasSchema = true;
        this.indexes.push({ name: statement.name, table: statement.table, sql: text });
        break;
      case 'create-view':
        this.hasSchema = true;
        this.views.push({ name: statement.name, sql: text });
        break;
      case 'create-trigger':
        this.hasSchema = true;
        this.triggers.push({ name: statement.name, table: statement.table, sql: text });
        break;
      case 'insert':
        this.tableFor(statement.table).rows += statement.rows;
        break;
      case 'sequence':
        this.sequences.push({ table: statement.table, seq: statement.seq });
        break;
      case 'sequence-reset':
        break;
      case 'analyze':
        this.skipped.add('sqlite_stat1 statistics (run ANALYZE after the restore to rebuild them)');
        break;
      case 'other':
        this.unknown.push(`line ${line}: ${statement.head}${statement.reason ? `: ${statement.reason}` : '…'}`);
        break;
    }
  };
}

/**
 * Reads a dump without a database and says whether it is whole: the seal (for qbank dumps), the
 * final COMMIT, row counts against the header, and statements a restore would not accept.
 */
export async function inspectDump(path: string, options: DumpScanOptions = {}): Promise<DumpInspection> {
  const collected = new StatementCollector();
  const scan = await scanDump(path, collected.add, options);
  const { header, problems: headerProblems } = parseHeader(scan.headerLines);
  const problems = [...headerProblems, ...fileProblems(scan, header !== undefined)];
  const { tables, unknown } = collected;
  const complete = !scan.incomplete && collected.last?.kind === 'commit' && collected.afterCommit === 0 && collected.sawBegin;
  if (collected.rolledBack) problems.push('the dump ends its transaction with ROLLBACK: the tool that wrote it hit an error');
  if (!complete && !scan.incomplete && !scan.notUtf8) {
    problems.push(
      collected.sawBegin
        ? 'the dump does not end with the COMMIT of its transaction: it is cut off'
        : 'this is not a database dump: there is no BEGIN TRANSACTION ... COMMIT around its statements',
    );
  }
  if (unknown.length > 0) {
    problems.push(`${unknown.length} statement(s) a restore does not accept (a dump holds tables, indexes, views, triggers and rows of literal values only):`);
    problems.push(...unknown.slice(0, 10).map((line) => '  ' + line));
  }
  if (header) problems.push(...checkAgainstHeader(header, tables));
  problems.push(...checkReferences(collected));
  const recorded = scan.checksum.recorded;
  return {
    file: path,
    kind: header ? 'qbank' : 'sqlite',
    compressed: scan.compressed,
    bytes: scan.bytes,
    header,
    checksum: { ...scan.checksum, matches: header && recorded !== undefined ? recorded === scan.checksum.computed : null },
    statements: scan.statements,
    complete,
    hasSchema: collected.hasSchema,
    indexes: collected.indexes,
    views: collected.views,
    triggers: collected.triggers,
    sequences: collected.sequences,
    skipped: [...collected.skipped],
    problems,
    tables: [...tables.values()],
    ok: problems.length === 0,
  };
}

/** The bytes themselves: UTF-8, not cut off, and (qbank dumps) sealed by a matching checksum. */
function fileProblems(scan: DumpScanResult, isQbank: boolean): string[] {
  const problems: string[] = [];
  if (scan.notUtf8) problems.push(scan.notUtf8);
  if (scan.incomplete) problems.push(`the file is cut off: ${scan.incomplete}`);
  if (isQbank) {
    const recorded = scan.checksum.recorded;
    if (recorded === undefined) problems.push('the last line is not the qbank-checksum line: the file is cut off or was edited');
    else if (recorded !== scan.checksum.computed) {
      problems.push(`checksum mismatch: the file was altered or damaged after it was written (recorded ${recorded.slice(0, 12)}…, computed ${scan.checksum.computed.slice(0, 12)}…)`);
    }
  }
  return problems;
}

/** Rows in the file against the rows the header promises; notes each table's header count. */
function checkAgainstHeader(header: DumpHeader, tables: Map<string, TableInDump>): string[] {
  const problems: string[] = [];
  const headerRows = new Map(header.tables.map((t) => [t.table, t.rows]));
  for (const entry of tables.values()) {
    if (headerRows.has(entry.table)) entry.headerRows = headerRows.get(entry.table);
  }
  if (header.content === 'schema only') return problems;
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
  return problems;
}

/** Rows, indexes and triggers for tables the dump does not create. */
function checkReferences(collected: StatementCollector): string[] {
  const problems: string[] = [];
  const { tables, hasSchema } = collected;
  for (const entry of tables.values()) {
    if (entry.rows > 0 && entry.createSql === undefined && hasSchema) problems.push(`table ${entry.table}: rows but no CREATE TABLE in a dump that has a schema`);
  }
  for (const index of collected.indexes) {
    if (hasSchema && !tables.get(index.table)?.createSql) problems.push(`index ${index.name} is on ${index.table}, which the dump does not create`);
  }
  const viewNames = new Set(collected.views.map((v) => v.name.toLowerCase()));
  for (const trigger of collected.triggers) {
    if (!tables.get(trigger.table)?.createSql && !viewNames.has(trigger.table.toLowerCase())) {
      problems.push(`trigger ${trigger.name} is on ${trigger.table}, which the dump does not create`);
    }
  }
  return problems;
}
