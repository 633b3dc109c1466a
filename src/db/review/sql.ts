import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { InStatement, InValue, ResultSet, Row } from '@libsql/client';
import { describeDatabaseError, isBusyError, readBatch, type Database } from '../client.js';

/** A column value exactly as the database returned it: what a conditional update compares against. */
export type SqlValue = null | number | string | bigint | ArrayBuffer;

/** Every column of one row, by SQL name: the state an item was shown in. */
export type RowSnapshot = Record<string, SqlValue>;

/**
 * Statements plus how to read their results. Queries compose, so a decision, its audit rows and
 * the read that follows can travel in one batch: one round trip on a remote database.
 */
export interface Query<T> {
  statements: InStatement[];
  parse: (results: ResultSet[]) => T;
}

/** A piece of SQL with its arguments: a filter, a window, a whole statement. */
export interface SqlPart {
  sql: string;
  args: InValue[];
}

export type Statement = SqlPart;

/** ` AND a AND b`: conditions appended to a WHERE that already has one. */
export const and = (parts: string[]): string => parts.map((p) => ` AND ${p}`).join('');

export function query<T>(statements: InStatement[], parse: (results: ResultSet[]) => T): Query<T> {
  return { statements, parse };
}

export function combine<A, B>(first: Query<A>, second: Query<B>): Query<[A, B]> {
  const split = first.statements.length;
  return {
    statements: [...first.statements, ...second.statements],
    parse: (results) => [first.parse(results.slice(0, split)), second.parse(results.slice(split))],
  };
}

export function combineAll<T>(queries: Array<Query<T>>): Query<T[]> {
  const offsets: number[] = [];
  const statements: InStatement[] = [];
  for (const q of queries) {
    offsets.push(statements.length);
    statements.push(...q.statements);
  }
  return {
    statements,
    parse: (results) => queries.map((q, i) => q.parse(results.slice(offsets[i], offsets[i] + q.statements.length))),
  };
}

export async function runRead<T>(database: Database, q: Query<T>, command: string): Promise<T> {
  if (q.statements.length === 0) return q.parse([]);
  try {
    return q.parse(await readBatch(database, q.statements));
  } catch (error) {
    throw describeDatabaseError(error, database, command);
  }
}

export interface WriteOptions {
  /** How long a `file:` database may stay locked by another process before we give up. */
  busyTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs the statements as one write transaction. On a `file:` database another process may hold
 * the lock. The connection first gets a busy timeout, so BEGIN and COMMIT wait instead of failing
 * at once. A batch that still met SQLITE_BUSY was rolled back whole, so it is tried again, on
 * fresh connections: libsql leaves a statement that failed with SQLITE_BUSY un-reset, and every
 * later COMMIT on that connection fails with "SQL statements in progress".
 * Remote writes are never retried: after a transport failure the outcome is unknown.
 */
export async function runWrite<T>(database: Database, q: Query<T>, command: string, options: WriteOptions = {}): Promise<T> {
  if (q.statements.length === 0) return q.parse([]);
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  const deadline = Date.now() + busyTimeoutMs;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const local = database.kind === 'file';
  for (let attempt = 0; ; attempt++) {
    try {
      if (local) await database.client.execute(`PRAGMA busy_timeout = ${Math.floor(busyTimeoutMs)}`);
      return q.parse(await database.client.batch(q.statements, 'write'));
    } catch (error) {
      if (local && isBusyError(error) && Date.now() < deadline) {
        // a file client holds a connection only for the synchronous span of one call, so reopening its pool cuts nothing short
        await database.client.reconnect();
        await sleep(Math.min(200, 5 * 2 ** attempt) + Math.floor(Math.random() * 5));
        continue;
      }
      throw describeDatabaseError(error, database, command);
    }
  }
}

export function snapshotOf(row: Row, columns: string[]): RowSnapshot {
  const snapshot: RowSnapshot = {};
  for (const column of columns) if (!column.startsWith('_')) snapshot[column] = (row[column] ?? null) as SqlValue;
  return snapshot;
}

/** The columns whose values differ between two snapshots of the same row. */
export function changedColumns(before: RowSnapshot, after: RowSnapshot): string[] {
  return Object.keys(after).filter((c) => before[c] !== after[c]);
}

export function pick(snapshot: RowSnapshot, columns: string[]): RowSnapshot {
  return Object.fromEntries(columns.map((c) => [c, snapshot[c] ?? null]));
}

/** Parses a JSON text column leniently: real data has a few malformed or double-encoded values. */
export function parseJsonColumn(value: SqlValue | undefined): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function stringList(value: SqlValue | undefined): string[] {
  const parsed = parseJsonColumn(value);
  if (Array.isArray(parsed)) return parsed.map(String);
  if (typeof parsed === 'string' && parsed.trim()) return parsed.split(',').map((s) => s.trim()).filter(Boolean);
  return [];
}

export function text(value: SqlValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

export function num(value: SqlValue | undefined): number | null {
  return value === null || value === undefined || value === '' ? null : Number(value);
}

/** PingToPass stores unix seconds; everything qbank prints is ISO-8601. */
export function unixToIso(value: SqlValue | undefined): string | null {
  const n = num(value);
  return n === null || !Number.isFinite(n) ? null : new Date(n * 1000).toISOString();
}

export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A 24-character lowercase id starting with a letter: the shape of the cuid2 ids PingToPass creates. */
export function newCuidLikeId(): string {
  const bytes = randomBytes(24);
  let id = ID_ALPHABET[bytes[0] % 26];
  for (let i = 1; i < 24; i++) id += ID_ALPHABET[bytes[i] % 36];
  return id;
}

export function rowsAffected(result: ResultSet | undefined): number {
  return result ? Number(result.rowsAffected) : 0;
}
