import { randomBytes } from 'node:crypto';
import { tokenProblem } from '../auth/token-input.js';
import { assertSecureTransport, isLoopbackHost } from '../auth/transport.js';

/*
 * Small probes of a libSQL server (sqld, Turso, the local test server) over plain fetch, for the
 * operations commands. They speak Hrana over HTTP directly rather than through @libsql/client because
 * they need what the client hides: the HTTP status (401 rejected vs 403 read-only), the
 * `replication_index` sqld puts in every statement result, and an exact one-request write probe.
 */

export interface ProbeOptions {
  fetch?: typeof globalThis.fetch;
  /** Per request. Default 5 s. */
  timeoutMs?: number;
  /** Monotonic milliseconds, for latency. */
  clock?: () => number;
}

/** `https://host[:port]` for a database URL (`libsql://` follows @libsql/client: https unless `?tls=0`). */
export function serverBaseUrl(databaseUrl: string, where = 'the database URL'): string {
  assertSecureTransport(databaseUrl, where);
  const parsed = new URL(databaseUrl);
  let scheme: string;
  switch (parsed.protocol) {
    case 'libsql:':
      scheme = parsed.searchParams.get('tls') === '0' ? 'http' : 'https';
      break;
    case 'wss:':
    case 'https:':
      scheme = 'https';
      break;
    case 'ws:':
    case 'http:':
      scheme = 'http';
      break;
    default:
      throw new TypeError(`${parsed.protocol}// is not a libSQL server URL`);
  }
  return `${scheme}://${parsed.host}`;
}

/**
 * The base URL of an instance from the `hostname` the Platform API gives it. Real Turso hosts are
 * only served over TLS; a loopback host (a local test bed) is plain http, as config.ts allows http
 * only for loopback.
 */
export function instanceBaseUrl(hostname: string): string {
  const host = hostname.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  const name = new URL(`http://${host}`).hostname;
  return `${isLoopbackHost(name.replace(/^\[|\]$/g, '')) ? 'http' : 'https'}://${host}`;
}

type StreamResult = { type: 'ok'; response: Record<string, any> } | { type: 'error'; error: { message: string; code?: string | null } };

type PipelineOutcome =
  | { kind: 'ok'; results: StreamResult[] }
  | { kind: 'http-error'; status: number; message: string }
  | { kind: 'network-error'; message: string }
  /** The token cannot go in a header (a line break, say): it was not sent. */
  | { kind: 'unusable-token'; message: string };

const DEFAULT_TIMEOUT_MS = 5_000;

/** `ECONNREFUSED`, `timed out`, or the innermost message (fetch's own is only "fetch failed"). */
function describeFetchFailure(error: unknown): string {
  let current: unknown = error;
  let innermost = error instanceof Error ? error.message : String(error);
  for (let depth = 0; current && depth < 6; depth++) {
    const name = (current as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$|^UND_ERR_/.test(code)) return code;
    if (current instanceof Error && current.message) innermost = current.message;
    current = (current as { cause?: unknown }).cause;
  }
  return innermost;
}

function errorMessageOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string') return body.error;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: sqld answers protocol errors in text/plain
  }
  return text.trim() ? text.trim().slice(0, 300) : `HTTP ${status}`;
}

const statement = (sql: string, wantRows = true) => ({ sql, args: [], named_args: [], want_rows: wantRows });

/** A failure message with every piece of the token taken out: the HTTP layer quotes a header it refuses. */
function withoutToken(message: string, token: string | undefined): string {
  if (!token) return message;
  let result = message;
  for (const piece of [token, ...token.split(/[\s\u0000-\u001f]+/)].filter((p) => p.length >= 4)) result = result.split(piece).join('[token]');
  return result;
}

