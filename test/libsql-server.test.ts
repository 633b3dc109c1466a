import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, LibsqlError, type Client, type Config } from '@libsql/client';
import Database from 'libsql';
import { afterEach, describe, expect, it } from 'vitest';
import {
  generateEd25519KeyPair,
  publicKeyToPem,
  publicKeyToRawBase64url,
  signToken,
  verifyBearerToken,
} from './support/jwt.js';
import { startLibsqlServer, type LibsqlServer, type LibsqlServerOptions } from './support/libsql-server.js';

const dirs: string[] = [];
const servers: LibsqlServer[] = [];
const clients: Client[] = [];

function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qbank-libsql-server-'));
  dirs.push(dir);
  return join(dir, 'test.db');
}

async function start(options: LibsqlServerOptions = {}): Promise<LibsqlServer> {
  const server = await startLibsqlServer(options.replicaOf ? options : { dbPath: tempDbPath(), ...options });
  servers.push(server);
  return server;
}

function connect(server: LibsqlServer, config: Partial<Config> = {}): Client {
  const client = createClient({ url: server.url, ...config });
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface RawReply {
  status: number;
  contentType: string | null;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

async function post(server: LibsqlServer, path: string, body: unknown, token?: string): Promise<RawReply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(server.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  const contentType = res.headers.get('content-type');
  return { status: res.status, contentType, text, json: contentType === 'application/json' ? JSON.parse(text) : undefined };
}

const stmt = (sql: string, args: unknown[] = []) => ({ sql, args, named_args: [], want_rows: true });
const exec = (sql: string, args: unknown[] = []) => ({ type: 'execute', stmt: stmt(sql, args) });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

async function libsqlError(promise: Promise<unknown>): Promise<LibsqlError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(LibsqlError);
  return error as LibsqlError;
}

/** A result row as a plain array (rows are array-like, not iterable). */
const cells = (row: ArrayLike<unknown>) => Array.from(row);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('statements through @libsql/client', () => {
  it('round-trips every value type', async () => {
    const server = await start();
    const client = connect(server, { intMode: 'bigint' });
    await client.execute('CREATE TABLE v(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, x)');
    const big = 9007199254740993n;
    const unicode = 'héllo wörld 😀 — 日本語 tail';
    const values: [bigint | null, number | null, string | null, Uint8Array | null, unknown][] = [
      [big, 1.5, unicode, new Uint8Array([0, 1, 2, 255]), 2.0],
      [2n ** 63n - 1n, -0.25, '', new Uint8Array([]), null],
      [-(2n ** 63n), 1e300, "it's \"quoted\"\nnext line", new Uint8Array([7]), 'text'],
      [null, null, null, null, 42n],
    ];
    for (const [i, r, t, b, x] of values) {
      const rs = await client.execute({ sql: 'INSERT INTO v(i, r, t, b, x) VALUES (?, ?, ?, ?, ?)', args: [i, r, t, b, x as never] });
      expect(rs.rowsAffected).toBe(1);
    }
    const rs = await client.execute('SELECT i, r, t, b, x, typeof(x) AS tx, 1 + 1 AS two FROM v ORDER BY id');
    expect(rs.columns).toEqual(['i', 'r', 't', 'b', 'x', 'tx', 'two']);
    expect(rs.columnTypes).toEqual(['INTEGER', 'REAL', 'TEXT', 'BLOB', '', '', '']);
    const rows = rs.rows.map(cells);
    expect(rows[0]!.slice(0, 3)).toEqual([big, 1.5, unicode]);
    expect(new Uint8Array(rows[0]![3] as ArrayBuffer)).toEqual(new Uint8Array([0, 1, 2, 255]));
    // a JavaScript number is sent as a float, so it stays REAL in an untyped column
    expect(rows[0]!.slice(4)).toEqual([2, 'real', 2n]);
    expect(rows[1]!.slice(0, 3)).toEqual([2n ** 63n - 1n, -0.25, '']);
    expect(new Uint8Array(rows[1]![3] as ArrayBuffer)).toEqual(new Uint8Array([]));
    expect(rows[1]![4]).toBeNull();
    expect(rows[2]!.slice(0, 3)).toEqual([-(2n ** 63n), 1e300, "it's \"quoted\"\nnext line"]);
    expect(rows[2]!.slice(4, 6)).toEqual(['text', 'text']);
    expect(rows[3]!.slice(0, 6)).toEqual([null, null, null, null, 42n, 'integer']);

    const numberClient = connect(server);
    const error = await rejection(numberClient.execute('SELECT i FROM v WHERE id = 1'));
    expect(error).toBeInstanceOf(RangeError);
  });

  it('binds named arguments with or without their prefix, and reports counts and rowids', async () => {
    const server = await start();
    const client = connect(server);
    await client.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT)');
    const insert = await client.execute({ sql: 'INSERT INTO t(a, b, c) VALUES (:a, @b, $c)', args: { a: 'A', '@b': 'B', c: 'C' } });
    expect(insert.lastInsertRowid).toBe(1n);
    await client.execute({ sql: 'INSERT INTO t(a, b, c) VALUES (?1, ?2, ?1)', args: ['x', 'y'] });
    const rs = await client.execute('SELECT a, b, c FROM t ORDER BY id');
    expect(rs.rows.map(cells)).toEqual([['A', 'B', 'C'], ['x', 'y', 'x']]);
    const update = await client.execute("UPDATE t SET c = 'z'");
    expect(update.rowsAffected).toBe(2);
    expect(update.lastInsertRowid).toBeUndefined();
    const ddl = await client.execute('CREATE INDEX t_a ON t(a)');
    expect(ddl.rowsAffected).toBe(0);
    // a fresh stream, as on sqld: an INSERT that inserts nothing reports rowid 0
    const upsert = await client.execute("INSERT INTO t(id, a) VALUES (1, 'A2') ON CONFLICT(id) DO UPDATE SET a = excluded.a");
    expect(upsert.rowsAffected).toBe(1);
    expect(upsert.lastInsertRowid).toBe(0n);
    expect((await client.execute("INSERT OR IGNORE INTO t(id, a) VALUES (1, 'no')")).lastInsertRowid).toBe(0n);
    const returning = await client.execute("INSERT INTO t(a) VALUES ('r1'), ('r2') RETURNING id");
    expect(returning.rows.map((row) => row.id)).toEqual([3, 4]);
    expect(returning.rowsAffected).toBe(2);
  });

  it('maps errors to the codes sqld sends', async () => {
    const server = await start();
    const client = connect(server);
    await client.execute('CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)');
    await client.execute('CREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id))');
    await client.execute("INSERT INTO p VALUES (1, 'one')");

    const unique = await libsqlError(client.execute("INSERT INTO p(name) VALUES ('one')"));
    expect(unique.code).toBe('SQLITE_CONSTRAINT');
    expect(unique.message).toBe('SQLITE_CONSTRAINT: SQLite error: UNIQUE constraint failed: p.name');
    expect((await libsqlError(client.execute("INSERT INTO p VALUES (1, 'dup')"))).code).toBe('SQLITE_CONSTRAINT');
    expect((await libsqlError(client.execute('INSERT INTO p(id) VALUES (2)'))).code).toBe('SQLITE_CONSTRAINT');
    // foreign keys are on, as on sqld
    expect((await libsqlError(client.execute('INSERT INTO c(p) VALUES (99)'))).code).toBe('SQLITE_CONSTRAINT');

    const parse = await libsqlError(client.execute('SELEC 1'));
    expect(parse.code).toBe('SQL_PARSE_ERROR');
    expect((await libsqlError(client.execute('SELECT * FROM missing'))).code).toBe('SQLITE_UNKNOWN');
    expect((await libsqlError(client.execute('SELECT 1; SELECT 2'))).code).toBe('SQL_MANY_STATEMENTS');
    expect((await libsqlError(client.execute('-- nothing'))).code).toBe('SQL_NO_STATEMENT');
    const args = await libsqlError(client.execute({ sql: 'SELECT ?, ?', args: [1] }));
    expect(args.code).toBe('ARGS_INVALID');
    expect((await libsqlError(client.execute({ sql: 'SELECT ?', args: [1, 2] }))).code).toBe('ARGS_INVALID');
    expect((await client.execute('SELECT count(*) AS n FROM p')).rows[0]!.n).toBe(1);
  });
});

