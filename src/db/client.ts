import { existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createClient, LibsqlError, type Client, type InArgs, type InStatement, type ResultSet } from '@libsql/client';
import type { Access, CredentialDescription, DatabaseConfig, DatabaseKind } from '../config.js';
import { BusyError, ConnectionError, QbankError, RefusedError, UsageError } from '../errors.js';
import { decodeToken, isExpired, type TokenClaims } from '../auth/jwt.js';

export interface Database {
  client: Client;
  kind: DatabaseKind;
  url: string;
  displayUrl: string;
  /** Claims read from the auth token without trusting them; used to word errors before a round trip. */
  tokenClaims?: TokenClaims;
  /** The credential sent and where it came from, so errors can name it. */
  credential: CredentialDescription;
  /** The variable a token would be read from, for "none is configured". */
  tokenVariable: string;
  /** How long a `file:` database waits for another writer's lock. */
  busyTimeoutMs: number;
  /** HTTP requests sent so far (remote only): benchmarks and `--debug` print it. */
  roundTrips: () => number;
  /**
   * Closes the connection. When it created the `file:` database (no file before) and nothing was
   * committed to it (no table, view, index or trigger), the file and its journal, WAL and
   * shared-memory files are removed: a command that failed leaves no new file behind.
   */
  close: () => void;
}

export interface OpenDatabaseOptions {
  /** Per-request timeout for remote databases. */
  timeoutMs?: number;
  /** How long a `file:` database waits for another writer's lock (default 5 s). */
  busyTimeoutMs?: number;
  intMode?: 'number' | 'bigint' | 'string';
  /** A reading command never creates a database: a missing `file:` database is an error. */
  access?: Access;
  debug?: (line: string) => void;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

const COMPANION_SUFFIXES = ['', '-journal', '-wal', '-shm'];

/** The path of a `file:` URL as the driver opens it; undefined for in-memory databases. */
export function filePathOfUrl(url: string): string | undefined {
  const path = url.slice('file:'.length).split('?')[0]!;
  return path === '' || path.startsWith(':memory:') ? undefined : path.replace(/^\/\/(?=\/)/, '');
}

/** True when the file at `path` has committed schema objects; an empty or unreadable file has none. */
function holdsSchema(path: string): boolean {
  if (!existsSync(path) || statSync(path).size === 0) return false;
  const require = createRequire(import.meta.url);
  const Libsql = require('libsql') as typeof import('libsql');
  let connection: NativeConnection | undefined;
  try {
    connection = new Libsql(path, { timeout: 1_000 });
    const row = connection.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number };
    return Number(row.n) > 0;
  } catch {
    // locked by another process, or not a database: not ours to remove
    return true;
  } finally {
    connection?.close();
  }
}

/** Facts for a reading command pointed at a `file:` database that does not exist. */
export class NoSuchDatabaseError extends UsageError {
  constructor(readonly path: string, displayUrl: string) {
    super(`${displayUrl}: there is no database file at ${path}`, {
      hint: 'reading commands never create a database; check the path, or create it with a writing command such as `qbank db push`',
    });
  }
}

