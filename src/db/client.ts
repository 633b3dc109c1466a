import { createClient, LibsqlError, type Client, type InArgs, type InStatement, type ResultSet } from '@libsql/client';
import type { DatabaseConfig, DatabaseKind } from '../config.js';
import { ConnectionError, QbankError, RefusedError } from '../errors.js';
import { decodeToken, isExpired, type TokenClaims } from '../auth/jwt.js';

export interface Database {
  client: Client;
  kind: DatabaseKind;
  url: string;
  displayUrl: string;
  /** Claims read from the auth token without trusting them; used to word errors before a round trip. */
  tokenClaims?: TokenClaims;
  /** HTTP requests sent so far (remote only): benchmarks and `--debug` print it. */
  roundTrips: () => number;
  close: () => void;
}

export interface OpenDatabaseOptions {
  /** Per-request timeout for remote databases. */
  timeoutMs?: number;
  intMode?: 'number' | 'bigint' | 'string';
  debug?: (line: string) => void;
}

/** The one place qbank opens a database: `file:` and remote URLs share every line after this. */
export function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Database {
  let requests = 0;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const countingFetch = async (input: Request | string | URL, init?: RequestInit) => {
    requests++;
    const started = Date.now();
    const request = input instanceof Request ? input : new Request(input, init);
    try {
      const response = await fetch(request, { signal: AbortSignal.timeout(timeoutMs) });
      options.debug?.(`${request.method} ${new URL(request.url).pathname} -> ${response.status} (${Date.now() - started} ms)`);
      return response;
    } catch (error) {
      options.debug?.(`${request.method} ${new URL(request.url).pathname} -> ${(error as Error).name} (${Date.now() - started} ms)`);
      throw error;
    }
  };
  let client: Client;
  try {
    client = createClient({
      url: config.url,
      authToken: config.authToken,
      intMode: options.intMode ?? 'number',
      // A file database shared with another process waits for its lock instead of failing at once.
      ...(config.kind === 'remote' ? { fetch: countingFetch } : { timeout: 5000 }),
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
  return {
    client,
    kind: config.kind,
    url: config.url,
    displayUrl: config.displayUrl,
    tokenClaims,
    roundTrips: () => requests,
    close: () => client.close(),
  };
}

export function tokenIsReadOnly(database: Database): boolean {
  return database.tokenClaims?.a === 'ro';
}

/** Fails before any round trip when a writing command holds a token that says it is read-only. */
export function requireWriteAccess(database: Database, command: string): void {
  if (tokenIsReadOnly(database)) {
    throw new RefusedError(`this token is read-only; ${command} needs a read-write token`, {
      hint: 'use TURSO_AUTH_TOKEN (read-write) rather than TURSO_AUTH_TOKEN_RO, or create one with `qbank token create`',
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

function networkCauseOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|UND_ERR_\w+)$/.test(code)) return code;
    const name = (current as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns a libSQL client failure into a qbank error with a message an operator can act on.
 * `command` names what was being done ("db push") so a read-only refusal can say what it needs.
 */
export function describeDatabaseError(error: unknown, database: Pick<Database, 'displayUrl' | 'tokenClaims'>, command = 'this command'): QbankError {
  if (error instanceof QbankError) return error;
  const status = httpStatusOf(error);
  const where = database.displayUrl;
  if (status === 401) {
    const expired = database.tokenClaims && isExpired(database.tokenClaims, Date.now());
    return new ConnectionError(`the auth token was rejected (expired?) by ${where}${expired ? ': its exp claim is in the past' : ''}`, {
      hint: 'check TURSO_AUTH_TOKEN, or mint a new one with `qbank token create`',
      cause: error,
    });
  }
  if (status === 403) {
    return new RefusedError(`this token is read-only; ${command} needs a read-write token`, {
      hint: `${where} refused the write (HTTP 403); nothing was changed`,
      cause: error,
    });
  }
  const network = networkCauseOf(error);
  if (network === 'timeout') return new ConnectionError(`timed out talking to ${where}`, { hint: 'check the network and the server, then retry', cause: error });
  if (network) return new ConnectionError(`cannot reach ${where} (${network})`, { hint: 'check the URL and that the server is running', cause: error });
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
    const connection = new Libsql(path, { timeout: options.busyTimeoutMs ?? 5_000 });
    connection.exec('PRAGMA foreign_keys = ON');
    return connection;
  } catch (error) {
    throw new ConnectionError(`cannot open ${database.displayUrl}: ${(error as Error).message}`, { cause: error });
  }
}
