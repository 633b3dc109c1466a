/**
 * The qbank dump file: plain SQL that `sqlite3` and `turso db shell` load as it is, with a header
 * of comments that says what is inside and a last line that seals everything before it.
 *
 *   -- qbank backup dump (format 1)
 *   -- qbank-version: 0.1.0
 *   -- system: pingtopass
 *   -- created-at: 2026-05-01T12:00:00.000Z
 *   -- source: file:/srv/qbank.db
 *   -- content: schema and data
 *   -- table "questions": 200000 rows
 *   PRAGMA foreign_keys=OFF;
 *   BEGIN TRANSACTION;
 *   ...tables, rows, sqlite_sequence, indexes, views, triggers...
 *   COMMIT;
 *   -- qbank-checksum: sha256:<hex of every byte before this line>
 */

export const DUMP_FORMAT = 1;
export const DUMP_MAGIC = '-- qbank backup dump';
export const CHECKSUM_PREFIX = '-- qbank-checksum: sha256:';
export const CHECKSUM_LINE = /^-- qbank-checksum: sha256:([0-9a-f]{64})\r?$/;
/** Tables a remote restore fills before switching them in; never part of a dump. */
export const STAGING_PREFIX = '__qbank_restore_';
/** qbank's own tables: staging and the restore lock are bookkeeping of one database, never dumped; the audit record is dumped and merged on restore. */
export const QBANK_OWN_PREFIX = '__qbank_';

export type DumpContent = 'schema and data' | 'schema only' | 'data only';

export interface DumpHeader {
  format: number;
  qbankVersion: string;
  system: string;
  createdAt: string;
  source: string;
  content: DumpContent;
  /** Rows per table, in dump order. */
  tables: Array<{ table: string; rows: number }>;
}

function quoteHeaderName(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

export function formatHeader(header: DumpHeader): string {
  const lines = [
    `${DUMP_MAGIC} (format ${header.format})`,
    `-- qbank-version: ${header.qbankVersion}`,
    `-- system: ${header.system}`,
    `-- created-at: ${header.createdAt}`,
    `-- source: ${header.source.replace(/[\r\n]/g, ' ')}`,
    `-- content: ${header.content}`,
  ];
  if (header.content !== 'schema only') {
    for (const { table, rows } of header.tables) lines.push(`-- table ${quoteHeaderName(table)}: ${rows} rows`);
  }
  return lines.map((line) => line + '\n').join('');
}

export function isQbankDump(firstLine: string): boolean {
  return firstLine.startsWith(DUMP_MAGIC);
}

/** Reads the header from the leading comment lines; undefined when the file is not a qbank dump. */
export function parseHeader(lines: string[]): { header?: DumpHeader; problems: string[] } {
  const problems: string[] = [];
  if (lines.length === 0 || !isQbankDump(lines[0]!)) return { problems };
  const format = /\(format (\d+)\)/.exec(lines[0]!)?.[1];
  const header: DumpHeader = {
    format: format ? Number(format) : 0,
    qbankVersion: '',
    system: '',
    createdAt: '',
    source: '',
    content: 'schema and data',
    tables: [],
  };
  for (const line of lines.slice(1)) {
    const table = /^-- table "((?:[^"]|"")*)": (\d+) rows$/.exec(line);
    if (table) {
      header.tables.push({ table: table[1]!.replaceAll('""', '"'), rows: Number(table[2]) });
      continue;
    }
    const field = /^-- ([a-z-]+): (.*)$/.exec(line);
    if (!field) continue;
    const [, key, value] = field;
    if (key === 'qbank-version') header.qbankVersion = value!;
    else if (key === 'system') header.system = value!;
    else if (key === 'created-at') header.createdAt = value!;
    else if (key === 'source') header.source = value!;
    else if (key === 'content') {
      if (value === 'schema and data' || value === 'schema only' || value === 'data only') header.content = value;
      else problems.push(`the header names an unknown content "${value}"`);
    }
  }
  if (header.format !== DUMP_FORMAT) problems.push(`the header says format ${header.format || '?'}; this qbank reads format ${DUMP_FORMAT}`);
  return { header, problems };
}

export function checksumLine(hex: string): string {
  return `${CHECKSUM_PREFIX}${hex}\n`;
}
