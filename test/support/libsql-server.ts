/**
 * A local libSQL server for tests and benchmarks: Hrana over HTTP (the protocol sqld speaks and
 * @libsql/client's `http://` path uses), backed by a real database file through the `libsql`
 * package. Each stream owns one connection, so interactive transactions are isolated and hold
 * their locks until commit, rollback, close or expiry, as on sqld.
 *
 *   const server = await startLibsqlServer({ dbPath, publicKeys: keys.publicKey });
 *   const client = createClient({ url: server.url, authToken: signToken({ a: 'ro' }, keys.privateKey) });
 *   server.knobs.latencyMs = 20;          // every request from now on
 *   server.knobs.failOnRequest = 1;       // the next request gets HTTP 500
 *   console.log(server.stats.byPath['/v2/pipeline']);
 *   await server.close();
 *
 * Where it differs from sqld on purpose: a write that finds the database locked is retried from
 * the event loop for `busyTimeoutMs` and then fails with SQLITE_BUSY (sqld waits up to 5 s and
 * then steals the lock); a replica answers writes with SQLITE_READONLY instead of forwarding them
 * to its primary; only /v2/pipeline and /v3/pipeline with JSON bodies are served (no cursor,
 * Protobuf, Hrana 1 or legacy `POST /`).
 */
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'libsql';
import { hasExpiredForSqld, publicKeyFromText, verifyBearerToken, type TokenClaims } from './jwt.js';

// ---------------------------------------------------------------------------------------------
// Public API

export type PublicKeyInput = KeyObject | string;

export interface LibsqlServerOptions {
  /** The database file. Optional only for a replica, which defaults to its primary's file. */
  dbPath?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Ed25519 public keys (KeyObject, PEM or raw base64url). Without any, auth is disabled. */
  publicKeys?: PublicKeyInput | PublicKeyInput[];
  latencyMs?: number;
  /** Idle time after which a stream expires and its transaction is rolled back. sqld: 10 s. */
  streamExpiryMs?: number;
  /** How long a statement keeps retrying on SQLITE_BUSY before the error is returned. */
  busyTimeoutMs?: number;
  /** Serve `replicaOf`'s database read-only and report its replication index minus the lag. */
  replicaOf?: LibsqlServer;
  replicationLag?: number;
  /** Faults count requests from when they are set: 1 means the next request. Each fires once. */
  failOnRequest?: number;
  dropOnRequest?: number;
  dropMidResponse?: number;
  /** Idle connections kept for new streams, so a short request does not reopen the database. */
  maxIdleConnections?: number;
}

/** Settings that can be changed while the server runs, e.g. `server.knobs.latencyMs = 20`. */
export interface LibsqlServerKnobs {
  latencyMs: number;
  streamExpiryMs: number;
  busyTimeoutMs: number;
  replicationLag: number;
  /** The n-th request from now (and only it) gets HTTP 500; reads back how many are left, 0 when unarmed. */
  failOnRequest: number;
  /** The n-th request from now has its connection destroyed without an answer. */
  dropOnRequest: number;
  /** The n-th request from now is executed, then half its response is sent and the connection destroyed. */
  dropMidResponse: number;
}

export interface LibsqlServerStats {
  /** HTTP requests received, whatever their path. */
  requests: number;
  /** HTTP requests by path, e.g. `/v2/pipeline`. */
  byPath: Record<string, number>;
  /** Stream requests inside pipelines by type: `execute`, `batch`, `close`... */
  byRequestType: Record<string, number>;
  /** SQL statements run (each batch step and each statement of a sequence counts). */
  statements: number;
  readonly openStreams: number;
  reset(): void;
}

export interface LibsqlServer {
  /** `http://127.0.0.1:PORT`, for `createClient({ url })`. */
  readonly url: string;
  readonly port: number;
  readonly dbPath: string;
  readonly isReplica: boolean;
  readonly knobs: LibsqlServerKnobs;
  readonly stats: LibsqlServerStats;
  /** The replication index this server reports now (a replica's lags its primary's). */
  readonly replicationIndex: number;
  /** Switch the accepted keys; `null` turns auth off. Tokens signed by other keys fail from now on. */
  setPublicKeys(keys: PublicKeyInput | PublicKeyInput[] | null): void;
  close(): Promise<void>;
}

