// `POST /v2/pipeline` and `/v3/pipeline`: a baton, then the stream requests run in order.
import type { SqlExecutor } from './executor.js';
import { deserializeError, jsonError, ProtocolError, StmtError } from './errors.js';
import type { ServerStats } from './knobs.js';
import { resolveSql, singleStatement, toBatchSteps, toQuery, type Access, type StreamResultJson } from './protocol.js';
import { analyzeSql, type SqlStatement } from './sql-analysis.js';
import type { HranaStream, StreamRegistry } from './streams.js';
import { isObject } from './values.js';

// sqld's limits and wording
const MAX_STORED_SQL = 50;
const MAX_STORED_SQL_BYTES = 5_000;
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

export class PipelineHandler {
  constructor(
    private readonly streams: StreamRegistry,
    private readonly executor: SqlExecutor,
    private readonly stats: ServerStats,
  ) {}

  /** `authEnabled`: the server checks tokens (it words a refused ATTACH as sqld does then). */
  async handle(body: unknown, version: 2 | 3, access: Access, authEnabled: boolean): Promise<Record<string, unknown>> {
    if (!isObject(body) || !Array.isArray(body.requests)) throw deserializeError('expected {baton, requests}');
    const baton = body.baton;
    if (baton !== undefined && baton !== null && typeof baton !== 'string') throw deserializeError('baton must be a string');
    const stream = typeof baton === 'string' ? this.streams.forBaton(baton) : this.streams.open();
    if (stream.timer !== undefined) clearTimeout(stream.timer);
    stream.busy = true;
    stream.seq = BigInt.asUintN(64, stream.seq + 1n);
    const results: StreamResultJson[] = [];
    try {
      if (access === 'ro' && pipelineFind(body.requests, stream.sqls, (statement) => statement.kind === 'write')) {
        throw jsonError(403, `Authorization forbidden: ${FORBIDDEN_WRITE}`);
      }
      // a read-only token may not write at all; no token may ATTACH
      const attach = pipelineFind(body.requests, stream.sqls, (statement) => /^ATTACH\b/i.test(statement.sql), (sql) => /ATTACH/i.test(sql));
      if (attach) throw jsonError(403, `Authorization forbidden: ${forbiddenAttach(attach.sql, authEnabled)}`);
      for (const request of body.requests) results.push(await this.handleStreamRequest(stream, request, version));
    } catch (error) {
      this.streams.end(stream, 'closed');
      throw error;
    } finally {
      stream.busy = false;
    }
    if (!stream.closed) this.streams.scheduleExpiry(stream);
    return { baton: stream.closed ? null : this.streams.encodeBaton(stream), base_url: null, results };
  }

  private async handleStreamRequest(stream: HranaStream, request: unknown, version: 2 | 3): Promise<StreamResultJson> {
    if (!isObject(request) || typeof request.type !== 'string') throw new ProtocolError('StreamRequest type not recognized');
    const type = request.type;
    this.stats.byRequestType[type] = (this.stats.byRequestType[type] ?? 0) + 1;
    try {
      return { type: 'ok', response: { type, ...(await this.runStreamRequest(stream, request, version)) } };
    } catch (error) {
      if (error instanceof StmtError) return { type: 'error', error: { message: error.message, code: error.code } };
      throw error;
    }
  }

  private async runStreamRequest(stream: HranaStream, request: Record<string, unknown>, version: 2 | 3): Promise<Record<string, unknown>> {
    switch (request.type) {
      case 'close':
        this.streams.end(stream, 'closed');
        return {};
      case 'execute': {
        const query = toQuery(request.stmt, stream.sqls);
        return { result: await this.executor.execute(this.streams.connectionOf(stream), query) };
      }
      case 'batch': {
        const steps = toBatchSteps(request.batch, stream.sqls, version);
        return { result: await this.executor.executeBatch(this.streams.connectionOf(stream), steps) };
      }
      case 'sequence': {
        const statements = analyzeSql(resolveSql(request.sql, request.sql_id, stream.sqls));
        await this.executor.executeSequence(this.streams.connectionOf(stream), statements);
        return {};
      }
      case 'describe': {
        const statement = singleStatement(resolveSql(request.sql, request.sql_id, stream.sqls));
        return { result: this.executor.describe(this.streams.connectionOf(stream), statement) };
      }
      case 'store_sql':
        storeSql(stream, request);
        return {};
      case 'close_sql':
        if (typeof request.sql_id !== 'number') throw deserializeError('close_sql needs sql_id');
        stream.sqls.delete(request.sql_id);
        return {};
      case 'get_autocommit':
        if (version < 3) throw new ProtocolError('The `get_autocommit` request is only supported in protocol version hrana3 and higher');
        return { is_autocommit: !this.streams.connectionOf(stream).inTransaction };
      default:
        throw new ProtocolError('StreamRequest type not recognized');
    }
  }
}

function storeSql(stream: HranaStream, request: Record<string, unknown>): void {
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
}

/**
 * The first statement of the pipeline that `test` picks (sqld checks a whole program before running
 * any of it). `mayMatch` skips parsing the texts that cannot hold one, such as big INSERTs.
 */
function pipelineFind(
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
