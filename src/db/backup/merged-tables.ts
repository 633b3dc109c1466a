import { AUDIT_ROWS_STATEMENTS, AUDIT_ROWS_TABLE } from '../audit/row-images.js';
import { AUDIT_TABLE, AUDIT_TABLE_STATEMENTS } from '../run-record.js';
import type { DumpStatement } from './statements.js';

/**
 * qbank's audit record (`__qbank_audit`, `__qbank_audit_rows`) travels in dumps like any table,
 * but a restore never replaces it: the target's own record is history of the target, so the
 * dump's entries and before-images are merged in by their keys (run id; run, table and row),
 * the target's kept where both have one. A target without the tables gets them as the dump
 * defines them (as qbank defines them, for a dump of data only).
 */
const MERGED: ReadonlyMap<string, readonly string[]> = new Map([
  [AUDIT_TABLE.toLowerCase(), AUDIT_TABLE_STATEMENTS],
  [AUDIT_ROWS_TABLE.toLowerCase(), AUDIT_ROWS_STATEMENTS],
]);

/** Whether a restore merges the table's rows into the target's instead of replacing the table. */
export function isMergedTable(name: string): boolean {
  return MERGED.has(name.toLowerCase());
}

/** qbank's own statements for the table (CREATE TABLE IF NOT EXISTS, then its indexes). */
export function ownDefinition(name: string): readonly string[] {
  return MERGED.get(name.toLowerCase()) ?? [];
}

const CREATE_HEAD = /^(\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|TRIGGER)\s+)(?!IF\s+NOT\s+EXISTS\b)/i;

/** A dump's CREATE statement that leaves an object of that name as it is: `CREATE … IF NOT EXISTS`. */
export function createIfMissing(sql: string): string {
  return sql.replace(CREATE_HEAD, '$1IF NOT EXISTS ');
}

/**
 * A dump's `INSERT INTO t VALUES(…);` that keeps the target's row where the key is taken: only a
 * uniqueness conflict is passed over (`ON CONFLICT DO NOTHING`); any other constraint still fails
 * the restore, which `INSERT OR IGNORE` would hide.
 */
export function insertKeepingExisting(sql: string): string {
  const end = sql.lastIndexOf(';');
  return end < 0 ? `${sql} ON CONFLICT DO NOTHING` : `${sql.slice(0, end)} ON CONFLICT DO NOTHING${sql.slice(end)}`;
}

/** The text a restore runs for a statement of a merged table: a CREATE only where missing, rows only where their key is free. */
export function mergedStatementText(statement: DumpStatement, text: string): string {
  return statement.kind === 'insert' ? insertKeepingExisting(text) : createIfMissing(text);
}