function sizeText(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const shortBaton = (baton: unknown) => (typeof baton === 'string' ? baton.slice(0, 8) + '…' : undefined);

/** The SQL texts of a Hrana pipeline or cursor body (never the arguments). */
function statementsOf(body: { requests?: unknown[]; batch?: unknown }): string[] {
  const sql: string[] = [];
  const fromStmt = (stmt: unknown) => {
    const text = (stmt as { sql?: unknown })?.sql;
    if (typeof text === 'string') sql.push(text);
  };
  const fromBatch = (batch: unknown) => {
    for (const step of (batch as { steps?: unknown[] })?.steps ?? []) fromStmt((step as { stmt?: unknown }).stmt);
  };
  for (const request of body.requests ?? []) {
    const r = request as { type?: string; stmt?: unknown; batch?: unknown; sql?: unknown };
    if (r.type === 'execute') fromStmt(r.stmt);
    else if (r.type === 'batch') fromBatch(r.batch);
    else if (r.type === 'sequence' && typeof r.sql === 'string') sql.push(r.sql);
  }
  if (body.batch) fromBatch(body.batch);
  return sql;
}

/** `[2 statements, first "INSERT INTO …" 3.1 kB, baton 1a2b3c4d…]` for a Hrana request body. */
async function describeRequest(request: Request): Promise<string> {
  if (request.method !== 'POST') return '';
  try {
    const text = await request.clone().text();
    const body = JSON.parse(text) as { baton?: unknown; requests?: unknown[]; batch?: unknown };
    const sql = statementsOf(body);
    const parts: string[] = [];
    if (sql.length > 0) {
      // the transaction frame says little: show the first statement inside it
      const main = sql.find((text) => !/^\s*(BEGIN|COMMIT|ROLLBACK|END)\b/i.test(text)) ?? sql[0]!;
      const first = main.trim().split('\n')[0]!;
      parts.push(`${sql.length} statement${sql.length === 1 ? '' : 's'}, first "${first.length > 80 ? first.slice(0, 80) + '…' : first}"`);
    }
    parts.push(sizeText(text.length));
    const baton = shortBaton(body.baton);
    if (baton) parts.push(`baton ${baton}`);
    return `[${parts.join(', ')}]`;
  } catch {
    return '';
  }
}

/** `[baton 9f8e7d6c…]` or the server's error message, for a Hrana response. */
async function describeResponse(response: Response): Promise<string> {
  try {
    const text = await response.clone().text();
    if (!response.ok) return text ? `[${text.slice(0, 200).replace(/\s+/g, ' ')}]` : '';
    const body = JSON.parse(text) as { baton?: unknown };
    const baton = shortBaton(body.baton);
    return baton ? `[baton ${baton}]` : '';
  } catch {
    return '';
  }
}

/** Logs one request when --debug is on: method, host and path, statements, status or cause, time. */
function loggingFetch(debug: (line: string) => void, timeoutMs: number, count: () => void) {
  return async (input: Request | string | URL, init?: RequestInit) => {
    count();
    const started = Date.now();
    const request = input instanceof Request ? input : new Request(input, init);
    const target = new URL(request.url);
    const what = await describeRequest(request);
    const prefix = `${request.method} ${target.host}${target.pathname}${what ? ` ${what}` : ''}`;
    try {
      const response = await fetch(request, { signal: AbortSignal.timeout(timeoutMs) });
      const answer = await describeResponse(response);
      debug(`${prefix} -> ${response.status}${answer ? ` ${answer}` : ''} (${Date.now() - started} ms)`);
      return response;
    } catch (error) {
      debug(`${prefix} -> failed: ${transportCauseOf(error) ?? (error as Error).name} (${Date.now() - started} ms)`);
      throw error;
    }
  };
}

/** The one place qbank opens a database: `file:` and remote URLs share every line after this. */
export function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Database {
  let requests = 0;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const countingFetch = options.debug
    ? loggingFetch(options.debug, timeoutMs, () => requests++)
    : (input: Request | string | URL, init?: RequestInit) => {
        requests++;
        const request = input instanceof Request ? input : new Request(input, init);
        return fetch(request, { signal: AbortSignal.timeout(timeoutMs) });
      };
  const path = config.kind === 'file' ? filePathOfUrl(config.url) : undefined;
  const created: string[] = [];
  if (path !== undefined) {
    if (!existsSync(path) && options.access === 'read') throw new NoSuchDatabaseError(path, config.displayUrl);
    for (const suffix of COMPANION_SUFFIXES) if (!existsSync(path + suffix)) created.push(path + suffix);
  }
  let client: Client;
  try {
    client = createClient({
      url: config.url,
      authToken: config.authToken,
      intMode: options.intMode ?? 'number',
      // A file database shared with another process waits for its lock instead of failing at once.
      ...(config.kind === 'remote' ? { fetch: countingFetch } : { timeout: busyTimeoutMs }),
    });
  } catch (error) {
    throw new ConnectionError(`cannot open ${config.displayUrl}: ${(error as Error).message}`, { cause: error });
  }
  let tokenClaims: TokenClaims | undefined;
  if (config.authToken) {
    try {
      tokenClaims = decodeToken(config.authToken).claims;
    } catch {
      tokenClaims = undefined;
    }
  }
  const credential = config.connection?.credential ?? (config.authToken ? { kind: 'read-write' as const, source: null } : { kind: 'none' as const, source: null });
  return {
    client,
    kind: config.kind,
    url: config.url,
    displayUrl: config.displayUrl,
    tokenClaims,
    credential,
    tokenVariable: config.tokenVariable ?? 'TURSO_AUTH_TOKEN',
    busyTimeoutMs,
    roundTrips: () => requests,
    close: () => {
      client.close();
      if (path === undefined || !created.includes(path) || holdsSchema(path)) return;
      for (const file of created) if (existsSync(file)) rmSync(file, { force: true });
    },
  };
}

export function tokenIsReadOnly(database: Database): boolean {
  return database.tokenClaims?.a === 'ro';
}

/** Fails before any round trip when a writing command holds a token that says it is read-only. */
export function requireWriteAccess(database: Database, command: string): void {
  if (tokenIsReadOnly(database)) {
    throw new RefusedError(`this token is read-only; ${command} needs a read-write token`, {
      hint: `${database.credential.source ? `the token from ${database.credential.source} is read-only; ` : ''}set ${database.tokenVariable} to a read-write token, or create one with \`qbank token create\``,
    });
  }
}

function httpStatusOf(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const status = (current as { status?: unknown }).status;
    if (typeof status === 'number') return status;
    current = (current as { cause?: unknown }).cause;
  }
  const match = /HTTP status (\d{3})/.exec(String((error as Error)?.message ?? ''));
  return match ? Number(match[1]) : undefined;
}

