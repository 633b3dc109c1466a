import { randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'libsql';
import { startLibsqlServer, type LibsqlServer } from './libsql-server.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateEd25519KeyPair, signToken, type Ed25519KeyPair, type TokenClaims } from '../../src/auth/jwt.js';

/*
 * A local stand-in for the Turso Platform API (https://api.turso.tech), enough for qbank's client:
 * databases (with the CLI's limit/cursor pagination), instances, groups and their locations, database
 * and group tokens (real Ed25519 JWTs), key rotation, token validation, locations, and each database's
 * usage and top queries (computed from its file, see `usageOf`). Every response is recorded in
 * `requests` so a contract test can check it against the OpenAPI description.
 *
 * Group locations: adding one gives every database of the group a replica instance there (with
 * provisioning, a read-only libSQL server over the primary's file); removing one stops them.
 *
 * Keys: every database and every group has its own key pair. A database accepts tokens signed by its
 * own key or its group's key (`publicKeysFor`). Rotating a database replaces its key; rotating a group
 * replaces the group's key and the key of every database in it. After each rotation `onKeysRotated`
 * is awaited once per affected database, with that database's new public keys, before the rotate
 * request is answered: a testbed passes them to the libSQL server's `setPublicKeys`.
 */

export interface PlatformInstanceConfig {
  /** Location code, e.g. `aws-us-east-1`. */
  name: string;
  type: 'primary' | 'replica';
  region: string;
  /** Where the instance really listens (e.g. a local libSQL server); its host becomes `hostname`. */
  url?: string;
}

export interface PlatformDatabaseConfig {
  name: string;
  group: string;
  primaryRegion: string;
  instances: PlatformInstanceConfig[];
  /** Extra fields merged into the Database object, e.g. legacy ones such as `is_schema`. */
  extra?: Record<string, unknown>;
  /** The file behind the primary: sizes, snapshots and seeds are taken from it. */
  dbPath?: string;
}

/**
 * Create Database starts a real local libSQL server for the new database, its file in `dir`; Delete
 * stops it and removes the file. Point-in-time seeds: the stand-in keeps timestamped snapshots of each
 * database's file, taken when the database is created and whenever `snapshot(name)` is called (a test
 * snapshots, notes the time, then makes the change it will take back); a seed with `timestamp` copies
 * the newest snapshot at or before that time.
 */
export interface PlatformProvisioningOptions {
  dir: string;
  /** Latency of each new libSQL server. */
  latencyMs?: number;
  /** Region of a new database's primary when its group has none. */
  defaultRegion?: string;
}

export interface PlatformGroupConfig {
  name: string;
  /** Defaults to the primary region of the group's first database. */
  primary?: string;
  /** Defaults to the regions of the group's database instances. */
  locations?: string[];
}

export interface KeyRotationScope {
  db?: string;
  group?: string;
}

export interface StartPlatformServerOptions {
  org: string;
  /** The platform API token requests must carry as `Authorization: Bearer`. */
  apiToken: string;
  databases: PlatformDatabaseConfig[];
  groups?: PlatformGroupConfig[];
  /**
   * Called (and awaited) after a rotation. Database rotate: once, scope `{ db }`. Group rotate: once
   * per database of the group, scope `{ group, db }`, or once with `{ group }` and the group's key when
   * the group has no database.
   */
  onKeysRotated?: (scope: KeyRotationScope, publicKeys: KeyObject[]) => void | Promise<void>;
  /** Delay before every response. */
  latencyMs?: number;
  /** Default 0 (any free port). */
  port?: number;
  /** Key pairs to start with, e.g. ones already given to a libSQL server. Missing ones are generated. */
  initialKeys?: { databases?: Record<string, Ed25519KeyPair>; groups?: Record<string, Ed25519KeyPair> };
  /** Answer of GET /v1/locations. */
  locations?: Record<string, string>;
  /** `exp` answered by GET /v1/auth/validate; -1 (never) by default. */
  apiTokenExp?: number;
  provisioning?: PlatformProvisioningOptions;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query string including `?`, or ''. */
  query: string;
  requestBody: string;
  status: number;
  /** Parsed JSON response body, undefined when the response had no body. */
  body: unknown;
  /** Set when the response came from `setFault`. */
  fault?: boolean;
}

export interface PlatformFault {
  method?: string;
  /** Exact path (without query) or a pattern; any path when omitted. */
  path?: string | RegExp;
  status: number;
  /** How many matching requests fail; default 1, `Infinity` for all. */
  times?: number;
  /** JSON body; default `{ error: "..." }` naming the status. */
  body?: unknown;
  retryAfterSeconds?: number;
}

export interface MintTokenOptions {
  readOnly?: boolean;
  /** Omitted: the token never expires. */
  expiresInSeconds?: number;
}

export interface PlatformServer {
  baseUrl: string;
  org: string;
  apiToken: string;
  /** Current key pairs; the maps are updated in place when keys rotate. */
  keys: { databases: Map<string, Ed25519KeyPair>; groups: Map<string, Ed25519KeyPair> };
  /** Public keys a libSQL server for this database should accept right now. */
  publicKeysFor(db: string): KeyObject[];
  /** A database token signed with the database's current key, without going through HTTP. */
  mintToken(db: string, options?: MintTokenOptions): string;
  /** Every response given, in order. */
  requests: RecordedRequest[];
  setFault(fault: PlatformFault): void;
  clearFaults(): void;
  /** Points an instance (and, for a primary, the database's Hostname) at a server started later. */
  setInstanceUrl(db: string, instance: string, url: string): void;
  /** The libSQL servers started by Create Database, by database name. */
  servers: Map<string, LibsqlServer>;
  /** The organization's audit log, oldest first: creates, deletes, protection switches, token mints. */
  auditLog: Array<{ code: string; message: string; origin: string; author: string; created_at: string; data: Record<string, unknown> }>;
  /** Records a timestamped copy of the database's file now; returns the time it stands for. */
  snapshot(db: string): Date;
  close(): Promise<void>;
}

interface DatabaseState {
  config: PlatformDatabaseConfig;
  id: string;
  instances: Array<PlatformInstanceConfig & { uuid: string }>;
  settings: { delete_protection: boolean; block_reads: boolean; block_writes: boolean; size_limit: string };
  parent: { id: string; name: string; branched_at: string } | null;
}

interface GroupState {
  name: string;
  uuid: string;
  primary: string;
  locations: string[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_SETTINGS = { delete_protection: false, block_reads: false, block_writes: false, size_limit: '0' };

const DEFAULT_LOCATIONS: Record<string, string> = {
  'aws-ap-northeast-1': 'AWS AP NorthEast (Tokyo)',
  'aws-ap-south-1': 'AWS AP South (Mumbai)',
  'aws-eu-west-1': 'AWS EU West (Ireland)',
  'aws-us-east-1': 'AWS US East (Virginia)',
  'aws-us-east-2': 'AWS US East (Ohio)',
  'aws-us-west-2': 'AWS US West (Oregon)',
};

/**
 * Largest request body accepted. The Platform API's requests are small JSON documents; like any
 * production server it refuses more (413) instead of buffering whatever arrives.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

const EXPIRATION_UNITS: Record<string, number> = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 };

/** Seconds of a Turso expiration such as `2w1d30m` or `12h`; null for `never`; undefined when invalid. */
export function parseTursoExpiration(text: string): number | null | undefined {
  if (text === 'never') return null;
  if (!/^(?:\d+[wdhms])+$/.test(text)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([wdhms])/g)) seconds += Number(amount) * EXPIRATION_UNITS[unit];
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

export async function startPlatformServer(options: StartPlatformServerOptions): Promise<PlatformServer> {
  const { org, apiToken } = options;
  const databases = new Map<string, DatabaseState>();
  const groups = new Map<string, GroupState>();
  const keys = { databases: new Map<string, Ed25519KeyPair>(), groups: new Map<string, Ed25519KeyPair>() };
  const requests: RecordedRequest[] = [];
  const auditLog: PlatformServer['auditLog'] = [];
  const audit = (code: string, data: Record<string, unknown>) =>
    auditLog.push({ code, message: '', origin: 'cli', author: 'qbank-stand-in', created_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), data });
  let faults: Array<PlatformFault & { remaining: number }> = [];

  for (const config of options.databases) {
    if (databases.has(config.name)) throw new Error(`database "${config.name}" is configured twice`);
    databases.set(config.name, {
      config,
      id: randomUUID(),
      instances: config.instances.map((instance) => ({ ...instance, uuid: randomUUID() })),
      settings: { ...DEFAULT_SETTINGS },
      parent: null,
    });
    keys.databases.set(config.name, options.initialKeys?.databases?.[config.name] ?? generateEd25519KeyPair());
  }
  const groupNames = new Set([...(options.groups ?? []).map((g) => g.name), ...options.databases.map((d) => d.group)]);
  for (const name of groupNames) {
    const config = options.groups?.find((g) => g.name === name);
    const members = options.databases.filter((d) => d.group === name);
    groups.set(name, {
      name,
      uuid: randomUUID(),
      primary: config?.primary ?? members[0]?.primaryRegion ?? 'aws-us-east-1',
      locations: config?.locations ?? [...new Set(members.flatMap((d) => d.instances.map((i) => i.region)))],
    });
    keys.groups.set(name, options.initialKeys?.groups?.[name] ?? generateEd25519KeyPair());
  }

  function databaseOrThrow(name: string): DatabaseState {
    const state = databases.get(name);
    if (!state) throw new HttpError(404, `could not find database with name ${name}: record not found`);
    return state;
  }

  function groupOrThrow(name: string): GroupState {
    const state = groups.get(name);
    if (!state) throw new HttpError(404, 'group not found');
    return state;
  }

  function publicKeysFor(db: string): KeyObject[] {
    const state = databases.get(db);
    if (!state) throw new Error(`no database "${db}" on the platform server`);
    return [keys.databases.get(db)!.publicKey, keys.groups.get(state.config.group)!.publicKey];
  }

  function sign(privateKey: KeyObject, scopeClaim: TokenClaims, readOnly: boolean, expiresInSeconds: number | null) {
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = { a: readOnly ? 'ro' : 'rw', iat: now, ...scopeClaim };
    if (expiresInSeconds !== null) claims.exp = now + expiresInSeconds;
    return signToken(claims, privateKey);
  }

  function hostOf(url: string): string {
    return new URL(url).host;
  }

  function instanceJson(db: DatabaseState, instance: DatabaseState['instances'][number]) {
    const hostname = instance.url
      ? hostOf(instance.url)
      : instance.type === 'primary'
        ? `${db.config.name}-${org}.turso.io`
        : `${instance.name}-${db.config.name}-${org}.turso.io`;
    return { uuid: instance.uuid, name: instance.name, type: instance.type, region: instance.region, hostname };
  }

  function databaseJson(db: DatabaseState) {
    const primary = db.instances.find((i) => i.type === 'primary');
    return {
      Name: db.config.name,
      DbId: db.id,
      Hostname: primary?.url ? hostOf(primary.url) : `${db.config.name}-${org}.turso.io`,
      block_reads: db.settings.block_reads,
      block_writes: db.settings.block_writes,
      regions: [...new Set(db.instances.map((i) => i.region))].sort(),
      primaryRegion: db.config.primaryRegion,
      group: db.config.group,
      delete_protection: db.settings.delete_protection,
      parent: db.parent,
      ...db.config.extra,
    };
  }

  function groupJson(group: GroupState) {
    return {
      name: group.name,
      version: 'v0.24.32',
      uuid: group.uuid,
      locations: group.locations,
      primary: group.primary,
      delete_protection: false,
      archived: false,
    };
  }

  function parseTokenQuery(url: URL): { readOnly: boolean; expiresIn: number | null } {
    const authorization = url.searchParams.get('authorization') ?? 'full-access';
    if (authorization !== 'full-access' && authorization !== 'read-only') {
      throw new HttpError(400, `invalid authorization: ${authorization}`);
    }
    const expiresIn = parseTursoExpiration(url.searchParams.get('expiration') ?? 'never');
    if (expiresIn === undefined) throw new HttpError(400, 'Invalid expiration format');
    return { readOnly: authorization === 'read-only', expiresIn };
  }

  function checkTokenBody(body: string) {
    if (!body.trim()) return;
    try {
      JSON.parse(body);
    } catch {
      throw new HttpError(400, 'invalid request body');
    }
  }

  async function rotateDatabase(name: string, scope: KeyRotationScope) {
    keys.databases.set(name, generateEd25519KeyPair());
    await options.onKeysRotated?.(scope, publicKeysFor(name));
  }

  function listDatabases(url: URL): object {
    const group = url.searchParams.get('group');
    const all = [...databases.values()].filter((db) => !group || db.config.group === group);
    const limitText = url.searchParams.get('limit');
    const cursor = url.searchParams.get('cursor');
    if (limitText === null && cursor === null) return { databases: all.map(databaseJson) };

    const limit = limitText === null ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, `invalid limit: ${limitText}`);
    let start = 0;
    if (cursor) {
      // The cursor is the name of the first database of the page, base64url so it looks opaque.
      const name = Buffer.from(cursor, 'base64url').toString('utf8');
      start = all.findIndex((db) => db.config.name === name);
      if (start < 0) throw new HttpError(400, 'invalid cursor');
    }
    const page = all.slice(start, start + limit);
    const following = all[start + limit];
    return {
      databases: page.map(databaseJson),
      pagination: { next: following ? Buffer.from(following.config.name).toString('base64url') : null },
    };
  }

  type Handler = (params: string[], url: URL, body: string) => Promise<object | undefined> | object | undefined;
  const routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];
  const route = (method: string, path: string, handler: Handler) => {
    const pattern = new RegExp(`^${path.replace(/:[a-z]+/gi, '([^/]+)')}$`);
    routes.push({ method, pattern, handler });
  };
  const O = '/v1/organizations/:org';

  route('GET', `${O}/databases`, (_p, url) => listDatabases(url));
  route('GET', `${O}/databases/:db`, ([db]) => ({ database: databaseJson(databaseOrThrow(db)) }));
  route('GET', `${O}/databases/:db/instances`, ([db]) => {
    const state = databaseOrThrow(db);
    return { instances: state.instances.map((i) => instanceJson(state, i)) };
  });
  route('GET', `${O}/databases/:db/instances/:instance`, ([db, name]) => {
    const state = databaseOrThrow(db);
    const instance = state.instances.find((i) => i.name === name);
    if (!instance) throw new HttpError(404, `could not find instance with name ${name}: record not found`);
    return { instance: instanceJson(state, instance) };
  });
  route('POST', `${O}/databases/:db/auth/tokens`, ([db], url, body) => {
    const state = databaseOrThrow(db);
    const { readOnly, expiresIn } = parseTokenQuery(url);
    checkTokenBody(body);
    audit('db-token-create', { name: db, authorization: readOnly ? 'read-only' : 'full-access' });
    return { jwt: sign(keys.databases.get(db)!.privateKey, { id: state.id }, readOnly, expiresIn) };
  });
  route('POST', `${O}/databases/:db/auth/rotate`, async ([db]) => {
    databaseOrThrow(db);
    await rotateDatabase(db, { db });
    return undefined;
  });
  route('GET', `${O}/groups/:group`, ([group]) => ({ group: groupJson(groupOrThrow(group)) }));
  route('POST', `${O}/groups/:group/auth/tokens`, ([group], url, body) => {
    const state = groupOrThrow(group);
    const { readOnly, expiresIn } = parseTokenQuery(url);
    checkTokenBody(body);
    audit('group-token-create', { name: group, authorization: readOnly ? 'read-only' : 'full-access' });
    return { jwt: sign(keys.groups.get(group)!.privateKey, { gid: state.uuid }, readOnly, expiresIn) };
  });
  route('POST', `${O}/groups/:group/auth/rotate`, async ([group]) => {
    groupOrThrow(group);
    keys.groups.set(group, generateEd25519KeyPair());
    const members = [...databases.values()].filter((db) => db.config.group === group);
    for (const db of members) await rotateDatabase(db.config.name, { group, db: db.config.name });
    if (members.length === 0) await options.onKeysRotated?.({ group }, [keys.groups.get(group)!.publicKey]);
    return undefined;
  });
  route('POST', `${O}/databases`, (_p, _url, body) => createDatabase(body));
  route('DELETE', `${O}/databases/:db`, ([db]) => deleteDatabase(db));
  route('GET', `${O}/databases/:db/configuration`, ([db]) => databaseConfiguration(databaseOrThrow(db)));
  route('PATCH', `${O}/databases/:db/configuration`, ([db], _url, body) => {
    const state = databaseOrThrow(db);
    const change = parseJsonObject(body);
    for (const key of ['delete_protection', 'block_reads', 'block_writes'] as const) {
      if (change[key] === undefined) continue;
      if (typeof change[key] !== 'boolean') throw new HttpError(400, `${key} must be a boolean`);
      if (key === 'delete_protection' && state.settings[key] !== change[key]) audit(change[key] ? 'db-protect' : 'db-unprotect', { name: db });
      state.settings[key] = change[key];
    }
    if (change.size_limit !== undefined) state.settings.size_limit = String(change.size_limit);
    return databaseConfiguration(state);
  });
  route('GET', `${O}/audit-logs`, (_p, url) => {
    const pageSize = Number(url.searchParams.get('page_size') ?? 100);
    const page = Number(url.searchParams.get('page') ?? 1);
    if (!Number.isInteger(pageSize) || pageSize < 1 || !Number.isInteger(page) || page < 1) throw new HttpError(400, 'invalid page or page_size');
    const newestFirst = [...auditLog].reverse();
    return {
      audit_logs: newestFirst.slice((page - 1) * pageSize, page * pageSize),
      pagination: { page, page_size: pageSize, total_pages: Math.max(1, Math.ceil(newestFirst.length / pageSize)), total_rows: newestFirst.length },
    };
  });
  route('GET', `${O}/groups`, () => ({ groups: [...groups.values()].map(groupJson) }));
  route('POST', `${O}/groups`, (_p, _url, body) => createGroup(body));
  route('POST', `${O}/groups/:group/locations/:location`, ([group, location]) => addLocation(groupOrThrow(group), location));
  route('DELETE', `${O}/groups/:group/locations/:location`, ([group, location]) => removeLocation(groupOrThrow(group), location));
  route('GET', `${O}/databases/:db/usage`, ([db], url) => ({ database: usageOf(databaseOrThrow(db), url) }));
  route('GET', `${O}/databases/:db/stats`, ([db]) => ({ top_queries: topQueriesOf(databaseOrThrow(db)) }));
  route('GET', '/v1/auth/validate', () => ({ exp: options.apiTokenExp ?? -1 }));
  route('GET', '/v1/locations', () => ({ locations: options.locations ?? DEFAULT_LOCATIONS }));

  // ------------------------------------------------------------------ provisioning
  const servers = new Map<string, LibsqlServer>();
  const snapshots = new Map<string, Array<{ at: Date; path: string }>>();
  let snapshotCount = 0;

  function databaseConfiguration(db: DatabaseState) {
    return { ...db.settings, allow_attach: false };
  }

  function fileOf(name: string): string {
    const path = databases.get(name)?.config.dbPath;
    if (!path) throw new HttpError(400, `database ${name} has no file the stand-in can copy`);
    return path;
  }

  function copyFile(source: string, target: string): void {
    const connection = new Database(source);
    try {
      connection.exec(`VACUUM INTO '${target.replaceAll("'", "''")}'`);
    } finally {
      connection.close();
    }
  }

  function snapshot(name: string): Date {
    const provisioning = provisioningOrThrow();
    const path = join(provisioning.dir, `snapshot-${++snapshotCount}-${name}.db`);
    copyFile(fileOf(name), path);
    const at = new Date();
    const list = snapshots.get(name) ?? [];
    list.push({ at, path });
    snapshots.set(name, list);
    return at;
  }

  function provisioningOrThrow(): PlatformProvisioningOptions {
    if (!options.provisioning) throw new HttpError(501, 'this stand-in was started without provisioning');
    return options.provisioning;
  }

  /** The file a seed copies: the source now, or its newest snapshot at or before `timestamp`. */
  function seedFile(seed: Record<string, unknown>): { path: string; parent: DatabaseState; at: Date } {
    if (seed.type !== 'database') throw new HttpError(400, `seed type ${String(seed.type)} is not supported by the stand-in`);
    if (typeof seed.name !== 'string') throw new HttpError(400, 'seed.name is required');
    const parent = databaseOrThrow(seed.name);
    if (seed.timestamp === undefined) return { path: fileOf(seed.name), parent, at: new Date() };
    const at = new Date(String(seed.timestamp));
    if (Number.isNaN(at.getTime())) throw new HttpError(400, `invalid timestamp: ${String(seed.timestamp)}`);
    const candidates = (snapshots.get(seed.name) ?? []).filter((s) => s.at.getTime() <= at.getTime());
    const chosen = candidates.at(-1);
    if (!chosen) throw new HttpError(400, `no point-in-time restore point of database ${seed.name} at or before ${at.toISOString()}`);
    return { path: chosen.path, parent, at: chosen.at };
  }

  async function createDatabase(body: string): Promise<object> {
    const provisioning = provisioningOrThrow();
    const input = parseJsonObject(body);
    const name = input.name;
    if (typeof name !== 'string' || !/^[a-z0-9-]{1,64}$/.test(name)) {
      throw new HttpError(400, 'database name must contain only lowercase letters, numbers and dashes, at most 64 characters');
    }
    if (databases.has(name)) throw new HttpError(409, `database ${name} already exists`);
    const groupName = typeof input.group === 'string' ? input.group : 'default';
    const group = groupOrThrow(groupName);
    const seed = input.seed === undefined ? undefined : seedFile(input.seed as Record<string, unknown>);
    const dbPath = join(provisioning.dir, `${name}.db`);
    rmSync(dbPath, { force: true });
    if (seed) copyFile(seed.path, dbPath);
    const state: DatabaseState = {
      config: { name, group: groupName, primaryRegion: group.primary, instances: [], dbPath },
      id: randomUUID(),
      instances: [],
      settings: { ...DEFAULT_SETTINGS, size_limit: typeof input.size_limit === 'string' ? input.size_limit : '0' },
      parent: seed ? { id: seed.parent.id, name: seed.parent.config.name, branched_at: seed.at.toISOString() } : null,
    };
    keys.databases.set(name, generateEd25519KeyPair());
    databases.set(name, state);
    const server = await startLibsqlServer({ dbPath, publicKeys: publicKeysFor(name), latencyMs: provisioning.latencyMs });
    servers.set(name, server);
    state.instances.push({ name: group.primary, type: 'primary', region: group.primary, url: server.url, uuid: randomUUID() });
    for (const location of group.locations) if (location !== group.primary) await addReplica(state, location);
    snapshot(name);
    audit('db-create', { name, group: groupName, ...(seed ? { seed: seed.parent.config.name } : {}) });
    return { database: { Name: name, DbId: state.id, Hostname: hostOf(server.url) } };
  }

  async function deleteDatabase(name: string): Promise<object> {
    const state = databaseOrThrow(name);
    if (state.settings.delete_protection) throw new HttpError(400, `database ${name} has delete protection enabled`);
    databases.delete(name);
    keys.databases.delete(name);
    await servers.get(name)?.close();
    servers.delete(name);
    for (const [key, replica] of replicaServers) {
      if (!key.startsWith(`${name}/`)) continue;
      await replica.close();
      replicaServers.delete(key);
    }
    if (state.config.dbPath && options.provisioning) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(state.config.dbPath + suffix, { force: true });
    }
    audit('db-delete', { name });
    return { database: name };
  }


  // ------------------------------------------------------------------ groups and locations
  const replicaServers = new Map<string, LibsqlServer>();

  function knownLocation(location: string): void {
    if (!(location in (options.locations ?? DEFAULT_LOCATIONS))) throw new HttpError(400, `invalid location: ${location}`);
  }

  function createGroup(body: string): object {
    const input = parseJsonObject(body);
    if (typeof input.name !== 'string' || !/^[a-z0-9-]{1,64}$/.test(input.name)) throw new HttpError(400, 'group name must contain only lowercase letters, numbers and dashes');
    if (typeof input.location !== 'string') throw new HttpError(400, 'location is required');
    knownLocation(input.location);
    if (groups.has(input.name)) throw new HttpError(409, 'group already exists');
    const group: GroupState = { name: input.name, uuid: randomUUID(), primary: input.location, locations: [input.location] };
    groups.set(group.name, group);
    keys.groups.set(group.name, generateEd25519KeyPair());
    audit('group-create', { name: group.name, location: input.location });
    return { group: groupJson(group) };
  }

  /** A replica instance of the database in `location`; with provisioning, a read-only server over the primary's file. */
  async function addReplica(db: DatabaseState, location: string): Promise<void> {
    if (db.instances.some((i) => i.region === location)) return;
    const primary = servers.get(db.config.name);
    const replica = primary ? await startLibsqlServer({ replicaOf: primary, publicKeys: publicKeysFor(db.config.name), latencyMs: options.provisioning?.latencyMs }) : undefined;
    if (replica) replicaServers.set(`${db.config.name}/${location}`, replica);
    db.instances.push({ name: location, type: 'replica', region: location, url: replica?.url, uuid: randomUUID() });
  }

  async function addLocation(group: GroupState, location: string): Promise<object> {
    knownLocation(location);
    if (!group.locations.includes(location)) {
      group.locations.push(location);
      for (const db of databases.values()) if (db.config.group === group.name) await addReplica(db, location);
      audit('group-location-add', { name: group.name, location });
    }
    return { group: groupJson(group) };
  }

  async function removeLocation(group: GroupState, location: string): Promise<object> {
    knownLocation(location);
    if (location === group.primary) throw new HttpError(400, `cannot remove the primary location ${location} of group ${group.name}`);
    if (!group.locations.includes(location)) throw new HttpError(400, `group ${group.name} is not in location ${location}`);
    group.locations = group.locations.filter((l) => l !== location);
    for (const db of databases.values()) {
      if (db.config.group !== group.name) continue;
      db.instances = db.instances.filter((i) => i.type === 'primary' || i.region !== location);
      await replicaServers.get(`${db.config.name}/${location}`)?.close();
      replicaServers.delete(`${db.config.name}/${location}`);
    }
    audit('group-location-remove', { name: group.name, location });
    return { group: groupJson(group) };
  }

  // ------------------------------------------------------------------ usage and stats, from the files
  /**
   * Computed from the database's file: storage is the size of the file and its WAL; rows written are
   * the rows its tables hold (each was written at least once); rows read are the statements its
   * libSQL server has run. A replica reads the primary's file, so it reports the same storage.
   */
  function fileFacts(db: DatabaseState): { storage: number; tables: Array<{ name: string; rows: number }> } {
    const path = db.config.dbPath;
    if (!path || !existsSync(path)) return { storage: 0, tables: [] };
    const storage = statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    const connection = new Database(path, { readonly: true });
    try {
      const names = connection.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>;
      const tables = names.map(({ name }) => ({ name, rows: Number((connection.prepare(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }).n) }));
      return { storage, tables };
    } finally {
      connection.close();
    }
  }

  function usageOf(db: DatabaseState, url: URL): object {
    for (const key of ['from', 'to']) {
      const value = url.searchParams.get(key);
      if (value !== null && (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value)))) {
        throw new HttpError(400, `invalid ${key} parameter: ${value}`);
      }
    }
    const facts = fileFacts(db);
    const written = facts.tables.reduce((n, t) => n + t.rows, 0);
    const instances = db.instances.map((instance) => {
      const server = instance.type === 'primary' ? servers.get(db.config.name) : replicaServers.get(`${db.config.name}/${instance.region}`);
      const usage = { rows_read: server?.stats.statements ?? 0, rows_written: instance.type === 'primary' ? written : 0, storage_bytes: facts.storage, bytes_synced: 0 };
      return { uuid: instance.uuid, usage };
    });
    const total = instances.reduce(
      (sum, { usage }) => ({ rows_read: sum.rows_read + usage.rows_read, rows_written: sum.rows_written + usage.rows_written, storage_bytes: sum.storage_bytes + usage.storage_bytes, bytes_synced: 0 }),
      { rows_read: 0, rows_written: 0, storage_bytes: 0, bytes_synced: 0 },
    );
    return { uuid: db.id, instances, total };
  }

  /** The statements that filled each table, largest first (at most 10); null for a database without rows, as the API sends. */
  function topQueriesOf(db: DatabaseState): object[] | null {
    const filled = fileFacts(db).tables.filter((t) => t.rows > 0).sort((a, b) => b.rows - a.rows || a.name.localeCompare(b.name));
    if (filled.length === 0) return null;
    return filled.slice(0, 10).map((t) => ({ query: `INSERT INTO "${t.name}" VALUES (?)`, rows_read: 0, rows_written: t.rows }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://platform.local');
    const method = req.method ?? 'GET';
    let requestBody = '';

    const send = (status: number, body: unknown, extra: Partial<RecordedRequest> = {}, headers: Record<string, string> = {}) => {
      requests.push({ method, path: url.pathname, query: url.search, requestBody, status, body, ...extra });
      if (body === undefined) {
        res.writeHead(status, headers).end();
      } else {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      }
    };
    // Answered before the body is read: the rest of it is never taken in, and the connection ends.
    const refuse = (status: number, error: string) => send(status, { error }, {}, { connection: 'close' });

    // As a real API server: who is asking is checked first, from the headers alone.
    const authorization = req.headers.authorization;
    if (!authorization?.startsWith('Bearer ')) return refuse(401, 'missing authorization header');
    if (authorization.slice('Bearer '.length) !== apiToken) return refuse(401, 'token is invalid or expired');
    const declaredLength = Number(req.headers['content-length'] ?? 0);
    if (declaredLength > MAX_BODY_BYTES) return refuse(413, `request body too large (limit ${MAX_BODY_BYTES} bytes)`);
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === null) return refuse(413, `request body too large (limit ${MAX_BODY_BYTES} bytes)`);
    requestBody = body;
    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));

    const fault = faults.find(
      (f) =>
        f.remaining > 0 &&
        (!f.method || f.method.toUpperCase() === method) &&
        (!f.path || (typeof f.path === 'string' ? f.path === url.pathname : f.path.test(url.pathname))),
    );
    if (fault) {
      fault.remaining--;
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      send(fault.status, fault.body ?? { error: `injected fault: status ${fault.status}` }, { fault: true }, headers);
      return;
    }

    let matchedPath = false;
    for (const r of routes) {
      const match = r.pattern.exec(url.pathname);
      if (!match) continue;
      matchedPath = true;
      if (r.method !== method) continue;
      let params = match.slice(1).map((p) => decodeURIComponent(p));
      if (url.pathname.startsWith('/v1/organizations/')) {
        const [slug, ...rest] = params;
        if (slug !== org) return send(403, { error: `you are not a member of organization ${slug}` });
        params = rest;
      }
      try {
        const body = await r.handler(params, url, requestBody);
        return send(200, body);
      } catch (error) {
        if (error instanceof HttpError) return send(error.status, { error: error.message });
        return send(500, { error: `internal error: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
    if (matchedPath) return send(405, { error: `method ${method} not allowed` });
    return send(404, { error: `no route for ${method} ${url.pathname}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    org,
    apiToken,
    keys,
    publicKeysFor,
    mintToken(db, mintOptions = {}) {
      const state = databases.get(db);
      if (!state) throw new Error(`no database "${db}" on the platform server`);
      return sign(
        keys.databases.get(db)!.privateKey,
        { id: state.id },
        mintOptions.readOnly ?? false,
        mintOptions.expiresInSeconds ?? null,
      );
    },
    requests,
    setFault(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    servers,
    auditLog,
    snapshot(db) {
      try {
        return snapshot(db);
      } catch (error) {
        throw error instanceof HttpError ? new Error(error.message) : error;
      }
    },
    setInstanceUrl(db, instanceName, url) {
      const instance = databases.get(db)?.instances.find((i) => i.name === instanceName);
      if (!instance) throw new Error(`no instance "${instanceName}" of database "${db}" on the platform server`);
      instance.url = url;
    },
    async close() {
      await Promise.allSettled([...replicaServers.values(), ...servers.values()].map((s) => s.close()));
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function parseJsonObject(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body || '{}');
  } catch {
    throw new HttpError(400, 'invalid request body');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'invalid request body');
  return parsed as Record<string, unknown>;
}

/** The request body, or null as soon as it grows past `limit` bytes (the rest is not read). */
async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