export async function startLibsqlServer(options: LibsqlServerOptions): Promise<LibsqlServer> {
  const server = new LocalLibsqlServer(options);
  try {
    await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

// ---------------------------------------------------------------------------------------------
// Constants from sqld

const STREAM_EXPIRY_MS = 10_000;
const STREAM_GRAVEYARD_MS = 300_000;
const MAX_STORED_SQL = 50;
const MAX_STORED_SQL_BYTES = 5_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const HELLO_TEXT = 'Hello, this is HTTP API v2 (Hrana over HTTP)';
const VERSION_TEXT = 'sqld 0.24.33 (qbank local test server)';
const FORBIDDEN_WRITE = 'Current session doesn\'t not have Write permission to namespace default';

/**
 * sqld attaches namespaces, not files, and refuses ATTACH unless the token has AttachRead on the
 * namespace (a legacy `a: rw` token does not) and the namespace was created with `allow_attach`
 * (off by default): this server has neither, so every ATTACH gets sqld's 403.
 */
function forbiddenAttach(sql: string, authEnabled: boolean): string {
  const target = /^ATTACH\s+(?:DATABASE\s+)?("(?:[^"]|"")*"|'(?:[^']|'')*'|`[^`]*`|\S+)/i.exec(sql)?.[1] ?? '';
  const namespace = /^["'`]/.test(target) ? target.slice(1, -1) : target;
  return authEnabled
    ? `Current session doesn't not have AttachRead permission to namespace ${namespace}`
    : `Namespace \`${namespace}\` doesn't allow attach`;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A client that breaks the protocol: HTTP 400 text/plain, the stream is dropped. */
class ProtocolError extends Error {}

/** A failed statement or request: reported as `{message, code}` inside the pipeline result. */
class StmtError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** An error that answers the whole HTTP request. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly contentType: string,
    readonly body: string,
  ) {
    super(body);
  }
}

const jsonError = (status: number, error: string) => new HttpError(status, 'application/json', JSON.stringify({ error }));
const deserializeError = (what: string) => new ProtocolError(`Cannot deserialize client message from JSON: ${what}`);

const PRIMARY_CODES: Record<number, string> = {
  2: 'SQLITE_INTERNAL',
  3: 'SQLITE_PERM',
  4: 'SQLITE_ABORT',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  9: 'SQLITE_INTERRUPT',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  12: 'SQLITE_NOTFOUND',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  15: 'SQLITE_PROTOCOL',
  17: 'SQLITE_SCHEMA',
  18: 'SQLITE_TOOBIG',
  19: 'SQLITE_CONSTRAINT',
  20: 'SQLITE_MISMATCH',
  21: 'SQLITE_MISUSE',
  22: 'SQLITE_NOLFS',
  23: 'SQLITE_AUTH',
  25: 'SQLITE_RANGE',
  26: 'SQLITE_NOTADB',
};
const SQLITE_BUSY = 5;
const SQLITE_BUSY_SNAPSHOT = 517;
const PARSE_ERROR = /syntax error|incomplete input|unrecognized token|parser stack overflow/;

function rawCodeOf(error: unknown): number | undefined {
  const raw = (error as { rawCode?: unknown } | null)?.rawCode;
  return typeof raw === 'number' ? raw : undefined;
}

/** sqld sends the primary SQLite code only, and `SQLITE_UNKNOWN` for plain SQLITE_ERROR. */
function toStmtError(error: unknown): StmtError {
  if (error instanceof StmtError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const raw = rawCodeOf(error);
  if (raw === undefined) return new StmtError(`SQLite error: ${message}`, 'SQLITE_UNKNOWN');
  const primary = raw & 0xff;
  if (primary === 1 && PARSE_ERROR.test(message)) {
    return new StmtError(`SQL string could not be parsed: ${message}`, 'SQL_PARSE_ERROR');
  }
  return new StmtError(`SQLite error: ${message}`, PRIMARY_CODES[primary] ?? 'SQLITE_UNKNOWN');
}

// ---------------------------------------------------------------------------------------------
// SQL analysis: statement boundaries, parameters and the kind of each statement (sqld parses
// every statement itself before running it; the `libsql` package does not expose
// sqlite3_stmt_readonly or the parameter names, so a tokenizer stands in for both).

type StmtKind = 'read' | 'write' | 'txn-begin' | 'txn-end' | 'savepoint' | 'release';

interface SqlStatement {
  readonly sql: string;
  readonly kind: StmtKind;
  /** INSERT, UPDATE or DELETE: the only statements whose changes() sqld reports. */
  readonly isIud: boolean;
  readonly isInsert: boolean;
  readonly isExplain: boolean;
  /** A ROLLBACK that ends the transaction (not ROLLBACK TO). */
  readonly isRollback: boolean;
  /** Leaves state on the connection (PRAGMA, ATTACH, TEMP objects), so it is not reused. */
  readonly taintsConnection: boolean;
  /**
   * A PRAGMA: SQLite applies `PRAGMA foreign_keys=off` and its kind while compiling, so such a
   * statement is prepared only right before it runs, and never kept for reuse.
   */
  readonly actsWhenPrepared: boolean;
  /** For parameter i+1: its name as SQLite reports it (`:a`, `?2`), or null for a bare `?`. */
  readonly params: readonly (string | null)[];
}

interface Token {
  type: 'word' | 'quoted' | 'param' | 'semi' | 'open' | 'close' | 'other';
  start: number;
  end: number;
  /** Upper-cased text of a word, the text of a parameter. */
  text: string;
}

const isIdStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isIdChar = (c: number) => isIdStart(c) || (c >= 48 && c <= 57) || c === 36;
const isDigit = (c: number) => c >= 48 && c <= 57;

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  for (;;) {
    const end = sql.indexOf(quote, i);
    if (end < 0) return sql.length;
    if (sql[end + 1] === quote) i = end + 2;
    else return end + 1;
  }
}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (type: Token['type'], start: number, end: number, text = '') => {
    tokens.push({ type, start, end, text });
    i = end;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const start = i;
    if (c === 32 || (c >= 9 && c <= 13)) i++;
    else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === 59) push('semi', start, i + 1);
    else if (c === 40) push('open', start, i + 1);
    else if (c === 41) push('close', start, i + 1);
    else if (c === 39) push('other', start, skipQuoted(sql, i, "'"));
    else if (c === 34 || c === 96) push('quoted', start, skipQuoted(sql, i, sql[i]!));
    else if (c === 91) {
      const end = sql.indexOf(']', i);
      push('quoted', start, end < 0 ? n : end + 1);
    } else if (c === 63) {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      push('param', start, j, sql.slice(start, j));
    } else if (c === 58 || c === 64 || c === 36 || c === 35) {
      // :name @name $name #name, with SQLite's TCL extras `::` and a `(...)` suffix
      let j = i + 1;
      let idChars = 0;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (isIdChar(d)) {
          j++;
          idChars++;
        } else if (d === 40 && idChars > 0) {
          const end = sql.indexOf(')', j);
          j = end < 0 ? n : end + 1;
          break;
        } else if (d === 58 && sql.charCodeAt(j + 1) === 58) j += 2;
        else break;
      }
      if (idChars > 0) push('param', start, j, sql.slice(start, j));
      else push('other', start, i + 1);
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n) {
        const d = sql.charCodeAt(j);
        const prev = sql.charCodeAt(j - 1);
        if (isIdChar(d) || d === 46) j++;
        else if ((d === 43 || d === 45) && (prev === 101 || prev === 69)) j++;
        else break;
      }
      push('other', start, j);
    } else if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(sql.charCodeAt(j))) j++;
      push('word', start, j, sql.slice(start, j).toUpperCase());
    } else push('other', start, i + 1);
  }
  return tokens;
}

const isWord = (token: Token | undefined, ...words: string[]) =>
  token !== undefined && token.type === 'word' && words.includes(token.text);

/** PRAGMAs that only read; sqld lets read-only tokens run these and counts every other one as a write. */
const READ_PRAGMAS = new Set([
  'TABLE_LIST', 'INDEX_LIST', 'TABLE_INFO', 'TABLE_XINFO', 'INDEX_INFO', 'INDEX_XINFO', 'PRAGMA_LIST',
  'COMPILE_OPTIONS', 'DATABASE_LIST', 'FUNCTION_LIST', 'MODULE_LIST', 'ENCODING',
]);