function causeChain(error: unknown, depth = 6): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current && chain.length < depth; current = (current as { cause?: unknown }).cause) chain.push(current);
  return chain;
}

function networkCauseOf(error: unknown): string | undefined {
  for (const current of causeChain(error)) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+|ERR_SSL_\w+|EPROTO)$/.test(code)) return code;
    const name = (current as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  }
  return undefined;
}

/** What went wrong under a failed request, in words: "TLS spoken to a plain-HTTP server (ERR_SSL_WRONG_VERSION_NUMBER)". */
export function transportCauseOf(error: unknown): string | undefined {
  const code = networkCauseOf(error);
  if (code === undefined) return undefined;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return `TLS spoken to a plain-HTTP server (${code})`;
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') return `the TLS handshake failed (${code})`;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED): nothing listens there';
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return `the server closed the connection (${code})`;
  if (code === 'timeout') return 'timed out';
  return code;
}

/**
 * SQLITE_BUSY, and SQLITE_LOCKED: another connection holds a lock this one needs. SQLITE_LOCKED
 * is what a connection of the same process gets when another one holds a table lock (shared
 * cache), so it counts too. Waiting (the busy timeout) has already happened when this is seen.
 */
export function isBusyError(error: unknown): boolean {
  for (const current of causeChain(error)) {
    const code = String((current as { code?: unknown }).code ?? '');
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
    if (/SQLITE_BUSY|SQLITE_LOCKED|database is locked|database table is locked|database schema is locked/.test(String((current as Error).message ?? ''))) return true;
  }
  return false;
}

type DescribedDatabase = Pick<Database, 'displayUrl' | 'tokenClaims'> & Partial<Pick<Database, 'credential' | 'tokenVariable' | 'kind' | 'busyTimeoutMs'>>;

function rejectedTokenError(error: unknown, database: DescribedDatabase): QbankError {
  const where = database.displayUrl;
  const credential = database.credential;
  if (credential?.kind === 'none') {
    const variable = database.tokenVariable ?? 'TURSO_AUTH_TOKEN';
    return new ConnectionError(`${where} requires an auth token, and none is configured`, {
      hint: `set ${variable} (in the environment, .env.local or .env), or mint one with \`qbank token create\``,
      cause: error,
    });
  }
  const claims = database.tokenClaims;
  const expired = claims && isExpired(claims, Date.now()) ? `: it expired at ${new Date(claims.exp! * 1000).toISOString()}` : '';
  const from = credential?.source ? ` from ${credential.source}` : '';
  return new ConnectionError(`the auth token${from} was rejected by ${where}${expired}`, {
    hint: `check ${credential?.source ?? database.tokenVariable ?? 'TURSO_AUTH_TOKEN'}, or mint a new one with \`qbank token create\``,
    cause: error,
  });
}

function busyError(error: unknown, database: DescribedDatabase): BusyError {
  const where = database.displayUrl;
  if (database.kind === 'remote') {
    return new BusyError(`${where} is busy: another writer holds the database's write lock`, {
      hint: 'another qbank run or an application is writing; wait for it to finish, then run the command again',
      cause: error,
    });
  }
  const waited = database.busyTimeoutMs === undefined ? '' : ` (waited ${database.busyTimeoutMs / 1000} s)`;
  return new BusyError(`${where} is locked by another writer${waited}`, {
    hint:
      'likely another qbank run, an open sqlite3 shell (an unfinished BEGIN) or an application holding a write transaction on this file; ' +
      'let it finish or close it, then run the command again (QBANK_BUSY_TIMEOUT_MS sets how long qbank waits)',
    cause: error,
  });
}

/**
 * Turns a libSQL client failure into a qbank error with a message an operator can act on.
 * `command` names what was being done ("db push") so a read-only refusal can say what it needs.
 */
