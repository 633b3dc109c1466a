// The HTTP side of the server: routes, authentication, injected faults, and the parts it wires together.
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hasExpiredForSqld, publicKeyFromText, verifyBearerToken, type TokenClaims } from '../jwt.js';
import type { LibsqlServer, LibsqlServerOptions, PublicKeyInput } from './api.js';
import { ConnectionPool } from './connections.js';
import { streamDump } from './dump.js';
import { HttpError, jsonError, ProtocolError } from './errors.js';
import { SqlExecutor } from './executor.js';
import { readJsonBody, send } from './http.js';
import { ServerKnobs, ServerStats } from './knobs.js';
import { PipelineHandler } from './pipeline.js';
import type { Access } from './protocol.js';
import { StreamRegistry } from './streams.js';

const HELLO_TEXT = 'Hello, this is HTTP API v2 (Hrana over HTTP)';
const VERSION_TEXT = 'sqld 0.24.33 (qbank local test server)';

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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class LocalLibsqlServer implements LibsqlServer {
  readonly dbPath: string;
  readonly isReplica: boolean;
  readonly knobs: ServerKnobs;
  readonly stats: ServerStats;
  port = 0;

  private readonly http: Server;
  private readonly pool: ConnectionPool;
  private readonly streams: StreamRegistry;
  private readonly executor: SqlExecutor;
  private readonly pipeline: PipelineHandler;
  private readonly primary: LibsqlServer | undefined;
  private readonly tokenCache = new Map<string, { claims: TokenClaims; access: Access }>();
  private publicKeys: KeyObject[] | null = null;
  private requestNumber = 0;
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
    this.streams = new StreamRegistry(this.pool, () => this.knobs.streamExpiryMs);
    this.knobs.onStreamExpiryChange = () => this.streams.rearmIdle();
    this.executor = new SqlExecutor(this.knobs, this.stats, () => this.replicationIndex);
    this.pipeline = new PipelineHandler(this.streams, this.executor, this.stats);
    this.http = createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => this.failRequest(res, error));
    });
    this.http.keepAliveTimeout = 30_000;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get replicationIndex(): number {
    if (this.primary === undefined) return this.executor.committedWrites;
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
      this.streams.closeAll();
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
        const reply = await this.pipeline.handle(body, path === '/v3/pipeline' ? 3 : 2, access, this.publicKeys !== null);
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

  private async handleDump(res: ServerResponse, dropMid: boolean): Promise<void> {
    const connection = this.pool.acquire();
    try {
      await streamDump(res, connection.db, dropMid);
    } finally {
      this.pool.release(connection);
    }
  }
}