function classify(tokens: Token[]): Pick<SqlStatement, 'kind' | 'isIud' | 'isInsert' | 'isExplain' | 'isRollback'> {
  const plain = { isIud: false, isInsert: false, isExplain: false, isRollback: false };
  const first = tokens[0]!;
  let verb = first.type === 'word' ? first.text : '';
  if (verb === 'WITH') {
    let depth = 0;
    verb = '';
    for (const token of tokens) {
      if (token.type === 'open') depth++;
      else if (token.type === 'close') depth--;
      else if (depth === 0 && isWord(token, 'SELECT', 'VALUES', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE')) {
        verb = token.text;
        break;
      }
    }
  }
  switch (verb) {
    case 'SELECT':
    case 'VALUES':
      return { kind: 'read', ...plain };
    case 'INSERT':
    case 'REPLACE':
      return { kind: 'write', ...plain, isIud: true, isInsert: true };
    case 'UPDATE':
    case 'DELETE':
      return { kind: 'write', ...plain, isIud: true };
    case 'EXPLAIN':
      return { kind: 'read', ...plain, isExplain: true };
    case 'BEGIN':
      return { kind: 'txn-begin', ...plain };
    case 'COMMIT':
    case 'END':
      return { kind: 'txn-end', ...plain };
    case 'ROLLBACK':
      return tokens.some((t) => isWord(t, 'TO'))
        ? { kind: 'release', ...plain }
        : { kind: 'txn-end', ...plain, isRollback: true };
    case 'SAVEPOINT':
      return { kind: 'savepoint', ...plain };
    case 'RELEASE':
      return { kind: 'release', ...plain };
    case 'PRAGMA': {
      const name = tokens[2]?.type === 'other' && tokens[3] ? tokens[3] : tokens[1];
      const read = name !== undefined && name.type === 'word' && READ_PRAGMAS.has(name.text);
      return { kind: read ? 'read' : 'write', ...plain };
    }
    default:
      return { kind: 'write', ...plain };
  }
}

function parameterSlots(tokens: Token[]): (string | null)[] {
  const slots: (string | null)[] = [];
  const named = new Set<string>();
  for (const token of tokens) {
    if (token.type !== 'param') continue;
    if (token.text === '?') slots.push(null);
    else if (token.text.startsWith('?')) {
      const index = Number(token.text.slice(1));
      while (slots.length < index) slots.push(null);
      if (index > 0 && slots[index - 1] === null) slots[index - 1] = token.text;
    } else if (!named.has(token.text)) {
      named.add(token.text);
      slots.push(token.text);
    }
  }
  return slots;
}

function buildStatement(sql: string, tokens: Token[]): SqlStatement {
  const classified = classify(tokens);
  const first = tokens[0]!.text;
  const taintsConnection =
    (first === 'PRAGMA' && classified.kind === 'write') ||
    first === 'ATTACH' ||
    first === 'DETACH' ||
    (first === 'CREATE' && tokens.some((t) => isWord(t, 'TEMP', 'TEMPORARY')));
  return {
    sql: sql.slice(tokens[0]!.start, tokens[tokens.length - 1]!.end),
    ...classified,
    taintsConnection,
    actsWhenPrepared: first === 'PRAGMA',
    params: parameterSlots(tokens),
  };
}

/** Splits on `;` like sqlite3_complete: inside CREATE TRIGGER only `; END ;` ends the statement. */
function splitStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let current: Token[] = [];
  let inTrigger = false;
  for (const token of tokenize(sql)) {
    if (token.type === 'semi') {
      if (current.length === 0) continue;
      const last = current[current.length - 1];
      if (inTrigger && !(isWord(last, 'END') && current[current.length - 2]?.type === 'semi')) {
        current.push(token);
        continue;
      }
      statements.push(buildStatement(sql, current));
      current = [];
      inTrigger = false;
      continue;
    }
    current.push(token);
    if (
      !inTrigger &&
      isWord(token, 'TRIGGER') &&
      isWord(current[0], 'CREATE') &&
      (current.length === 2 || (current.length === 3 && isWord(current[1], 'TEMP', 'TEMPORARY')))
    ) {
      inTrigger = true;
    }
  }
  if (current.length > 0) statements.push(buildStatement(sql, current));
  return statements;
}

const analysisCache = new Map<string, SqlStatement[]>();

function analyzeSql(sql: string): SqlStatement[] {
  let statements = analysisCache.get(sql);
  if (statements === undefined) {
    statements = splitStatements(sql);
    if (analysisCache.size >= 2_000) analysisCache.clear();
    analysisCache.set(sql, statements);
  }
  return statements;
}

// ---------------------------------------------------------------------------------------------
// Values (Hrana JSON encoding)

type SqlValue = null | bigint | number | string | Uint8Array;
type ProtoValue =
  | { type: 'null' }
  | { type: 'integer'; value: string }
  | { type: 'float'; value: number | null }
  | { type: 'text'; value: string }
  | { type: 'blob'; base64: string };

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function valueFromProto(value: unknown): SqlValue {
  if (!isObject(value)) throw deserializeError('a value must be an object');
  switch (value.type) {
    case 'null':
      return null;
    case 'integer': {
      if (typeof value.value !== 'string' || !/^[+-]?\d{1,19}$/.test(value.value)) {
        throw deserializeError('an integer value must be a decimal string');
      }
      const int = BigInt(value.value);
      if (int < I64_MIN || int > I64_MAX) throw deserializeError('integer out of range for i64');
      return int;
    }
    case 'float':
      if (typeof value.value !== 'number') throw deserializeError('a float value must be a number');
      return value.value;
    case 'text':
      if (typeof value.value !== 'string') throw deserializeError('a text value must be a string');
      return value.value;
    case 'blob':
      if (typeof value.base64 !== 'string') throw deserializeError('a blob value must have base64');
      return Buffer.from(value.base64, 'base64');
    default:
      throw new ProtocolError('Value type not recognized');
  }
}

function valueToProto(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { type: 'null' };
  if (typeof value === 'bigint') return { type: 'integer', value: value.toString() };
  if (typeof value === 'number') return { type: 'float', value: Number.isFinite(value) ? value : null };
  if (typeof value === 'string') return { type: 'text', value };
  if (value instanceof Uint8Array) {
    // sqld writes base64 without padding
    return { type: 'blob', base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64').replace(/=+$/, '') };
  }
  return { type: 'text', value: String(value) };
}

// ---------------------------------------------------------------------------------------------
// Connections

type Statement = Database.Statement<unknown[]>;

class SqlConnection {
  readonly db: Database.Database;
  /** A write ran in the current transaction: its commit moves the replication index. */
  pendingWrite = false;
  tainted = false;
  /**
   * last_insert_rowid() when the current stream took this connection, and whether it has moved
   * since: a stream on sqld has a fresh connection, where an INSERT that inserted nothing reports 0.
   */
  rowidBaseline = 0n;
  rowidMoved = false;
  private readonly statements = new Map<string, Statement>();
  private lastChanges?: Statement;

  constructor(path: string, readOnly: boolean) {
    // timeout 0: a blocked statement must fail at once, never block the event loop; callers retry.
    // synchronous=NORMAL: WAL commits survive a crash of this process without an fsync each,
    // which would otherwise dominate benchmark timings; only power loss could lose a commit.
    this.db = new Database(path, { timeout: 0 });
    this.db.exec(`PRAGMA busy_timeout=0; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL${readOnly ? '; PRAGMA query_only=ON' : ''}`);
  }

  prepare(statement: SqlStatement): Statement {
    let prepared = this.statements.get(statement.sql);
    if (prepared === undefined) {
      prepared = this.db.prepare(statement.sql) as Statement;
      prepared.safeIntegers(true);
      if (prepared.reader) prepared.raw(true);
      if (!statement.actsWhenPrepared) {
        if (this.statements.size >= 100) this.statements.delete(this.statements.keys().next().value!);
        this.statements.set(statement.sql, prepared);
      }
    }
    return prepared;
  }

  /** changes() and last_insert_rowid() as SQLite keeps them for this connection. */
  changes(): [number, bigint] {
    this.lastChanges ??= this.db.prepare('SELECT changes(), last_insert_rowid()').safeIntegers(true).raw(true) as Statement;
    const [row] = this.lastChanges.all([]) as [[bigint, bigint]];
    return [Number(row[0]), row[1]];
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  rollbackQuietly(): void {
    if (!this.inTransaction) return;
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // the transaction was already gone
    }
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // already closed
    }
  }
}