export function describeDatabaseError(error: unknown, database: DescribedDatabase, command = 'this command'): QbankError {
  if (error instanceof QbankError) return error;
  const status = httpStatusOf(error);
  const where = database.displayUrl;
  if (status === 401) return rejectedTokenError(error, database);
  if (status === 403) {
    return new RefusedError(`this token is read-only; ${command} needs a read-write token`, {
      hint: `${where} refused the write (HTTP 403); nothing was changed`,
      cause: error,
    });
  }
  if (isBusyError(error)) return busyError(error, database);
  const network = networkCauseOf(error);
  if (network === 'timeout') return new ConnectionError(`timed out talking to ${where}`, { hint: 'check the network and the server, then retry', cause: error });
  if (network) return new ConnectionError(`cannot reach ${where}: ${transportCauseOf(error)}`, { hint: 'check the URL and that the server is running', cause: error });
  if (status !== undefined) return new ConnectionError(`${where} answered HTTP ${status}`, { cause: error });
  if (error instanceof LibsqlError) {
    if (error.code === 'SQLITE_CANTOPEN') return new ConnectionError(`cannot open ${where}: ${error.message}`, { cause: error });
    if (error.code === 'URL_INVALID' || error.code === 'URL_SCHEME_NOT_SUPPORTED') return new ConnectionError(`${where}: ${error.message}`, { cause: error });
    return new QbankError(error.message, { cause: error });
  }
  if (error instanceof TypeError && /fetch failed/.test(error.message)) {
    return new ConnectionError(`cannot reach ${where}`, { hint: 'check the URL and that the server is running', cause: error });
  }
  return new QbankError((error as Error)?.message ?? String(error), { cause: error });
}

function isRetryableRead(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== undefined) return status === 429 || status >= 500;
  return networkCauseOf(error) !== undefined || (error instanceof TypeError && /fetch failed/.test(error.message));
}

export interface ReadRetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a read, retrying with backoff on transport failures. Writes never come through here. */
export async function withReadRetry<T>(read: () => Promise<T>, options: ReadRetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= attempts || !isRetryableRead(error)) throw error;
      await sleep((options.baseDelayMs ?? 100) * 2 ** (attempt - 1));
    }
  }
}

/** One read-only query, retried on transport failure. */
export function readQuery(database: Database, sql: string, args?: InArgs): Promise<ResultSet> {
  return withReadRetry(() => database.client.execute(args === undefined ? sql : { sql, args }));
}

/** Several reads in one round trip (one read transaction), retried on transport failure. */
export function readBatch(database: Database, statements: InStatement[]): Promise<ResultSet[]> {
  return withReadRetry(() => database.client.batch(statements, 'read'));
}

/**
 * SQL for the value of `reference` as JSON can hold it: a blob (which JSON cannot) as the object
 * {"$blob": HEX}, anything else as it is. No column value is a JSON object otherwise.
 */
export function jsonHeldValue(reference: string): string {
  return `CASE WHEN typeof(${reference}) = 'blob' THEN json_object('$blob', hex(${reference})) ELSE ${reference} END`;
}

/** The bytes of a blob that `jsonHeldValue` put in JSON (parsed), or undefined for any other value. */
export function blobHeldIn(value: unknown): Buffer | undefined {
  const hex = typeof value === 'object' && value !== null ? (value as { $blob?: unknown }).$blob : undefined;
  return typeof hex === 'string' ? Buffer.from(hex, 'hex') : undefined;
}

/** The bytes of a blob as the drivers give it (an ArrayBuffer or a typed array), or undefined for any other value. */
export function blobBytes(value: unknown): Buffer | undefined {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** The path of a `file:` database, as the driver opens it. */
export function fileDatabasePath(database: Database): string {
  if (database.kind !== 'file') throw new QbankError(`${database.displayUrl} is not a file: database`);
  return database.url.slice('file:'.length).split('?')[0]!;
}

/** A connection of the `libsql` driver itself, under the client: see `openNativeFileConnection`. */
export type NativeConnection = import('libsql').Database;

/**
 * A second connection to a `file:` database, straight through the `libsql` driver, for bulk
 * writers: the client prepares every statement anew (a 200,000-question import spent 1.3 s of
 * its 10 s there), while a driver statement can be prepared once and run for every batch.
 */
export async function openNativeFileConnection(database: Database, options: { busyTimeoutMs?: number } = {}): Promise<NativeConnection> {
  const path = fileDatabasePath(database);
  const { default: Libsql } = await import('libsql');
  try {
    const connection = new Libsql(path, { timeout: options.busyTimeoutMs ?? database.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    connection.exec('PRAGMA foreign_keys = ON');
    return connection;
  } catch (error) {
    throw new ConnectionError(`cannot open ${database.displayUrl}: ${(error as Error).message}`, { cause: error });
  }
}