async function pipeline(baseUrl: string, token: string | undefined, requests: unknown[], options: ProbeOptions): Promise<PipelineOutcome> {
  const problem = token === undefined ? undefined : tokenProblem(token);
  if (problem) return { kind: 'unusable-token', message: `the database token contains ${problem}, so it was not sent` };
  const fetchImpl = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await fetchImpl(`${baseUrl}/v2/pipeline`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ requests: [...requests, { type: 'close' }] }),
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    return { kind: 'network-error', message: withoutToken(describeFetchFailure(error), token) };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { kind: 'network-error', message: `the response broke off: ${withoutToken(describeFetchFailure(error), token)}` };
  }
  if (!response.ok) return { kind: 'http-error', status: response.status, message: errorMessageOf(response.status, text) };
  try {
    const body = JSON.parse(text) as { results?: unknown };
    if (!Array.isArray(body.results)) throw new Error('no results');
    return { kind: 'ok', results: body.results as StreamResult[] };
  } catch {
    return { kind: 'http-error', status: response.status, message: 'the server answered with something that is not a Hrana pipeline result' };
  }
}

function parseIndex(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return null;
}

export interface InstanceProbe {
  reachable: boolean;
  /** Why the instance is unreachable. */
  error?: string;
  /** Median of the /health round trips. */
  latencyMs: number | null;
  latencySamplesMs: number[];
  /** What GET /version answered, e.g. `sqld 0.24.33 (40a151bd 2025-12-19)`. */
  version: string | null;
  /** The WAL frame number the instance reports in a statement result. */
  replicationIndex: number | null;
  /** Why the replication index could not be read though the instance is up. */
  indexError?: string;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Health, latency, version and replication index of one server. `/health` and `/version` need no
 * auth on sqld; the replication index comes from a `SELECT 1`, which any valid token may run.
 */
export async function probeInstance(
  baseUrl: string,
  options: ProbeOptions & { token?: string; tokenSource?: string; samples?: number } = {},
): Promise<InstanceProbe> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? (() => performance.now());
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const samples: number[] = [];
  let healthError: string | undefined;
  for (let i = 0; i < Math.max(1, options.samples ?? 3); i++) {
    const started = clock();
    try {
      const response = await fetchImpl(`${baseUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      if (!response.ok) {
        healthError = `GET /health answered HTTP ${response.status}`;
        break;
      }
      samples.push(Math.round((clock() - started) * 10) / 10);
    } catch (error) {
      healthError = describeFetchFailure(error);
      break;
    }
  }
  if (samples.length === 0) {
    return { reachable: false, error: healthError ?? 'no answer', latencyMs: null, latencySamplesMs: [], version: null, replicationIndex: null };
  }

  let version: string | null = null;
  try {
    const response = await fetchImpl(`${baseUrl}/version`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = (await response.text()).trim().split('\n')[0]?.slice(0, 80);
    if (response.ok && text) version = text;
  } catch {
    // version is informational
  }

  const result: InstanceProbe = { reachable: true, latencyMs: median(samples), latencySamplesMs: samples, version, replicationIndex: null };
  const outcome = await pipeline(baseUrl, options.token, [{ type: 'execute', stmt: statement('SELECT 1') }], options);
  if (outcome.kind === 'network-error') result.indexError = `the query failed: ${outcome.message}`;
  else if (outcome.kind === 'unusable-token') result.indexError = outcome.message;
  else if (outcome.kind === 'http-error') {
    result.indexError =
      outcome.status === 401
        ? options.token
          ? `the database token${options.tokenSource ? ` from ${options.tokenSource}` : ''} was rejected (HTTP 401: ${outcome.message})`
          : 'the server needs a database token to report its replication index, and no database token is configured (TURSO_AUTH_TOKEN_RO or TURSO_AUTH_TOKEN)'
        : `HTTP ${outcome.status}: ${outcome.message}`;
  } else {
    const first = outcome.results[0];
    if (first?.type !== 'ok') result.indexError = first?.type === 'error' ? first.error.message : 'no result';
    else {
      result.replicationIndex = parseIndex(first.response.result?.replication_index);
      if (result.replicationIndex === null) result.indexError = 'the server does not report a replication index';
    }
  }
  return result;
}

export interface TokenAccess {
  /** The server answered (whatever it said). */
  reachable: boolean;
  /** false: the server rejected the token (HTTP 401). null: unknown (unreachable). */
  accepted: boolean | null;
  canRead: boolean | null;
  /** Established with a write that is rolled back; null when it could not be decided. */
  canWrite: boolean | null;
  /** The server's words when it rejected the token, refused a read or a write, or failed. */
  detail?: string;
  writeDetail?: string;
}

/**
 * What a token can actually do on a server, whatever its claims say.
 *
 * Read: `SELECT count(*) FROM sqlite_schema` reads the database file itself.
 *
 * Write: one pipeline `BEGIN IMMEDIATE; CREATE TABLE "_qbank_token_probe_<random>"(x); ROLLBACK`.
 * sqld classifies every statement of a request before running any (`check_program_auth`): a plain
 * CREATE TABLE is DDL and needs Write permission, so a read-only token is refused with 403 and nothing
 * runs. Cheaper-looking probes do not prove a write: SELECT and BEGIN/ROLLBACK need only Read;
 * `CREATE TEMP TABLE` is not accepted by sqld at all (temporary objects are bound to a connection);
 * a write to sqlite_schema fails for every token. With a read-write token SQLite really executes the
 * CREATE, and the unconditional ROLLBACK (and the stream's close, which would roll back anyway)
 * discards it: no WAL frame is committed, the replication index does not move, replicas see nothing.
 * A server that ignores read-only claims (older sqld) lets the read-only token run it: that is exactly
 * what this must catch.
 */
export async function checkTokenAccess(baseUrl: string, token: string, options: ProbeOptions = {}): Promise<TokenAccess> {
  const read = await pipeline(baseUrl, token, [{ type: 'execute', stmt: statement('SELECT count(*) FROM sqlite_schema') }], options);
  if (read.kind === 'network-error') return { reachable: false, accepted: null, canRead: null, canWrite: null, detail: read.message };
  if (read.kind === 'unusable-token') return { reachable: true, accepted: false, canRead: false, canWrite: false, detail: read.message };
  if (read.kind === 'http-error') {
    if (read.status === 401) return { reachable: true, accepted: false, canRead: false, canWrite: false, detail: read.message };
    if (read.status !== 403) return { reachable: true, accepted: null, canRead: null, canWrite: null, detail: `HTTP ${read.status}: ${read.message}` };
  }
  const access: TokenAccess = { reachable: true, accepted: true, canRead: false, canWrite: null };
  if (read.kind === 'http-error') access.detail = read.message;
  else if (read.results[0]?.type === 'ok') access.canRead = true;
  else access.detail = read.results[0]?.type === 'error' ? read.results[0].error.message : 'no result';

  const table = `_qbank_token_probe_${randomBytes(6).toString('hex')}`;
  const write = await pipeline(
    baseUrl,
    token,
    [
      {
        type: 'batch',
        batch: {
          steps: [
            { stmt: statement('BEGIN IMMEDIATE', false) },
            { stmt: statement(`CREATE TABLE "${table}" (x)`, false), condition: { type: 'ok', step: 0 } },
            { stmt: statement('ROLLBACK', false) },
          ],
        },
      },
    ],
    options,
  );
  if (write.kind === 'network-error' || write.kind === 'unusable-token') {
    access.writeDetail = `the write probe failed: ${write.message}`;
  } else if (write.kind === 'http-error') {
    if (write.status === 403) access.canWrite = false;
    else if (write.status === 401) access.accepted = false;
    access.writeDetail = write.status === 403 ? write.message : `HTTP ${write.status}: ${write.message}`;
  } else {
    const first = write.results[0];
    if (first?.type !== 'ok') {
      access.writeDetail = first?.type === 'error' ? first.error.message : 'no result';
    } else {
      const result = first.response.result as { step_results?: unknown[]; step_errors?: Array<{ message: string; code?: string } | null> };
      const beginError = result.step_errors?.[0];
      const createError = result.step_errors?.[1];
      if (result.step_results?.[1]) access.canWrite = true;
      else if (beginError) access.writeDetail = `could not begin a write transaction: ${beginError.message}`;
      else if (createError) {
        if (/READONLY|BLOCKED|AUTH|PERM/.test(createError.code ?? '')) access.canWrite = false;
        access.writeDetail = createError.message;
      } else access.writeDetail = 'the server skipped the write probe';
    }
  }
  return access;
}