class ConnectionPool {
  private readonly idle: SqlConnection[] = [];
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly readOnly: boolean,
    private readonly maxIdle: number,
  ) {}

  acquire(): SqlConnection {
    if (this.closed) throw new Error('the server is closed');
    const reused = this.idle.pop();
    if (reused === undefined) return new SqlConnection(this.path, this.readOnly);
    reused.rowidBaseline = reused.changes()[1];
    reused.rowidMoved = false;
    return reused;
  }

  release(connection: SqlConnection): void {
    connection.rollbackQuietly();
    connection.pendingWrite = false;
    if (this.closed || connection.tainted || connection.inTransaction || this.idle.length >= this.maxIdle) {
      connection.close();
    } else {
      this.idle.push(connection);
    }
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Streams and batons

interface HranaStream {
  readonly id: bigint;
  seq: bigint;
  connection: SqlConnection | null;
  readonly sqls: Map<number, string>;
  busy: boolean;
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
}

type StreamEnd = 'closed' | 'expired';

// ---------------------------------------------------------------------------------------------
// Hrana JSON shapes

interface StmtResultJson {
  cols: { name: string | null; decltype: string | null }[];
  rows: ProtoValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  replication_index: string;
  rows_read: number;
  rows_written: number;
  query_duration_ms: number;
}

interface ErrorJson {
  message: string;
  code: string;
}

type StreamResultJson = { type: 'ok'; response: Record<string, unknown> } | { type: 'error'; error: ErrorJson };

interface Query {
  statement: SqlStatement;
  args: SqlValue[];
  named: Map<string, SqlValue> | null;
  wantRows: boolean;
}

type Cond =
  | { type: 'ok' | 'error'; step: number }
  | { type: 'not'; cond: Cond }
  | { type: 'and' | 'or'; conds: Cond[] }
  | { type: 'is_autocommit' };

type Access = 'rw' | 'ro';

// ---------------------------------------------------------------------------------------------
// Knobs and stats

class OneShotFault {
  private at = 0;

  arm(n: number, now: number): void {
    this.at = Number.isFinite(n) && n > 0 ? now + Math.floor(n) : 0;
  }

  remaining(now: number): number {
    return this.at === 0 ? 0 : Math.max(0, this.at - now);
  }

  fires(requestNumber: number): boolean {
    if (this.at === 0 || requestNumber !== this.at) return false;
    this.at = 0;
    return true;
  }
}

class ServerKnobs implements LibsqlServerKnobs {
  latencyMs: number;
  streamExpiryMs: number;
  busyTimeoutMs: number;
  replicationLag: number;
  readonly fail = new OneShotFault();
  readonly drop = new OneShotFault();
  readonly dropMid = new OneShotFault();

  constructor(
    options: LibsqlServerOptions,
    private readonly requestNumber: () => number,
  ) {
    this.latencyMs = options.latencyMs ?? 0;
    this.streamExpiryMs = options.streamExpiryMs ?? STREAM_EXPIRY_MS;
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.replicationLag = options.replicationLag ?? 0;
    this.fail.arm(options.failOnRequest ?? 0, 0);
    this.drop.arm(options.dropOnRequest ?? 0, 0);
    this.dropMid.arm(options.dropMidResponse ?? 0, 0);
  }

  get failOnRequest(): number {
    return this.fail.remaining(this.requestNumber());
  }
  set failOnRequest(n: number) {
    this.fail.arm(n, this.requestNumber());
  }
  get dropOnRequest(): number {
    return this.drop.remaining(this.requestNumber());
  }
  set dropOnRequest(n: number) {
    this.drop.arm(n, this.requestNumber());
  }
  get dropMidResponse(): number {
    return this.dropMid.remaining(this.requestNumber());
  }
  set dropMidResponse(n: number) {
    this.dropMid.arm(n, this.requestNumber());
  }
}

class ServerStats implements LibsqlServerStats {
  requests = 0;
  byPath: Record<string, number> = {};
  byRequestType: Record<string, number> = {};
  statements = 0;

  readonly #countStreams: () => number;

  constructor(countStreams: () => number) {
    this.#countStreams = countStreams;
  }

  get openStreams(): number {
    return this.#countStreams();
  }

  reset(): void {
    this.requests = 0;
    this.byPath = {};
    this.byRequestType = {};
    this.statements = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// The server

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class LocalLibsqlServer implements LibsqlServer {
  readonly dbPath: string;
  readonly isReplica: boolean;
  readonly knobs: ServerKnobs;
  readonly stats: ServerStats;
  port = 0;

  private readonly http: Server;
  private readonly pool: ConnectionPool;
  private readonly primary: LibsqlServer | undefined;
  private readonly batonKey = randomBytes(32);
  private readonly streams = new Map<bigint, HranaStream>();
  private readonly graveyard = new Map<bigint, { end: StreamEnd; at: number }>();
  private readonly tokenCache = new Map<string, { claims: TokenClaims; access: Access }>();
  private readonly sweeper: NodeJS.Timeout;
  private publicKeys: KeyObject[] | null = null;
  private nextStreamId = randomBytes(4).readUInt32BE(0) * 1024;
  private requestNumber = 0;
  private ownReplicationIndex = 0;
  private closing: Promise<void> | undefined;

  constructor(options: LibsqlServerOptions) {
    this.primary = options.replicaOf;
    this.isReplica = options.replicaOf !== undefined;
    const dbPath = options.dbPath ?? options.replicaOf?.dbPath;
    if (dbPath === undefined) throw new Error('startLibsqlServer needs dbPath (or replicaOf)');
    if (this.isReplica && !existsSync(dbPath)) throw new Error(`replica database ${dbPath} does not exist`);
    this.dbPath = dbPath;
    this.knobs = new ServerKnobs(options, () => this.requestNumber);
    this.stats = new ServerStats(() => this.streams.size);
    this.setPublicKeys(options.publicKeys ?? null);
    this.pool = new ConnectionPool(dbPath, this.isReplica, options.maxIdleConnections ?? 8);
    const first = this.pool.acquire();
    try {
      if (!this.isReplica) first.db.exec('PRAGMA journal_mode=WAL');
    } finally {
      this.pool.release(first);
    }
    this.http = createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => this.failRequest(res, error));
    });
    this.http.keepAliveTimeout = 30_000;
    this.sweeper = setInterval(() => this.sweepGraveyard(), 30_000);
    this.sweeper.unref();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get replicationIndex(): number {
    if (this.primary === undefined) return this.ownReplicationIndex;
    return Math.max(0, this.primary.replicationIndex - this.knobs.replicationLag);
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        this.port = (this.http.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  setPublicKeys(keys: PublicKeyInput | PublicKeyInput[] | null): void {
    this.tokenCache.clear();
    if (keys === null) {
      this.publicKeys = null;
      return;
    }
    const list = Array.isArray(keys) ? keys : [keys];
    this.publicKeys = list.map((key) => (typeof key === 'string' ? publicKeyFromText(key) : key));
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      clearInterval(this.sweeper);
      for (const stream of [...this.streams.values()]) this.endStream(stream, 'closed');
      this.pool.close();
      if (!this.http.listening) {
        resolve();
        return;
      }
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
    return this.closing;
  }

  // --- HTTP ------------------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const path = query < 0 ? target : target.slice(0, query);
    this.stats.requests++;
    this.stats.byPath[path] = (this.stats.byPath[path] ?? 0) + 1;
    const requestNumber = ++this.requestNumber;
    const dropMid = this.knobs.dropMid.fires(requestNumber);
    if (this.knobs.latencyMs > 0) await sleep(this.knobs.latencyMs);
    if (this.knobs.drop.fires(requestNumber)) {
      req.socket.destroy();
      return;
    }
    if (this.knobs.fail.fires(requestNumber)) {
      send(res, 500, 'application/json', JSON.stringify({ error: 'Internal error (injected fault)' }), dropMid);
      return;
    }
    try {
      await this.route(req, res, path, dropMid);
    } catch (error) {
      if (!(error instanceof HttpError || error instanceof ProtocolError)) throw error;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof ProtocolError) send(res, 400, 'text/plain', error.message, dropMid);
      else send(res, error.status, error.contentType, error.body, dropMid);
    }
  }

  private failRequest(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // not an injected fault: a bug in this server, which a test should make visible
    console.error('libsql test server: internal error', error);
    const message = error instanceof Error ? error.message : String(error);
    send(res, 500, 'application/json', JSON.stringify({ error: `Internal error: ${message}` }), false);
  }

  private async route(req: IncomingMessage, res: ServerResponse, path: string, dropMid: boolean): Promise<void> {
    const method = req.method ?? 'GET';
    const expect = (wanted: string) => {
      if (method !== wanted) throw new HttpError(405, 'text/plain', 'Method Not Allowed');
    };
    switch (path) {
      case '/health':
        expect('GET');
        return send(res, 200, undefined, '', dropMid);
      case '/version':
        expect('GET');
        return send(res, 200, 'text/plain; charset=utf-8', VERSION_TEXT, dropMid);
      case '/v2':
      case '/v3':
        expect('GET');
        return send(res, 200, 'text/plain; charset=utf-8', HELLO_TEXT, dropMid);
      case '/v2/pipeline':
      case '/v3/pipeline': {
        expect('POST');
        const access = this.authenticate(req);
        const body = await readJsonBody(req);
        const reply = await this.handlePipeline(body, path === '/v3/pipeline' ? 3 : 2, access);
        return send(res, 200, 'application/json', JSON.stringify(reply), dropMid);
      }
      case '/dump':
        expect('GET');
        this.authenticate(req);
        return this.handleDump(res, dropMid);
      default:
        return send(res, 404, undefined, '', dropMid);
    }
  }

  private authenticate(req: IncomingMessage): Access {
    if (this.publicKeys === null) return 'rw';
    const header = req.headers.authorization;
    const cached = header === undefined ? undefined : this.tokenCache.get(header);
    if (cached !== undefined && !hasExpiredForSqld(cached.claims)) return cached.access;
    const check = verifyBearerToken(header, this.publicKeys);
    if (!check.ok) throw jsonError(401, `Unauthorized: \`${check.reason}\``);
    if (this.tokenCache.size >= 1_000) this.tokenCache.clear();
    this.tokenCache.set(header!, { claims: check.claims, access: check.access });
    return check.access;
  }

  // --- Pipeline --------------------------------------------------------------------------------

  private async handlePipeline(body: unknown, version: 2 | 3, access: Access): Promise<Record<string, unknown>> {
    if (!isObject(body) || !Array.isArray(body.requests)) throw deserializeError('expected {baton, requests}');
    const baton = body.baton;
    if (baton !== undefined && baton !== null && typeof baton !== 'string') throw deserializeError('baton must be a string');
    const stream = typeof baton === 'string' ? this.streamForBaton(baton) : this.openStream();
    if (stream.timer !== undefined) clearTimeout(stream.timer);
    stream.busy = true;
    stream.seq = BigInt.asUintN(64, stream.seq + 1n);
    const results: StreamResultJson[] = [];
    try {
      if (access === 'ro' && this.pipelineFind(body.requests, stream.sqls, (statement) => statement.kind === 'write')) {
        throw jsonError(403, `Authorization forbidden: ${FORBIDDEN_WRITE}`);
      }
      // a read-only token may not write at all; no token may ATTACH
      const attach = this.pipelineFind(body.requests, stream.sqls, (statement) => /^ATTACH\b/i.test(statement.sql), (sql) => /ATTACH/i.test(sql));
      if (attach) throw jsonError(403, `Authorization forbidden: ${forbiddenAttach(attach.sql, this.publicKeys !== null)}`);
      for (const request of body.requests) results.push(await this.handleStreamRequest(stream, request, version));
    } catch (error) {
      this.endStream(stream, 'closed');
      throw error;
    } finally {
      stream.busy = false;
    }
    if (!stream.closed) this.scheduleExpiry(stream);
    return { baton: stream.closed ? null : this.encodeBaton(stream), base_url: null, results };
  }

  private openStream(): HranaStream {
    const stream: HranaStream = {
      id: BigInt(this.nextStreamId++),
      // the HMAC makes batons unforgeable; the random start only keeps them from looking alike
      seq: BigInt(Math.floor(Math.random() * 2 ** 48)),
      connection: null,
      sqls: new Map(),
      busy: false,
      closed: false,
      timer: undefined,
    };
    this.streams.set(stream.id, stream);
    return stream;
  }

  private encodeBaton(stream: HranaStream): string {
    const payload = Buffer.alloc(16);
    payload.writeBigUInt64BE(stream.id, 0);
    payload.writeBigUInt64BE(stream.seq, 8);
    const mac = createHmac('sha256', this.batonKey).update(payload).digest();
    return Buffer.concat([payload, mac]).toString('base64').replace(/=+$/, '');
  }

  private streamForBaton(baton: string): HranaStream {
    const raw = Buffer.from(baton, 'base64');
    if (raw.length !== 48) throw new ProtocolError('Received an invalid baton');
    const payload = raw.subarray(0, 16);
    const mac = createHmac('sha256', this.batonKey).update(payload).digest();
    if (!timingSafeEqual(mac, raw.subarray(16))) throw new ProtocolError('Received an invalid baton');
    const id = payload.readBigUInt64BE(0);
    const stream = this.streams.get(id);
    if (stream === undefined) {
      const end = this.graveyard.get(id)?.end;
      if (end === 'expired') {
        throw new HttpError(400, 'application/json', JSON.stringify({ message: 'The stream has expired due to inactivity', code: 'STREAM_EXPIRED' }));
      }
      if (end === 'closed') throw new ProtocolError('Stream for this baton was closed');
      throw new ProtocolError('Received an invalid baton');
    }
    if (stream.busy || payload.readBigUInt64BE(8) !== stream.seq) {
      throw new ProtocolError('Received a baton that has already been used');
    }
    return stream;
  }

  private scheduleExpiry(stream: HranaStream): void {
    stream.timer = setTimeout(() => {
      if (!stream.busy && !stream.closed) this.endStream(stream, 'expired');
    }, this.knobs.streamExpiryMs);
    stream.timer.unref();
  }

  /** Ends a stream; an open transaction on its connection is rolled back. */
  private endStream(stream: HranaStream, end: StreamEnd): void {
    if (stream.closed) return;
    stream.closed = true;
    if (stream.timer !== undefined) clearTimeout(stream.timer);
    this.streams.delete(stream.id);
    this.graveyard.set(stream.id, { end, at: Date.now() });
    if (stream.connection !== null) {
      this.pool.release(stream.connection);
      stream.connection = null;
    }
  }

  private sweepGraveyard(): void {
    const cutoff = Date.now() - STREAM_GRAVEYARD_MS;
    for (const [id, grave] of this.graveyard) {
      if (grave.at < cutoff) this.graveyard.delete(id);
    }
  }

  private connectionOf(stream: HranaStream): SqlConnection {
    if (stream.closed) throw new ProtocolError('Stream for this baton was closed');
    stream.connection ??= this.pool.acquire();
    return stream.connection;
  }

  /**
   * The first statement of the pipeline that `test` picks (sqld checks a whole program before running
   * any of it). `mayMatch` skips parsing the texts that cannot hold one, such as big INSERTs.
   */
  private pipelineFind(
    requests: unknown[],
    storedSqls: Map<number, string>,
    test: (statement: SqlStatement) => boolean,
    mayMatch: (sql: string) => boolean = () => true,
  ): SqlStatement | undefined {
    const sqls = new Map(storedSqls);
    let found: SqlStatement | undefined;
    const matches = (holder: unknown) => {
      if (!isObject(holder)) return false;
      const sql = typeof holder.sql === 'string' ? holder.sql : typeof holder.sql_id === 'number' ? sqls.get(holder.sql_id) : undefined;
      found = sql === undefined || !mayMatch(sql) ? undefined : analyzeSql(sql).find(test);
      return found !== undefined;
    };
    for (const request of requests) {
      if (!isObject(request)) continue;
      switch (request.type) {
        case 'store_sql':
          if (typeof request.sql_id === 'number' && typeof request.sql === 'string') sqls.set(request.sql_id, request.sql);
          break;
        case 'close_sql':
          if (typeof request.sql_id === 'number') sqls.delete(request.sql_id);
          break;
        case 'execute':
          if (matches(request.stmt)) return found;
          break;
        case 'sequence':
          if (matches(request)) return found;
          break;
        case 'batch': {
          const steps = isObject(request.batch) && Array.isArray(request.batch.steps) ? request.batch.steps : [];
          if (steps.some((step) => isObject(step) && matches(step.stmt))) return found;
          break;
        }
      }
    }
    return undefined;
  }

  private async handleStreamRequest(stream: HranaStream, request: unknown, version: 2 | 3): Promise<StreamResultJson> {
    if (!isObject(request) || typeof request.type !== 'string') throw new ProtocolError('StreamRequest type not recognized');
    const type = request.type;
    this.stats.byRequestType[type] = (this.stats.byRequestType[type] ?? 0) + 1;
    const ok = (response: Record<string, unknown>): StreamResultJson => ({ type: 'ok', response: { type, ...response } });
    try {
      switch (type) {
        case 'close':
          this.endStream(stream, 'closed');
          return ok({});
        case 'execute': {
          const query = toQuery(request.stmt, stream.sqls);
          const connection = this.connectionOf(stream);
          return ok({ result: await this.execute(connection, query) });
        }
        case 'batch':
          return ok({ result: await this.executeBatch(stream, request.batch, version) });
        case 'sequence':
          await this.executeSequence(stream, resolveSql(request.sql, request.sql_id, stream.sqls));
          return ok({});
        case 'describe':
          return ok({ result: this.describe(stream, resolveSql(request.sql, request.sql_id, stream.sqls)) });
        case 'store_sql': {
          if (typeof request.sql_id !== 'number' || typeof request.sql !== 'string') throw deserializeError('store_sql needs sql_id and sql');
          if (stream.sqls.has(request.sql_id)) throw new ProtocolError(`SQL text ${request.sql_id} already exists`);
          if (stream.sqls.size >= MAX_STORED_SQL) {
            throw new StmtError(`The server already stores ${stream.sqls.size} SQL texts, it cannot store more`, 'SQL_STORE_TOO_MANY');
          }
          const size = Buffer.byteLength(request.sql);
          if (size > MAX_STORED_SQL_BYTES) {
            throw new StmtError(`The statement is too large to be stored: ${size} B/5.0 KB`, 'SQL_STORE_TOO_LARGE');
          }
          stream.sqls.set(request.sql_id, request.sql);
          return ok({});
        }
        case 'close_sql':
          if (typeof request.sql_id !== 'number') throw deserializeError('close_sql needs sql_id');
          stream.sqls.delete(request.sql_id);
          return ok({});
        case 'get_autocommit':
          if (version < 3) throw new ProtocolError('The `get_autocommit` request is only supported in protocol version hrana3 and higher');
          return ok({ is_autocommit: !this.connectionOf(stream).inTransaction });
        default:
          throw new ProtocolError('StreamRequest type not recognized');
      }
    } catch (error) {
      if (error instanceof StmtError) return { type: 'error', error: { message: error.message, code: error.code } };
      throw error;
    }
  }

  // --- Running SQL -----------------------------------------------------------------------------

  /** Runs one statement; on SQLITE_BUSY it retries from the event loop until busyTimeoutMs. */
  private async execute(connection: SqlConnection, query: Query): Promise<StmtResultJson> {
    const values = bindValues(query);
    const started = performance.now();
    let delay = 1;
    for (;;) {
      try {
        return this.executeOnce(connection, query, values, started);
      } catch (error) {
        const raw = rawCodeOf(error);
        const busy = raw !== undefined && (raw & 0xff) === SQLITE_BUSY && raw !== SQLITE_BUSY_SNAPSHOT;
        const remaining = this.knobs.busyTimeoutMs - (performance.now() - started);
        if (!busy || remaining <= 0) throw toStmtError(error);
        await sleep(Math.min(delay, remaining));
        delay = Math.min(delay * 2, 50);
      }
    }
  }

  private executeOnce(connection: SqlConnection, query: Query, values: SqlValue[], started: number): StmtResultJson {
    const { statement } = query;
    let succeeded = false;
    try {
      const prepared = connection.prepare(statement);
      const rows = prepared.reader ? (prepared.all(values) as unknown[][]) : (prepared.run(values), []);
      succeeded = true;
      this.stats.statements++;
      if (statement.taintsConnection) connection.tainted = true;
      const [changes, rowid] = statement.isIud ? connection.changes() : [0, 0n];
      const rowsWritten = statement.isIud ? changes : 0;
      if (statement.isInsert && rowid !== connection.rowidBaseline) connection.rowidMoved = true;
      const lastInsertRowid = !statement.isInsert ? null : connection.rowidMoved ? rowid.toString() : '0';
      return {
        cols: prepared.columns().map((col) => ({ name: col.name, decltype: col.type })),
        rows: query.wantRows ? rows.map((row) => row.map(valueToProto)) : [],
        affected_row_count: changes,
        last_insert_rowid: lastInsertRowid,
        replication_index: String(this.trackWrite(connection, statement, true)),
        rows_read: rows.length === 0 && rowsWritten === 0 ? 1 : rows.length,
        rows_written: rowsWritten,
        query_duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      };
    } finally {
      if (!succeeded) this.trackWrite(connection, statement, false);
    }
  }

  /** Moves the replication index when a write commits, as a WAL commit moves sqld's frame number. */
  private trackWrite(connection: SqlConnection, statement: SqlStatement, succeeded: boolean): number {
    if (succeeded && statement.kind === 'write') connection.pendingWrite = true;
    if (connection.pendingWrite && !connection.inTransaction) {
      if (succeeded && !statement.isRollback) this.ownReplicationIndex++;
      connection.pendingWrite = false;
    }
    return this.replicationIndex;
  }

  /** A syntax error anywhere fails the whole request before any statement runs, as sqld parses first. */
  private checkSyntax(connection: SqlConnection, statements: SqlStatement[]): void {
    for (const statement of statements) {
      if (statement.actsWhenPrepared) continue;
      try {
        connection.prepare(statement);
      } catch (error) {
        const stmtError = toStmtError(error);
        if (stmtError.code === 'SQL_PARSE_ERROR') throw stmtError;
      }
    }
  }

  private async executeBatch(stream: HranaStream, batch: unknown, version: 2 | 3): Promise<Record<string, unknown>> {
    if (!isObject(batch) || !Array.isArray(batch.steps)) throw deserializeError('batch needs steps');
    const steps = batch.steps.map((step: unknown, index) => {
      if (!isObject(step)) throw deserializeError('a batch step must be an object');
      const cond = step.condition === undefined || step.condition === null ? null : toCond(step.condition, index, version);
      return { query: toQuery(step.stmt, stream.sqls), cond };
    });
    const connection = this.connectionOf(stream);
    this.checkSyntax(connection, steps.map((step) => step.query.statement));
    const outcomes: boolean[] = [];
    const stepResults: (StmtResultJson | null)[] = [];
    const stepErrors: (ErrorJson | null)[] = [];
    for (const step of steps) {
      const enabled = step.cond === null || evalCond(step.cond, outcomes, !connection.inTransaction);
      let result: StmtResultJson | null = null;
      let error: ErrorJson | null = null;
      if (enabled) {
        try {
          result = await this.execute(connection, step.query);
        } catch (caught) {
          if (!(caught instanceof StmtError)) throw caught;
          error = { message: caught.message, code: caught.code };
        }
      }
      outcomes.push(result !== null);
      stepResults.push(result);
      stepErrors.push(error);
    }
    return { step_results: stepResults, step_errors: stepErrors, replication_index: String(this.replicationIndex) };
  }

  private async executeSequence(stream: HranaStream, sql: string): Promise<void> {
    const statements = analyzeSql(sql);
    const connection = this.connectionOf(stream);
    this.checkSyntax(connection, statements);
    for (const statement of statements) {
      await this.execute(connection, { statement, args: [], named: null, wantRows: false });
    }
  }

  private describe(stream: HranaStream, sql: string): Record<string, unknown> {
    const statement = singleStatement(sql);
    const connection = this.connectionOf(stream);
    if (statement.actsWhenPrepared) connection.tainted = true;
    let prepared: Statement;
    try {
      prepared = connection.prepare(statement);
    } catch (error) {
      throw toStmtError(error);
    }
    return {
      params: statement.params.map((name) => ({ name })),
      cols: prepared.columns().map((col) => ({ name: col.name, decltype: col.type })),
      is_explain: statement.isExplain,
      is_readonly: statement.kind !== 'write',
    };
  }

  // --- Dump ------------------------------------------------------------------------------------

  private async handleDump(res: ServerResponse, dropMid: boolean): Promise<void> {
    const connection = this.pool.acquire();
    try {
      connection.db.exec('BEGIN');
      const lines = dumpLines(connection.db);
      res.writeHead(200);
      let buffered: string[] = [];
      let size = 0;
      const flush = async () => {
        const chunk = buffered.join('');
        buffered = [];
        size = 0;
        if (dropMid) {
          res.write(chunk.slice(0, Math.ceil(chunk.length / 2)), () => res.destroy());
          return false;
        }
        return res.write(chunk) || (await drained(res));
      };
      for (const line of lines) {
        buffered.push(line);
        size += line.length;
        if (size >= 64 * 1024 && !(await flush())) return;
      }
      if (size > 0 && !(await flush())) return;
      res.end();
    } finally {
      this.pool.release(connection);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Request decoding helpers

function resolveSql(sql: unknown, sqlId: unknown, sqls: Map<number, string>): string {
  const hasSql = typeof sql === 'string';
  const hasId = typeof sqlId === 'number';
  if (hasSql && hasId) throw new ProtocolError('Either `sql` or `sql_id` are required, but not both');
  if (hasSql) return sql;
  if (!hasId) throw new ProtocolError('Either `sql` or `sql_id` are required');
  const stored = sqls.get(sqlId);
  if (stored === undefined) throw new ProtocolError(`SQL text ${sqlId} not found`);
  return stored;
}

function singleStatement(sql: string): SqlStatement {
  const statements = analyzeSql(sql);
  if (statements.length === 0) throw new StmtError('SQL string does not contain any statement', 'SQL_NO_STATEMENT');
  if (statements.length > 1) throw new StmtError('SQL string contains more than one statement', 'SQL_MANY_STATEMENTS');
  return statements[0]!;
}

function toQuery(stmt: unknown, sqls: Map<number, string>): Query {
  if (!isObject(stmt)) throw deserializeError('stmt must be an object');
  const statement = singleStatement(resolveSql(stmt.sql, stmt.sql_id, sqls));
  const args = stmt.args ?? [];
  const namedArgs = stmt.named_args ?? [];
  if (!Array.isArray(args) || !Array.isArray(namedArgs)) throw deserializeError('args and named_args must be arrays');
  if (args.length > 0 && namedArgs.length > 0) {
    throw new StmtError('Specifying both positional and named arguments is not supported', 'ARGS_BOTH_POSITIONAL_AND_NAMED');
  }
  let named: Map<string, SqlValue> | null = null;
  if (namedArgs.length > 0) {
    named = new Map();
    for (const arg of namedArgs) {
      if (!isObject(arg) || typeof arg.name !== 'string') throw deserializeError('a named argument needs a name');
      named.set(arg.name, valueFromProto(arg.value));
    }
  }
  const wantRows = stmt.want_rows ?? true;
  if (typeof wantRows !== 'boolean') throw deserializeError('want_rows must be a boolean');
  return { statement, args: args.map(valueFromProto), named, wantRows };
}

/** Binds like sqld: `?N` and bare `?` by position, names with or without their prefix; all must be given. */
function bindValues(query: Query): SqlValue[] {
  const { statement, args, named } = query;
  const params = statement.params;
  const given = named?.size ?? args.length;
  if (given > params.length) {
    throw new StmtError(`Arguments do not match SQL parameters: too many parameters, expected ${params.length} found ${given}`, 'ARGS_INVALID');
  }
  const values: SqlValue[] = new Array<SqlValue>(params.length).fill(null);
  for (let i = 0; i < params.length; i++) {
    const name = params[i]!;
    let found = false;
    if (name === null || name.startsWith('?')) {
      const position = name === null ? i : Number(name.slice(1)) - 1;
      if (named === null && position < args.length) {
        values[i] = args[position]!;
        found = true;
      }
    } else if (named !== null) {
      const key = named.has(name) ? name : named.has(name.slice(1)) ? name.slice(1) : undefined;
      if (key !== undefined) {
        values[i] = named.get(key)!;
        found = true;
      }
    }
    if (!found) {
      if (statement.isExplain) break;
      throw new StmtError(`Arguments do not match SQL parameters: value for parameter ${name ?? i + 1} not found`, 'ARGS_INVALID');
    }
  }
  return values;
}

function toCond(cond: unknown, stepIndex: number, version: 2 | 3): Cond {
  if (!isObject(cond)) throw deserializeError('a condition must be an object');
  switch (cond.type) {
    case 'ok':
    case 'error':
      if (typeof cond.step !== 'number' || !Number.isInteger(cond.step) || cond.step < 0 || cond.step >= stepIndex) {
        throw new ProtocolError('Invalid reference to step in a batch condition');
      }
      return { type: cond.type, step: cond.step };
    case 'not':
      return { type: 'not', cond: toCond(cond.cond, stepIndex, version) };
    case 'and':
    case 'or':
      if (!Array.isArray(cond.conds)) throw deserializeError('conds must be an array');
      return { type: cond.type, conds: cond.conds.map((inner: unknown) => toCond(inner, stepIndex, version)) };
    case 'is_autocommit':
      if (version < 3) {
        throw new ProtocolError('BatchCond of type `is_autocommit` is only supported in protocol version hrana3 and higher');
      }
      return { type: 'is_autocommit' };
    default:
      throw new ProtocolError('BatchCond type not recognized');
  }
}

/** As in sqld, a skipped step counts as failed for `ok` and `error` alike. */
function evalCond(cond: Cond, outcomes: boolean[], autocommit: boolean): boolean {
  switch (cond.type) {
    case 'ok':
      return outcomes[cond.step]!;
    case 'error':
      return !outcomes[cond.step]!;
    case 'not':
      return !evalCond(cond.cond, outcomes, autocommit);
    case 'and':
      return cond.conds.every((inner) => evalCond(inner, outcomes, autocommit));
    case 'or':
      return cond.conds.some((inner) => evalCond(inner, outcomes, autocommit));
    case 'is_autocommit':
      return autocommit;
  }
}

function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const gone = () => new HttpError(400, 'text/plain', 'The client closed the request before its body ended');
  return new Promise((resolve, reject) => {
    // the client may have given up during the latency knob's wait, before anything listened
    if (req.readableAborted || (req.destroyed && !req.complete)) {
      reject(gone());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, 'text/plain', 'Request body is too large'));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    req.once('error', reject);
    req.once('close', () => {
      if (!ended) reject(gone());
    });
    req.once('end', () => {
      ended = true;
      if (size > MAX_BODY_BYTES) return;
      try {
        resolve(JSON.parse(Buffer.concat(chunks, size).toString('utf8')));
      } catch (error) {
        reject(deserializeError(error instanceof Error ? error.message : 'invalid JSON'));
      }
    });
  });
}

function send(res: ServerResponse, status: number, contentType: string | undefined, body: string, dropMid: boolean): void {
  const bytes = Buffer.from(body);
  const headers: Record<string, string | number> = { 'content-length': bytes.length };
  if (contentType !== undefined) headers['content-type'] = contentType;
  res.writeHead(status, headers);
  if (dropMid) {
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
    return;
  }
  res.end(bytes);
}

/** Resolves true when the response can take more, false when the client went away. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

// ---------------------------------------------------------------------------------------------
// Dump, in the format of sqld's exporter (a port of the sqlite3 shell's .dump)

const SQLITE_KEYWORDS = new Set(
  (
    'ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN BETWEEN BY ' +
    'CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE ' +
    'CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP ' +
    'EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM ' +
    'FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD ' +
    'INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL ' +
    'NULL NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE ' +
    'RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS ' +
    'SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE ' +
    'USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT'
  ).split(' '),
);

function quoteIdentifier(name: string): string {
  if (/^[\p{L}_][\p{L}\p{N}_]*$/u.test(name) && !SQLITE_KEYWORDS.has(name.toUpperCase())) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

function unusedToken(text: string, first: string, second: string): string {
  if (!text.includes(first)) return first;
  if (!text.includes(second)) return second;
  for (let i = 0; ; i++) {
    const candidate = `(${first}${i})`;
    if (!text.includes(candidate)) return candidate;
  }
}

function textLiteral(text: string): string {
  let literal = `'${text.replace(/'/g, "''")}'`;
  if (text.includes('\r')) {
    const token = unusedToken(text, '\\r', '\\015');
    literal = `replace(${literal.replace(/\r/g, token)},'${token}',char(13))`;
  }
  if (text.includes('\n')) {
    const token = unusedToken(text, '\\n', '\\012');
    literal = `replace(${literal.replace(/\n/g, token)},'${token}',char(10))`;
  }
  return literal;
}

function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (value === Infinity) return '1e999';
    if (value === -Infinity) return '-1e999';
    // keep the value REAL when reloaded, even where the column has no affinity
    return Number.isInteger(value) && Math.abs(value) < 1e21 ? `${value}.0` : String(value);
  }
  if (typeof value === 'string') return textLiteral(value);
  if (value instanceof Uint8Array) return `X'${Buffer.from(value).toString('hex')}'`;
  return textLiteral(String(value));
}

function* dumpLines(db: Database.Database): Generator<string> {
  const query = (sql: string, ...params: unknown[]) =>
    db.prepare(sql).safeIntegers(true).raw(true).all(params) as unknown[][];
  yield 'PRAGMA foreign_keys=OFF;\n';
  yield 'BEGIN TRANSACTION;\n';
  let writableSchema = false;
  const tables = query(
    "SELECT name, type, sql FROM sqlite_schema WHERE type == 'table' AND sql NOT NULL ORDER BY tbl_name == 'sqlite_sequence', rowid",
  ) as [string, string, string][];
  for (const [name, , sql] of tables) {
    if (name === 'sqlite_sequence') yield 'DELETE FROM sqlite_sequence;\n';
    else if (name.startsWith('sqlite_stat')) yield 'ANALYZE sqlite_schema;\n';
    else if (name.startsWith('sqlite_')) continue;
    else if (sql.startsWith('CREATE VIRTUAL TABLE')) {
      if (!writableSchema) {
        yield 'PRAGMA writable_schema=ON;\n';
        writableSchema = true;
      }
      const quoted = textLiteral(name);
      yield `INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql) VALUES('table',${quoted},${quoted},0,${textLiteral(sql)});\n`;
      continue;
    } else {
      yield `${sql.startsWith('CREATE TABLE ') ? `CREATE TABLE IF NOT EXISTS ${sql.slice(13)}` : sql};\n`;
    }
    const columns = query('SELECT name FROM pragma_table_info(?)', name).map(([column]) => quoteIdentifier(String(column)));
    if (columns.length === 0) continue;
    const insert = `INSERT INTO ${quoteIdentifier(name)} VALUES(`;
    const select = db.prepare(`SELECT ${columns.join(',')} FROM ${quoteIdentifier(name)}`).safeIntegers(true).raw(true);
    for (const row of select.iterate() as Iterable<unknown[]>) {
      yield `${insert}${row.map(sqlLiteral).join(',')});\n`;
    }
  }
  const others = query("SELECT sql FROM sqlite_schema WHERE sql NOT NULL AND type IN ('index','trigger','view')");
  for (const [sql] of others) yield `${String(sql)};\n`;
  if (writableSchema) yield 'PRAGMA writable_schema=OFF;\n';
  yield 'COMMIT;\n';
}
