// How the server fails: a broken request (HTTP 400), a failed statement (in the result), or an HTTP answer.

/** A client that breaks the protocol: HTTP 400 text/plain, the stream is dropped. */
export class ProtocolError extends Error {}

/** A failed statement or request: reported as `{message, code}` inside the pipeline result. */
export class StmtError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** An error that answers the whole HTTP request. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly contentType: string,
    readonly body: string,
  ) {
    super(body);
  }
}

export const jsonError = (status: number, error: string) => new HttpError(status, 'application/json', JSON.stringify({ error }));
export const deserializeError = (what: string) => new ProtocolError(`Cannot deserialize client message from JSON: ${what}`);

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
export const SQLITE_BUSY = 5;
export const SQLITE_BUSY_SNAPSHOT = 517;
const PARSE_ERROR = /syntax error|incomplete input|unrecognized token|parser stack overflow/;

export function rawCodeOf(error: unknown): number | undefined {
  const raw = (error as { rawCode?: unknown } | null)?.rawCode;
  return typeof raw === 'number' ? raw : undefined;
}

/** sqld sends the primary SQLite code only, and `SQLITE_UNKNOWN` for plain SQLITE_ERROR. */
export function toStmtError(error: unknown): StmtError {
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