describe('batches and transactions', () => {
  it('runs a write batch atomically', async () => {
    const server = await start();
    const client = connect(server);
    await client.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT UNIQUE)');
    const ok = await client.batch(["INSERT INTO t(name) VALUES ('a')", { sql: 'SELECT count(*) AS n FROM t WHERE name = ?', args: ['a'] }], 'write');
    expect(ok[1]!.rows[0]!.n).toBe(1);

    const error = await libsqlError(
      client.batch(["INSERT INTO t(name) VALUES ('b')", "INSERT INTO t(name) VALUES ('a')", "INSERT INTO t(name) VALUES ('c')"], 'write'),
    );
    expect(error.code).toBe('SQLITE_CONSTRAINT');
    expect((error as LibsqlError & { statementIndex: number }).statementIndex).toBe(1);
    const names = await client.execute('SELECT name FROM t ORDER BY name');
    expect(names.rows.map((row) => row.name)).toEqual(['a']);

    const read = await client.batch(['SELECT count(*) AS n FROM t'], 'read');
    expect(read[0]!.rows[0]!.n).toBe(1);
  });

  it('keeps an interactive transaction open across requests, isolated until commit', async () => {
    const server = await start();
    const client = connect(server);
    const other = connect(server);
    await client.execute('CREATE TABLE t(name TEXT)');

    const before = server.stats.byPath['/v2/pipeline'] ?? 0;
    const tx = await client.transaction('write');
    await tx.execute("INSERT INTO t VALUES ('one')");
    await tx.execute("INSERT INTO t VALUES ('two')");
    expect((await tx.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(2);
    expect((await other.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(0);
    await tx.commit();
    // three statements and the commit each took their own request with a fresh baton
    expect(server.stats.byPath['/v2/pipeline']! - before).toBe(5);
    expect((await other.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(2);

    const rolledBack = await client.transaction('write');
    await rolledBack.execute("INSERT INTO t VALUES ('three')");
    await rolledBack.rollback();
    expect((await other.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(2);
    expect(server.stats.openStreams).toBe(0);
  });

  it('makes a second writer wait for the first instead of blocking the server', async () => {
    const server = await start();
    const first = connect(server);
    const second = connect(server);
    await first.execute('CREATE TABLE t(name TEXT)');

    const tx1 = await first.transaction('write');
    await tx1.execute("INSERT INTO t VALUES ('first')");
    const tx2 = await second.transaction('write');
    let settled = false;
    const waiting = tx2.execute("INSERT INTO t VALUES ('second')").finally(() => {
      settled = true;
    });
    await sleep(150);
    expect(settled).toBe(false);
    // the event loop stays free: a reader is answered while the writer waits
    expect((await first.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(0);
    await tx1.commit();
    await waiting;
    await tx2.commit();
    expect((await first.execute('SELECT name FROM t ORDER BY rowid')).rows.map((row) => row.name)).toEqual(['first', 'second']);
  });

  it('returns SQLITE_BUSY once the busy timeout runs out', async () => {
    const server = await start({ busyTimeoutMs: 100 });
    const first = connect(server);
    const second = connect(server);
    await first.execute('CREATE TABLE t(name TEXT)');
    const tx = await first.transaction('write');
    await tx.execute("INSERT INTO t VALUES ('held')");
    const started = Date.now();
    const error = await libsqlError(second.execute("INSERT INTO t VALUES ('blocked')"));
    expect(error.code).toBe('SQLITE_BUSY');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await tx.rollback();
    await second.execute("INSERT INTO t VALUES ('later')");
    expect((await second.execute('SELECT name FROM t')).rows.map((row) => row.name)).toEqual(['later']);
  });

  it('runs migrate and executeMultiple, including triggers', async () => {
    const server = await start();
    const client = connect(server);
    await client.migrate([
      'CREATE TABLE parent(id INTEGER PRIMARY KEY)',
      'CREATE TABLE child(id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id))',
      'INSERT INTO parent VALUES (1)',
    ]);
    await client.executeMultiple(`
      CREATE TABLE log(msg TEXT);
      CREATE TRIGGER child_log AFTER INSERT ON child BEGIN
        INSERT INTO log VALUES ('child ' || NEW.id || '; ok');
        SELECT CASE WHEN NEW.id > 100 THEN RAISE(ABORT, 'too big') END;
      END;
      INSERT INTO child VALUES (1, 1); -- comment; with a semicolon
      INSERT INTO child VALUES (2, 1);
    `);
    expect((await client.execute('SELECT msg FROM log ORDER BY rowid')).rows.map((row) => row.msg)).toEqual(['child 1; ok', 'child 2; ok']);
    expect((await libsqlError(client.execute('INSERT INTO child VALUES (101, 1)'))).message).toContain('too big');

    // sqld parses the whole text first: a syntax error anywhere means nothing runs
    const error = await libsqlError(client.executeMultiple("INSERT INTO log VALUES ('x'); INSRT INTO log VALUES ('y');"));
    expect(error.code).toBe('SQL_PARSE_ERROR');
    expect((await client.execute('SELECT count(*) AS n FROM log')).rows[0]!.n).toBe(2);
    // foreign keys are back on after migrate
    expect((await libsqlError(client.execute('INSERT INTO child VALUES (3, 42)'))).code).toBe('SQLITE_CONSTRAINT');

    // a table rebuild under migrate: with foreign keys off, dropping the parent cascades nowhere
    await client.execute('CREATE TABLE owned(id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id) ON DELETE CASCADE)');
    await client.execute('INSERT INTO owned VALUES (1, 1)');
    await client.migrate([
      'CREATE TABLE new_parent(id INTEGER PRIMARY KEY, note TEXT);',
      'INSERT INTO new_parent (id) SELECT id FROM parent;',
      'DROP TABLE parent;',
      'ALTER TABLE new_parent RENAME TO parent;',
    ]);
    expect((await client.execute('SELECT count(*) AS n FROM owned')).rows[0]!.n).toBe(1);
    expect((await client.execute('PRAGMA foreign_keys')).rows[0]!.foreign_keys).toBe(1);
  });

  it('expires an idle stream and rolls its transaction back', async () => {
    const server = await start({ streamExpiryMs: 200 });
    const client = connect(server);
    const other = connect(server);
    await client.execute('CREATE TABLE t(name TEXT)');
    const tx = await client.transaction('write');
    await tx.execute("INSERT INTO t VALUES ('lost')");
    await sleep(400);
    expect(server.stats.openStreams).toBe(0);
    // the write lock went with the stream
    await other.execute("INSERT INTO t VALUES ('kept')");
    const error = await libsqlError(tx.execute('SELECT 1'));
    expect(error.code).toBe('STREAM_EXPIRED');
    expect((await libsqlError(tx.commit())).code).toBe('TRANSACTION_CLOSED');
    expect((await other.execute('SELECT name FROM t')).rows.map((row) => row.name)).toEqual(['kept']);
  });

  it('a shorter expiry set while a stream is idle applies to it at once, counted from its last request', async () => {
    const server = await start();
    const client = connect(server);
    await client.execute('CREATE TABLE t(name TEXT)');
    const tx = await client.transaction('write');
    await tx.execute("INSERT INTO t VALUES ('lost')");
    expect(server.stats.openStreams).toBe(1);
    server.knobs.streamExpiryMs = 100;
    const deadline = Date.now() + 5_000;
    while (server.stats.openStreams > 0 && Date.now() < deadline) await sleep(20);
    expect(server.stats.openStreams).toBe(0);
    expect((await libsqlError(tx.execute('SELECT 1'))).code).toBe('STREAM_EXPIRED');
  });
});

describe('the Hrana pipeline on the wire', () => {
  it('encodes results like sqld', async () => {
    const server = await start();
    const reply = await post(server, '/v2/pipeline', {
      requests: [
        exec('CREATE TABLE t(id INTEGER PRIMARY KEY, r REAL, b BLOB)'),
        exec('INSERT INTO t(r, b) VALUES (?, ?)', [{ type: 'float', value: 0.5 }, { type: 'blob', base64: 'AQL/' }]),
        exec('SELECT id, r, b, NULL AS n FROM t'),
        { type: 'close' },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    expect(reply.json.baton).toBeNull();
    expect(reply.json.base_url).toBeNull();
    const [create, insert, select, close] = reply.json.results;
    expect(create.response.result).toMatchObject({ affected_row_count: 0, last_insert_rowid: null, cols: [], rows: [] });
    expect(insert.response.result).toMatchObject({ affected_row_count: 1, last_insert_rowid: '1', rows_written: 1 });
    expect(typeof insert.response.result.replication_index).toBe('string');
    expect(typeof insert.response.result.query_duration_ms).toBe('number');
    expect(select.response.result.cols).toEqual([
      { name: 'id', decltype: 'INTEGER' },
      { name: 'r', decltype: 'REAL' },
      { name: 'b', decltype: 'BLOB' },
      { name: 'n', decltype: null },
    ]);
    expect(select.response.result.rows).toEqual([
      [{ type: 'integer', value: '1' }, { type: 'float', value: 0.5 }, { type: 'blob', base64: 'AQL/' }, { type: 'null' }],
    ]);
    expect(close).toEqual({ type: 'ok', response: { type: 'close' } });

    const bad = await post(server, '/v2/pipeline', { requests: [exec('SELECT ?', [{ type: 'integer', value: 1 }])] });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Cannot deserialize client message from JSON');
  });

  it('rotates batons and rejects stale, forged and closed ones', async () => {
    const server = await start({ busyTimeoutMs: 50 });
    const first = await post(server, '/v2/pipeline', { requests: [exec('SELECT 1')] });
    const baton: string = first.json.baton;
    expect(typeof baton).toBe('string');
    const second = await post(server, '/v2/pipeline', { baton, requests: [exec('SELECT 2')] });
    expect(second.status).toBe(200);
    expect(second.json.baton).not.toBe(baton);

    const reused = await post(server, '/v2/pipeline', { baton, requests: [exec('SELECT 3')] });
    expect(reused.status).toBe(400);
    expect(reused.contentType).toBe('text/plain');
    expect(reused.text).toBe('Received a baton that has already been used');

    const forged = await post(server, '/v2/pipeline', { baton: 'x' + baton.slice(1), requests: [] });
    expect(forged.status).toBe(400);
    expect(forged.text).toBe('Received an invalid baton');

    // a stale or forged baton does not take the stream away from its holder
    const third = await post(server, '/v2/pipeline', { baton: second.json.baton, requests: [{ type: 'close' }] });
    expect(third.status).toBe(200);
    expect(third.json.baton).toBeNull();
    const closed = await post(server, '/v2/pipeline', { baton: second.json.baton, requests: [] });
    expect(closed.text).toBe('Stream for this baton was closed');
    expect(server.stats.openStreams).toBe(0);

    // an HTTP-level error ends the stream, as the client drops it anyway, and frees its lock
    const fourth = await post(server, '/v2/pipeline', { requests: [exec('BEGIN IMMEDIATE')] });
    const blocked = await post(server, '/v2/pipeline', { requests: [exec('CREATE TABLE t(x)'), { type: 'close' }] });
    expect(blocked.json.results[0]).toMatchObject({ type: 'error', error: { code: 'SQLITE_BUSY' } });
    const broken = await post(server, '/v2/pipeline', { baton: fourth.json.baton, requests: [{ type: 'nonsense' }] });
    expect(broken.status).toBe(400);
    expect(broken.text).toBe('StreamRequest type not recognized');
    expect(server.stats.openStreams).toBe(0);
    const freed = await post(server, '/v2/pipeline', { requests: [exec('CREATE TABLE t(x)'), { type: 'close' }] });
    expect(freed.json.results[0].type).toBe('ok');
  });

  it('evaluates batch conditions and keeps step errors inside the batch', async () => {
    const server = await start();
    const steps = [
      { stmt: stmt('CREATE TABLE t(x UNIQUE)') },
      { stmt: stmt('INSERT INTO t VALUES (1)'), condition: { type: 'ok', step: 0 } },
      { stmt: stmt('INSERT INTO t VALUES (1)'), condition: { type: 'ok', step: 1 } },
      { stmt: stmt('INSERT INTO t VALUES (2)'), condition: { type: 'error', step: 2 } },
      { stmt: stmt('INSERT INTO t VALUES (3)'), condition: { type: 'not', cond: { type: 'error', step: 2 } } },
      { stmt: stmt('INSERT INTO t VALUES (4)'), condition: { type: 'and', conds: [{ type: 'ok', step: 3 }, { type: 'ok', step: 1 }] } },
      { stmt: stmt('INSERT INTO t VALUES (5)'), condition: { type: 'or', conds: [{ type: 'ok', step: 4 }, { type: 'ok', step: 2 }] } },
      { stmt: stmt('SELECT x FROM t ORDER BY x') },
    ];
    const reply = await post(server, '/v2/pipeline', { requests: [{ type: 'batch', batch: { steps } }, { type: 'close' }] });
    expect(reply.status).toBe(200);
    const { step_results: results, step_errors: errors } = reply.json.results[0].response.result;
    expect(results.map((r: unknown) => r !== null)).toEqual([true, true, false, true, false, true, false, true]);
    expect(errors.map((e: unknown) => e !== null)).toEqual([false, false, true, false, false, false, false, false]);
    expect(errors[2].code).toBe('SQLITE_CONSTRAINT');
    expect(results[7].rows.map((row: { value: string }[]) => row[0]!.value)).toEqual(['1', '2', '4']);

    const badStep = await post(server, '/v2/pipeline', {
      requests: [{ type: 'batch', batch: { steps: [{ stmt: stmt('SELECT 1'), condition: { type: 'ok', step: 0 } }] } }],
    });
    expect(badStep.status).toBe(400);
    expect(badStep.text).toBe('Invalid reference to step in a batch condition');

    // a syntax error in any step fails the whole request before a step runs
    const parse = await post(server, '/v2/pipeline', {
      requests: [{ type: 'batch', batch: { steps: [{ stmt: stmt('INSERT INTO t VALUES (9)') }, { stmt: stmt('SELEC 1') }] } }, exec('SELECT count(*) FROM t')],
    });
    expect(parse.json.results[0]).toMatchObject({ type: 'error', error: { code: 'SQL_PARSE_ERROR' } });
    expect(parse.json.results[1].response.result.rows).toEqual([[{ type: 'integer', value: '3' }]]);
  });

  it('stores SQL per stream and serves describe, get_autocommit and is_autocommit on v3', async () => {
    const server = await start();
    const first = await post(server, '/v3/pipeline', {
      requests: [
        { type: 'store_sql', sql_id: 1, sql: 'SELECT :a AS a, ?2 AS b' },
        { type: 'execute', stmt: { sql_id: 1, named_args: [{ name: 'a', value: { type: 'text', value: 'x' } }] } },
        { type: 'describe', sql_id: 1 },
        exec('BEGIN'),
        { type: 'get_autocommit' },
        {
          type: 'batch',
          batch: { steps: [{ stmt: stmt('SELECT 1'), condition: { type: 'is_autocommit' } }, { stmt: stmt('SELECT 2'), condition: { type: 'not', cond: { type: 'is_autocommit' } } }] },
        },
      ],
    });
    expect(first.status).toBe(200);
    const [, execute, describe, , autocommit, batch] = first.json.results;
    // sqld requires every parameter: ?2 has no value
    expect(execute).toMatchObject({ type: 'error', error: { code: 'ARGS_INVALID' } });
    expect(describe.response.result).toEqual({
      params: [{ name: ':a' }, { name: '?2' }],
      cols: [{ name: 'a', decltype: null }, { name: 'b', decltype: null }],
      is_explain: false,
      is_readonly: true,
    });
    expect(autocommit.response).toEqual({ type: 'get_autocommit', is_autocommit: false });
    expect(batch.response.result.step_results.map((r: unknown) => r !== null)).toEqual([false, true]);

    const next = await post(server, '/v3/pipeline', {
      baton: first.json.baton,
      requests: [{ type: 'close_sql', sql_id: 1 }, { type: 'store_sql', sql_id: 1, sql: 'SELECT 5' }, { type: 'execute', stmt: { sql_id: 1 } }, { type: 'close' }],
    });
    expect(next.json.results[2].response.result.rows).toEqual([[{ type: 'integer', value: '5' }]]);

    const duplicate = await post(server, '/v2/pipeline', {
      requests: [{ type: 'store_sql', sql_id: 1, sql: 'SELECT 1' }, { type: 'store_sql', sql_id: 1, sql: 'SELECT 2' }],
    });
    expect(duplicate.status).toBe(400);
    expect(duplicate.text).toBe('SQL text 1 already exists');

    const v2 = await post(server, '/v2/pipeline', { requests: [{ type: 'get_autocommit' }] });
    expect(v2.status).toBe(400);
    expect(v2.text).toContain('only supported in protocol version hrana3');
  });

  it('moves the replication index with each committed write only', async () => {
    const server = await start();
    const index = async (requests: unknown[]) => {
      const reply = await post(server, '/v2/pipeline', { requests: [...requests, { type: 'close' }] });
      const results = reply.json.results.filter((r: { response: { type: string } }) => r.response.type === 'execute');
      return results.map((r: { response: { result: { replication_index: string } } }) => Number(r.response.result.replication_index));
    };
    const [created] = await index([exec('CREATE TABLE t(x)')]);
    const [inserted, afterRead] = await index([exec('INSERT INTO t VALUES (1)'), exec('SELECT * FROM t')]);
    expect(inserted).toBeGreaterThan(created!);
    expect(afterRead).toBe(inserted);
    const [, , rolledBack] = await index([exec('BEGIN'), exec('INSERT INTO t VALUES (2)'), exec('ROLLBACK')]);
    expect(rolledBack).toBe(inserted);
    const [, , committed] = await index([exec('BEGIN'), exec('INSERT INTO t VALUES (3)'), exec('COMMIT')]);
    expect(committed).toBe(inserted! + 1);
    expect(server.replicationIndex).toBe(committed);
  });

  it('answers /health, /version and /v2 without auth, and 404 elsewhere', async () => {
    const { privateKey, publicKey } = generateEd25519KeyPair();
    void privateKey;
    const server = await start({ publicKeys: publicKey });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
    expect(await (await fetch(`${server.url}/version`)).text()).toMatch(/^sqld \d+\.\d+\.\d+/);
    expect(await (await fetch(`${server.url}/v2`)).text()).toBe('Hello, this is HTTP API v2 (Hrana over HTTP)');
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect(server.stats.byPath['/health']).toBe(1);
  });
});

describe('auth', () => {
  it('rejects missing, expired, forged and malformed tokens with 401', async () => {
    const { privateKey, publicKey } = generateEd25519KeyPair();
    const stranger = generateEd25519KeyPair();
    const server = await start({ publicKeys: publicKey });

    const good = connect(server, { authToken: signToken({ exp: nowSeconds() + 3600 }, privateKey) });
    expect((await good.execute('SELECT 1 AS one')).rows[0]!.one).toBe(1);

    const tokens: (string | undefined)[] = [
      undefined,
      signToken({ exp: nowSeconds() - 3600 }, privateKey),
      signToken({}, stranger.privateKey),
      'not-a-jwt',
    ];
    for (const authToken of tokens) {
      const error = await libsqlError(connect(server, { authToken }).execute('SELECT 1'));
      expect(error.code).toBe('SERVER_ERROR');
      expect(error.message).toContain('HTTP status 401');
    }
    const raw = await post(server, '/v2/pipeline', { requests: [] }, signToken({ exp: nowSeconds() - 3600 }, privateKey));
    expect(raw.status).toBe(401);
    expect(raw.json).toEqual({ error: 'Unauthorized: `The JWT has expired`' });
    const missing = await post(server, '/v2/pipeline', { requests: [] });
    expect(missing.json).toEqual({ error: 'Unauthorized: `The `Authorization` HTTP header has invalid value`' });
  });

  it('refuses any write from a read-only token before anything runs', async () => {
    const { privateKey, publicKey } = generateEd25519KeyPair();
    const server = await start({ publicKeys: publicKey });
    const rw = connect(server, { authToken: signToken({ a: 'rw' }, privateKey) });
    const ro = connect(server, { authToken: signToken({ a: 'ro' }, privateKey) });
    await rw.execute('CREATE TABLE t(x)');
    await rw.execute('INSERT INTO t VALUES (1)');

    expect((await ro.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(1);
    expect((await ro.batch(['SELECT 1', 'SELECT 2'], 'read')).length).toBe(2);
    for (const attempt of [
      () => ro.execute('INSERT INTO t VALUES (2)'),
      () => ro.batch(['INSERT INTO t VALUES (3)', 'SELECT 1'], 'write'),
      () => ro.executeMultiple('SELECT 1; DELETE FROM t;'),
      () => ro.execute('PRAGMA user_version = 7'),
    ]) {
      const error = await libsqlError(attempt());
      expect(error.code).toBe('SERVER_ERROR');
      expect(error.message).toContain('HTTP status 403');
    }
    const tx = await ro.transaction('read');
    await tx.execute('SELECT 1');
    expect((await libsqlError(tx.execute('UPDATE t SET x = 5'))).message).toContain('403');

    const raw = await post(server, '/v2/pipeline', { requests: [exec('CREATE TABLE u(x)'), exec('INSERT INTO t VALUES (9)')] }, signToken({ a: 'ro' }, privateKey));
    expect(raw.status).toBe(403);
    expect(raw.json.error).toMatch(/^Authorization forbidden: /);
    expect((await rw.execute('SELECT x FROM t')).rows.map((row) => row.x)).toEqual([1]);
    expect((await rw.execute("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'u'")).rows[0]!.n).toBe(0);
    expect((await rw.execute('PRAGMA user_version')).rows[0]!.user_version).toBe(0);
  });

  it('switches keys at runtime and accepts the key file forms sqld reads', async () => {
    const oldKeys = generateEd25519KeyPair();
    const newKeys = generateEd25519KeyPair();
    const server = await start({ publicKeys: publicKeyToRawBase64url(oldKeys.publicKey) });
    const oldToken = signToken({}, oldKeys.privateKey);
    const newToken = signToken({}, newKeys.privateKey);
    expect((await post(server, '/v2/pipeline', { requests: [] }, oldToken)).status).toBe(200);
    expect((await post(server, '/v2/pipeline', { requests: [] }, newToken)).status).toBe(401);

    server.setPublicKeys([publicKeyToPem(newKeys.publicKey)]);
    expect((await post(server, '/v2/pipeline', { requests: [] }, oldToken)).status).toBe(401);
    const client = connect(server, { authToken: newToken });
    expect((await client.execute('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    expect((await libsqlError(connect(server, { authToken: oldToken }).execute('SELECT 1'))).message).toContain('401');

    server.setPublicKeys(null);
    expect((await post(server, '/v2/pipeline', { requests: [] })).status).toBe(200);
  });

  it('checks bearer headers with sqld rules', () => {
    const { privateKey, publicKey } = generateEd25519KeyPair();
    const token = signToken({ a: 'ro' }, privateKey);
    expect(verifyBearerToken(`bearer ${token}`, [publicKey])).toMatchObject({ ok: true, access: 'ro' });
    expect(verifyBearerToken(`Basic ${token}`, [publicKey])).toMatchObject({ ok: false });
    // jsonwebtoken's default leeway keeps a just-expired token valid for a minute
    expect(verifyBearerToken(`Bearer ${signToken({ exp: nowSeconds() - 10 }, privateKey)}`, [publicKey]).ok).toBe(true);
    expect(verifyBearerToken(`Bearer ${signToken({ exp: nowSeconds() - 120 }, privateKey)}`, [publicKey])).toEqual({
      ok: false,
      reason: 'The JWT has expired',
    });
    expect(verifyBearerToken(`Bearer ${signToken({ a: 'admin' as 'rw' }, privateKey)}`, [publicKey]).ok).toBe(false);
  });
});

describe('dump', () => {
  it('streams a dump that loads into an empty database', async () => {
    const { privateKey, publicKey } = generateEd25519KeyPair();
    const server = await start({ publicKeys: publicKey });
    const token = signToken({ a: 'ro' }, privateKey);
    const client = connect(server, { authToken: signToken({}, privateKey) });
    await client.executeMultiple(`
      CREATE TABLE exams(id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, score REAL, data BLOB, "order" INTEGER);
      CREATE TABLE questions(id INTEGER PRIMARY KEY, exam_id INTEGER REFERENCES exams(id), body TEXT);
      CREATE INDEX questions_exam ON questions(exam_id);
      CREATE VIEW exam_titles AS SELECT title FROM exams;
      CREATE TRIGGER exams_touch AFTER UPDATE ON exams BEGIN UPDATE exams SET score = score WHERE id = NEW.id; END;
    `);
    await client.execute({
      sql: 'INSERT INTO exams(title, score, data, "order") VALUES (?, ?, ?, ?)',
      args: ["It's\na \r\nmulti-line \\n title", 2, new Uint8Array([0, 255, 16]), 9007199254740993n],
    });
    await client.execute({ sql: 'INSERT INTO exams(title, score) VALUES (?, ?)', args: ['ünïcødé 😀', 1e300] });
    const rows = Array.from({ length: 3000 }, (_, i) => `(${i + 1}, ${1 + (i % 2)}, '${'question body '.repeat(5)}${i}')`);
    await client.execute(`INSERT INTO questions VALUES ${rows.join(',')}`);

    expect((await fetch(`${server.url}/dump`)).status).toBe(401);
    const res = await fetch(`${server.url}/dump`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    let chunks = 0;
    let dump = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      chunks++;
      dump += decoder.decode(chunk, { stream: true });
    }
    expect(chunks).toBeGreaterThan(1);
    expect(dump.startsWith('PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE IF NOT EXISTS exams(')).toBe(true);
    expect(dump.endsWith('COMMIT;\n')).toBe(true);
    expect(dump).toContain('DELETE FROM sqlite_sequence;\n');
    expect(dump).toContain('X\'00ff10\'');

    const copyPath = tempDbPath();
    const copy = new Database(copyPath);
    try {
      copy.exec(dump);
      const source = new Database(server.dbPath);
      try {
        for (const sql of [
          'SELECT id, title, score, typeof(score), hex(data), "order" FROM exams ORDER BY id',
          'SELECT count(*), sum(exam_id), max(body) FROM questions',
          "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
          'SELECT * FROM sqlite_sequence',
        ]) {
          const read = (db: Database.Database) => db.prepare(sql).safeIntegers(true).raw(true).all([]);
          expect(read(copy)).toEqual(read(source));
        }
      } finally {
        source.close();
      }
    } finally {
      copy.close();
    }
  });
});

describe('replica mode', () => {
  it('serves reads, refuses writes and reports a lagging replication index', async () => {
    const primary = await start();
    const writer = connect(primary);
    await writer.execute('CREATE TABLE t(x)');
    await writer.execute('INSERT INTO t VALUES (1)');
    await writer.execute('INSERT INTO t VALUES (2)');
    const replica = await start({ replicaOf: primary, replicationLag: 2 });
    expect(replica.isReplica).toBe(true);
    expect(replica.dbPath).toBe(primary.dbPath);
    const reader = connect(replica);
    expect((await reader.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(2);
    expect((await libsqlError(reader.execute('INSERT INTO t VALUES (3)'))).code).toBe('SQLITE_READONLY');
    expect((await libsqlError(reader.batch(['INSERT INTO t VALUES (3)'], 'write'))).code).toBe('SQLITE_READONLY');

    const indexOf = async (server: LibsqlServer) => {
      const reply = await post(server, '/v2/pipeline', { requests: [exec('SELECT 1'), { type: 'close' }] });
      return Number(reply.json.results[0].response.result.replication_index);
    };
    const primaryIndex = await indexOf(primary);
    expect(primaryIndex).toBeGreaterThanOrEqual(3);
    expect(await indexOf(replica)).toBe(primaryIndex - 2);
    replica.knobs.replicationLag = 0;
    expect(await indexOf(replica)).toBe(primaryIndex);
    await writer.execute('INSERT INTO t VALUES (3)');
    expect((await reader.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(3);
    expect(await indexOf(replica)).toBe(primaryIndex + 1);
  });
});

describe('knobs', () => {
  it('adds latency to every request, changeable at runtime', async () => {
    const server = await start();
    const client = connect(server);
    await client.execute('SELECT 1');
    const timed = async () => {
      const started = performance.now();
      await client.execute('SELECT 1');
      return performance.now() - started;
    };
    server.knobs.latencyMs = 120;
    const slow = await timed();
    expect(slow).toBeGreaterThanOrEqual(110);
    server.knobs.latencyMs = 0;
    expect(await timed()).toBeLessThan(slow - 60);
  });

  it('fails, drops and cuts requests on demand, once each', async () => {
    const server = await start({ failOnRequest: 2 });
    const client = connect(server);
    await client.execute('CREATE TABLE t(x)');
    const failed = await libsqlError(client.execute('INSERT INTO t VALUES (1)'));
    expect(failed.code).toBe('SERVER_ERROR');
    expect(failed.message).toContain('HTTP status 500');
    expect(server.knobs.failOnRequest).toBe(0);

    server.knobs.dropOnRequest = 1;
    expect(server.knobs.dropOnRequest).toBe(1);
    const dropped = await rejection(client.execute('INSERT INTO t VALUES (2)'));
    expect(dropped.message).toMatch(/fetch failed|socket|terminated/i);

    server.knobs.dropMidResponse = 1;
    const cut = await rejection(client.execute('INSERT INTO t VALUES (3)'));
    expect(cut.message).toMatch(/terminated|socket|JSON|aborted/i);

    // the server recovers, and only the request cut after it ran took effect
    expect((await client.execute('SELECT x FROM t')).rows.map((row) => row.x)).toEqual([3]);
    expect(server.stats.requests).toBe(5);
    // the failed and the dropped request never reached the pipeline
    expect(server.stats.byRequestType.execute).toBe(3);
    server.stats.reset();
    expect(server.stats.requests).toBe(0);
  });
});
