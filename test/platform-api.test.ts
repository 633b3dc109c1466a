import type { KeyObject } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../src/auth/jwt.js';
import {
  createPlatformApi,
  findDatabaseByUrl,
  PlatformApiError,
  type PlatformApiOptions,
} from '../src/turso/platform-api.js';
import { resolvePlatformConfig } from '../src/turso/platform-config.js';
import {
  findOperation,
  loadOpenApiSpec,
  responseSchemaFor,
  validateAgainstSchema,
  type JsonSchema,
} from './support/openapi-validate.js';
import {
  parseTursoExpiration,
  startPlatformServer,
  type KeyRotationScope,
  type PlatformDatabaseConfig,
  type PlatformServer,
} from './support/platform-server.js';

const ORG = 'acme';
const API_TOKEN = 'platform-token-4f1c9a7e2b8d4c6e9f0a1b2c3d4e5f60';
const ORG_PATH = `/v1/organizations/${ORG}`;

/** A database of `group` with its primary in `region` and no replica. */
const primaryOnly = (name: string, group: string, region: string): PlatformDatabaseConfig => ({
  name,
  group,
  primaryRegion: region,
  instances: [{ name: region, type: 'primary', region }],
});

let server: PlatformServer;
const servers: PlatformServer[] = [];
const rotations: Array<{ scope: KeyRotationScope; publicKeys: KeyObject[] }> = [];

beforeAll(async () => {
  server = await startPlatformServer({
    org: ORG,
    apiToken: API_TOKEN,
    databases: [
      {
        name: 'quiz-main',
        group: 'default',
        primaryRegion: 'aws-us-east-1',
        instances: [
          { name: 'aws-us-east-1', type: 'primary', region: 'aws-us-east-1', url: 'http://127.0.0.1:18080' },
          { name: 'aws-eu-west-1', type: 'replica', region: 'aws-eu-west-1', url: 'http://127.0.0.1:18081' },
        ],
      },
      primaryOnly('quiz-staging', 'default', 'aws-us-east-1'),
      { ...primaryOnly('interview', 'team', 'aws-eu-west-1'), extra: { is_schema: false, sleeping: false, version: 'tech-preview', schema: null, use_tursodb: false } },
      primaryOnly('archive-a', 'team', 'aws-eu-west-1'),
      primaryOnly('archive-b', 'team', 'aws-eu-west-1'),
    ],
    groups: [{ name: 'empty-group', primary: 'aws-us-west-2' }],
    onKeysRotated: (scope, publicKeys) => {
      rotations.push({ scope, publicKeys });
    },
  });
  servers.push(server);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

function client(overrides: Partial<PlatformApiOptions> = {}) {
  const { delays, sleep } = recordingSleep();
  const api = createPlatformApi({ baseUrl: server.baseUrl, token: API_TOKEN, org: ORG, sleep, ...overrides });
  return { api, delays };
}

function requestsTo(method: string, path: string) {
  return server.requests.filter((r) => r.method === method && r.path === path);
}

async function rejection(promise: Promise<unknown>): Promise<PlatformApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PlatformApiError);
  return error as PlatformApiError;
}

describe('databases, instances, groups, locations', () => {
  it('lists every database in one request when the server does not paginate', async () => {
    const before = server.requests.length;
    const databases = await client().api.listDatabases();
    expect(databases.map((d) => d.Name)).toEqual(['quiz-main', 'quiz-staging', 'interview', 'archive-a', 'archive-b']);
    expect(server.requests.length - before).toBe(1);
  });

  it('follows pagination.next with cursor until it is null', async () => {
    const before = server.requests.length;
    const databases = await client().api.listDatabases({ pageSize: 2 });
    expect(databases.map((d) => d.Name)).toEqual(['quiz-main', 'quiz-staging', 'interview', 'archive-a', 'archive-b']);
    const pages = server.requests.slice(before);
    expect(pages).toHaveLength(3);
    expect(pages.map((p) => new URLSearchParams(p.query).get('limit'))).toEqual(['2', '2', '2']);
    expect(new URLSearchParams(pages[0].query).has('cursor')).toBe(false);
    expect(new URLSearchParams(pages[1].query).get('cursor')).toBe(
      (pages[0].body as { pagination: { next: string } }).pagination.next,
    );
    expect((pages[2].body as { pagination: { next: unknown } }).pagination.next).toBeNull();
  });

  it('filters by group while paginating', async () => {
    const databases = await client().api.listDatabases({ group: 'team', pageSize: 2 });
    expect(databases.map((d) => d.Name)).toEqual(['interview', 'archive-a', 'archive-b']);
  });

  it('reads a database with its capitalised fields and keeps legacy and unknown fields', async () => {
    const { api } = client();
    const main = await api.getDatabase('quiz-main');
    expect(main).toMatchObject({
      Name: 'quiz-main',
      Hostname: '127.0.0.1:18080',
      group: 'default',
      primaryRegion: 'aws-us-east-1',
      regions: ['aws-eu-west-1', 'aws-us-east-1'],
      parent: null,
    });
    expect(main.DbId).toMatch(/^[0-9a-f-]{36}$/);

    const legacy = await api.getDatabase('interview');
    expect(legacy.sleeping).toBe(false);
    expect(legacy.version).toBe('tech-preview');
    expect(legacy.schema).toBeNull();
    expect((legacy as Record<string, unknown>).use_tursodb).toBe(false);
  });

  it('finds a database by its libsql://, https:// or bare URL', async () => {
    const databases = await client().api.listDatabases();
    const name = (url: string) => findDatabaseByUrl(databases, url)?.Name;
    expect(name('libsql://quiz-staging-acme.turso.io')).toBe('quiz-staging');
    expect(name('https://QUIZ-STAGING-ACME.turso.io/')).toBe('quiz-staging');
    expect(name('wss://quiz-staging-acme.turso.io:443?tls=1')).toBe('quiz-staging');
    expect(name('quiz-staging-acme.turso.io')).toBe('quiz-staging');
    expect(name('libsql://127.0.0.1:18080')).toBe('quiz-main');
    expect(name('http://127.0.0.1:18081')).toBeUndefined();
    expect(name('libsql://quiz-acme.turso.io')).toBeUndefined();
    expect(name('')).toBeUndefined();
    expect(name('http://')).toBeUndefined();
  });

  it('lists and reads instances, whose hostnames point at the local servers', async () => {
    const { api } = client();
    const instances = await api.listInstances('quiz-main');
    expect(instances.map((i) => [i.name, i.type, i.region, i.hostname])).toEqual([
      ['aws-us-east-1', 'primary', 'aws-us-east-1', '127.0.0.1:18080'],
      ['aws-eu-west-1', 'replica', 'aws-eu-west-1', '127.0.0.1:18081'],
    ]);
    const replica = await api.getInstance('quiz-main', 'aws-eu-west-1');
    expect(replica.type).toBe('replica');
    expect(replica.uuid).toBe(instances[1].uuid);
  });

  it('names the missing database, instance or group on 404', async () => {
    const { api } = client();
    const db = await rejection(api.getDatabase('ghost'));
    expect(db.status).toBe(404);
    expect(db.message).toBe(
      'database "ghost" not found in organization "acme": could not find database with name ghost: record not found',
    );
    expect(db.serverMessage).toBe('could not find database with name ghost: record not found');

    const instance = await rejection(api.getInstance('quiz-main', 'aws-ap-south-1'));
    expect(instance.message).toMatch(/^instance "aws-ap-south-1" of database "quiz-main" not found in organization "acme"/);

    const group = await rejection(api.getGroup('nope'));
    expect(group.message).toBe('group "nope" not found in organization "acme": group not found');
    expect(await rejection(api.listInstances('ghost'))).toMatchObject({ status: 404 });
  });

  it('reads a group', async () => {
    const group = await client().api.getGroup('team');
    expect(group).toMatchObject({ name: 'team', primary: 'aws-eu-west-1', locations: ['aws-eu-west-1'] });
    expect(group.uuid).toBeTruthy();
  });

  it('validates the platform token and lists locations', async () => {
    const { api } = client();
    expect(await api.validateToken()).toEqual({ exp: -1, expiresAt: null });
    const locations = await api.listLocations();
    expect(locations['aws-us-east-1']).toBe('AWS US East (Virginia)');
  });
});

describe('database and group tokens', () => {
  it('creates a read-only database token with a Turso-format expiration', async () => {
    const jwt = await client().api.createDatabaseToken('quiz-main', {
      authorization: 'read-only',
      expiration: '2w1d30m',
    });
    const claims = verifyToken(jwt, server.publicKeysFor('quiz-main'));
    expect(claims).not.toBeNull();
    expect(claims!.a).toBe('ro');
    expect(claims!.exp! - claims!.iat!).toBe(2 * 604_800 + 86_400 + 30 * 60);
    // Signed with quiz-main's own key: another database of the same group does not accept it.
    expect(verifyToken(jwt, server.publicKeysFor('quiz-staging'))).toBeNull();

    const sent = requestsTo('POST', `${ORG_PATH}/databases/quiz-main/auth/tokens`).at(-1)!;
    expect(new URLSearchParams(sent.query).get('expiration')).toBe('2w1d30m');
    expect(new URLSearchParams(sent.query).get('authorization')).toBe('read-only');
  });

  it('creates a full-access token that never expires by default, sending no body', async () => {
    const jwt = await client().api.createDatabaseToken('quiz-staging');
    const claims = verifyToken(jwt, server.publicKeysFor('quiz-staging'));
    expect(claims).toMatchObject({ a: 'rw' });
    expect(claims!.exp).toBeUndefined();
    const sent = requestsTo('POST', `${ORG_PATH}/databases/quiz-staging/auth/tokens`).at(-1)!;
    expect(sent.query).toBe('');
    expect(sent.requestBody).toBe('');
  });

  it('creates a group token accepted by every database of the group and no other', async () => {
    const jwt = await client().api.createGroupToken('team', { expiration: '12h' });
    for (const db of ['interview', 'archive-a', 'archive-b']) {
      expect(verifyToken(jwt, server.publicKeysFor(db))).toMatchObject({ a: 'rw' });
    }
    expect(verifyToken(jwt, server.publicKeysFor('quiz-main'))).toBeNull();
  });

  it('explains an invalid expiration', async () => {
    const error = await rejection(client().api.createDatabaseToken('quiz-main', { expiration: '2 weeks' }));
    expect(error.status).toBe(400);
    expect(error.serverMessage).toBe('Invalid expiration format');
    expect(error.message).toBe(
      'could not create a full-access token expiring in "2 weeks" for database "quiz-main": Invalid expiration format' +
        ' (an expiration looks like 2w1d30m, 12h or never)',
    );
    const groupError = await rejection(client().api.createGroupToken('team', { expiration: '0d' }));
    expect(groupError.serverMessage).toBe('Invalid expiration format');
  });

  it('parses Turso expirations on the server side like the API does', () => {
    expect(parseTursoExpiration('never')).toBeNull();
    expect(parseTursoExpiration('1d')).toBe(86_400);
    expect(parseTursoExpiration('2w1d30m')).toBe(1_297_800);
    for (const bad of ['', '0m', 'd', '1y', '1.5d', 'forever', '-1d']) expect(parseTursoExpiration(bad)).toBeUndefined();
  });

  it('mints tokens directly for tests that skip HTTP', () => {
    const token = server.mintToken('archive-b', { readOnly: true, expiresInSeconds: 60 });
    const claims = verifyToken(token, server.publicKeysFor('archive-b'));
    expect(claims).toMatchObject({ a: 'ro' });
    expect(claims!.exp! - claims!.iat!).toBe(60);
  });
});

describe('token rotation', () => {
  it('rotating a database invalidates its tokens and hands the new keys to onKeysRotated', async () => {
    const { api } = client();
    const oldToken = await api.createDatabaseToken('quiz-staging');
    const groupToken = await api.createGroupToken('default');
    const oldKeys = server.publicKeysFor('quiz-staging');
    rotations.length = 0;

    await api.rotateDatabaseTokens('quiz-staging');

    expect(rotations).toHaveLength(1);
    expect(rotations[0].scope).toEqual({ db: 'quiz-staging' });
    expect(rotations[0].publicKeys).toEqual(server.publicKeysFor('quiz-staging'));
    expect(rotations[0].publicKeys[0]).not.toBe(oldKeys[0]);
    expect(verifyToken(oldToken, server.publicKeysFor('quiz-staging'))).toBeNull();
    expect(verifyToken(oldToken, oldKeys)).not.toBeNull();
    // The group's key did not change, so group tokens still work.
    expect(verifyToken(groupToken, server.publicKeysFor('quiz-staging'))).not.toBeNull();
    const newToken = await api.createDatabaseToken('quiz-staging');
    expect(verifyToken(newToken, server.publicKeysFor('quiz-staging'))).not.toBeNull();

    const sent = requestsTo('POST', `${ORG_PATH}/databases/quiz-staging/auth/rotate`);
    expect(sent.map((r) => [r.status, r.body])).toEqual([[200, undefined]]);
  });

  it('rotating a group invalidates group and database tokens of every database in it', async () => {
    const { api } = client();
    const groupToken = await api.createGroupToken('team');
    const dbTokens = await Promise.all(['interview', 'archive-a'].map((db) => api.createDatabaseToken(db)));
    const outsider = await api.createDatabaseToken('quiz-main');
    rotations.length = 0;

    await api.rotateGroupTokens('team');

    expect(rotations.map((r) => r.scope)).toEqual([
      { group: 'team', db: 'interview' },
      { group: 'team', db: 'archive-a' },
      { group: 'team', db: 'archive-b' },
    ]);
    for (const { scope, publicKeys } of rotations) expect(publicKeys).toEqual(server.publicKeysFor(scope.db!));
    for (const db of ['interview', 'archive-a', 'archive-b']) {
      expect(verifyToken(groupToken, server.publicKeysFor(db))).toBeNull();
    }
    expect(verifyToken(dbTokens[0], server.publicKeysFor('interview'))).toBeNull();
    expect(verifyToken(dbTokens[1], server.publicKeysFor('archive-a'))).toBeNull();
    expect(verifyToken(outsider, server.publicKeysFor('quiz-main'))).not.toBeNull();
  });

  it('rotating a group without databases reports the group key alone', async () => {
    rotations.length = 0;
    await client().api.rotateGroupTokens('empty-group');
    expect(rotations).toHaveLength(1);
    expect(rotations[0].scope).toEqual({ group: 'empty-group' });
    expect(rotations[0].publicKeys).toEqual([server.keys.groups.get('empty-group')!.publicKey]);
  });

  it('rotating an unknown database is a 404 that touches no keys', async () => {
    rotations.length = 0;
    const error = await rejection(client().api.rotateDatabaseTokens('ghost'));
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/^database "ghost" not found in organization "acme"/);
    expect(rotations).toHaveLength(0);
  });
});

describe('authentication, errors and retries', () => {
  it('says the platform token is invalid on 401, without retrying', async () => {
    const before = server.requests.length;
    const { api, delays } = client({ token: 'not-the-platform-token' });
    const error = await rejection(api.listDatabases());
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/^platform API token invalid or expired/);
    expect(error.message).toContain('token is invalid or expired');
    expect(server.requests.length - before).toBe(1);
    expect(delays).toEqual([]);
  });

  it('explains a 403 for an organization the token does not belong to', async () => {
    const error = await rejection(client({ org: 'someone-else' }).api.rotateDatabaseTokens('quiz-main'));
    expect(error.status).toBe(403);
    expect(error.message).toContain('permission denied');
    expect(error.message).toContain('organization "someone-else"');
    expect(error.message).toContain('db:rotate-creds');
  });

  it('retries a GET after 503s with exponential backoff, then succeeds', async () => {
    const path = `${ORG_PATH}/databases/quiz-main`;
    server.setFault({ method: 'GET', path, status: 503, times: 2 });
    const before = requestsTo('GET', path).length;
    const { api, delays } = client();
    const database = await api.getDatabase('quiz-main');
    expect(database.Name).toBe('quiz-main');
    expect(delays).toEqual([500, 1000]);
    expect(requestsTo('GET', path).slice(before).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('gives up on a GET after the configured retries', async () => {
    const path = `${ORG_PATH}/groups/default`;
    server.setFault({ method: 'GET', path, status: 500, times: Infinity });
    try {
      const { api, delays } = client({ retries: 2 });
      const error = await rejection(api.getGroup('default'));
      expect(error.status).toBe(500);
      expect(error.message).toMatch(/^the Turso Platform API failed to read group "default" \(HTTP 500\): injected fault/);
      expect(delays).toEqual([500, 1000]);
    } finally {
      server.clearFaults();
    }
  });

  it('honours Retry-After on 429', async () => {
    server.setFault({ method: 'GET', path: '/v1/locations', status: 429, retryAfterSeconds: 2 });
    const { api, delays } = client();
    await api.listLocations();
    expect(delays).toEqual([2000]);
  });

  it('never repeats a POST after a 503', async () => {
    const rotatePath = `${ORG_PATH}/databases/quiz-main/auth/rotate`;
    const keysBefore = server.publicKeysFor('quiz-main');
    rotations.length = 0;
    server.setFault({ method: 'POST', path: rotatePath, status: 503 });
    const { api, delays } = client();
    const error = await rejection(api.rotateDatabaseTokens('quiz-main'));
    expect(error.status).toBe(503);
    expect(error.message).toContain('not retried');
    expect(delays).toEqual([]);
    expect(requestsTo('POST', rotatePath)).toHaveLength(1);
    expect(rotations).toHaveLength(0);
    expect(server.publicKeysFor('quiz-main')).toEqual(keysBefore);

    const tokenPath = `${ORG_PATH}/groups/default/auth/tokens`;
    server.setFault({ method: 'POST', path: tokenPath, status: 502 });
    const before = requestsTo('POST', tokenPath).length;
    expect((await rejection(api.createGroupToken('default'))).status).toBe(502);
    expect(requestsTo('POST', tokenPath).length - before).toBe(1);
  });

  it('retries a GET after a network error but not a POST', async () => {
    let calls = 0;
    const flaky: typeof fetch = (input, init) =>
      ++calls === 1 ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    const { api, delays } = client({ fetch: flaky });
    expect((await api.validateToken()).exp).toBe(-1);
    expect(calls).toBe(2);
    expect(delays).toEqual([500]);

    const down: typeof fetch = () => Promise.reject(new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }));
    const offline = client({ fetch: down });
    const error = await rejection(offline.api.rotateGroupTokens('team'));
    expect(error).toMatchObject({ status: 0, kind: 'network' });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('may already have taken effect');
    expect(offline.delays).toEqual([]);
  });

  it('never writes the platform token or a minted JWT to the debug log', async () => {
    const lines: string[] = [];
    const debug = (line: string) => lines.push(line);
    server.setFault({ method: 'GET', path: `${ORG_PATH}/databases/archive-a`, status: 503 });
    const { api } = client({ debug });
    await api.getDatabase('archive-a');
    const jwt = await api.createDatabaseToken('archive-a', { authorization: 'read-only' });
    const groupJwt = await api.createGroupToken('team');
    await rejection(client({ debug, token: 'wrong-token-0123456789' }).api.listLocations());

    expect(lines.length).toBeGreaterThanOrEqual(9);
    expect(lines.some((l) => l.includes('retrying GET'))).toBe(true);
    expect(lines.some((l) => l.includes('"jwt":"[REDACTED]"'))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(API_TOKEN);
      expect(line).not.toContain('wrong-token-0123456789');
      expect(line).not.toContain(jwt);
      expect(line).not.toContain(groupJwt);
      expect(line).not.toContain(jwt.split('.')[2]);
    }
  });
});

describe('credentials in the base URL or a broken token never reach a message', () => {
  it('refuses a base URL with a user, a password, a query string or a fragment, naming none of it', () => {
    for (const baseUrl of ['http://user:SECRET-1@127.0.0.1:9', 'http://SECRET-1@127.0.0.1:9', 'http://127.0.0.1:9/?token=SECRET-1', 'http://127.0.0.1:9/#SECRET-1']) {
      const lines: string[] = [];
      let message = '';
      try {
        createPlatformApi({ baseUrl, token: API_TOKEN, org: ORG, debug: (line) => lines.push(line) });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, baseUrl).toMatch(/must not carry/);
      expect(message + lines.join('\n')).not.toContain('SECRET');
    }
    for (const value of ['http://user:SECRET-1@127.0.0.1:9', 'http://127.0.0.1:9/?token=SECRET-1', 'not a url SECRET-1']) {
      expect(() => resolvePlatformConfig({ env: { TURSO_API_TOKEN: API_TOKEN, TURSO_ORG: ORG, TURSO_API_URL: value }, cwd: '/nonexistent' })).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining('SECRET') }),
      );
    }
  });

  it('refuses a platform token with a line break before sending it', async () => {
    const { api } = client({ token: 'abc\nSECRET-2' });
    const error = await rejection(api.listLocations());
    expect(error.message).toContain('the platform API token contains a line break');
    expect(error.message).not.toContain('SECRET');
  });
});

describe('the stand-in guards request bodies as a real server does', () => {
  /** Sends headers and `sent` bytes of a body announced (or streamed) as larger; resolves with the status as soon as one arrives. */
  function post(options: { token?: string; declaredLength?: number; chunks: number; chunkSize?: number }): Promise<number> {
    return new Promise((resolve, reject) => {
      const url = new URL(`${server.baseUrl}${ORG_PATH}/databases/quiz-main/auth/tokens`);
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.declaredLength !== undefined) headers['content-length'] = options.declaredLength;
      const req = request(url, { method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(error)));
      const chunk = Buffer.alloc(options.chunkSize ?? 64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < options.chunks) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      pump();
      // The body is never finished: a server that waits for all of it never answers.
    });
  }

  it('answers 401 to an unauthenticated request without reading its body', async () => {
    const before = server.requests.length;
    expect(await post({ declaredLength: 300 * 1024 * 1024, chunks: 1 })).toBe(401);
    expect(await post({ token: 'not-the-token', declaredLength: 300 * 1024 * 1024, chunks: 1 })).toBe(401);
    expect(server.requests.slice(before).map((r) => [r.status, r.requestBody])).toEqual([
      [401, ''],
      [401, ''],
    ]);
  });

  it('answers 413 to a body over the limit, whether announced or streamed', async () => {
    expect(await post({ token: API_TOKEN, declaredLength: 2 * 1024 * 1024, chunks: 1 })).toBe(413);
    // Chunked, no length announced: refused once the limit is passed, long before the sender stops.
    expect(await post({ token: API_TOKEN, chunks: 10_000 })).toBe(413);
    expect(server.requests.at(-1)).toMatchObject({ status: 413, requestBody: '' });
  });
});

describe('error bodies and odd responses (fake fetch)', () => {
  const reply =
    (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    async () =>
      new Response(body, { status, headers });
  const fake = (fetchImpl: typeof fetch, extra: Partial<PlatformApiOptions> = {}) =>
    createPlatformApi({ baseUrl: 'https://api.example.test', token: 't0ken-xyz', org: ORG, fetch: fetchImpl, ...extra });

  it('explains a 409 with the server message and keeps the code', async () => {
    const api = fake(reply(409, JSON.stringify({ error: 'database with name quiz already exists', code: 'conflict' })));
    const error = await rejection(api.createDatabaseToken('quiz'));
    expect(error.status).toBe(409);
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/^conflict when trying to create a full-access token for database "quiz"/);
    expect(error.message).toMatch(/: database with name quiz already exists$/);
  });

  it('falls back to "response failed with status N" when the body has no error', async () => {
    const api = fake(reply(502, '<html>Bad Gateway</html>', { 'content-type': 'text/html' }), { retries: 0 });
    const error = await rejection(api.getDatabase('quiz'));
    expect(error.status).toBe(502);
    expect(error.serverMessage).toBe('response failed with status 502 (<html>Bad Gateway</html>)');
    const empty = await rejection(fake(reply(418, ''), { retries: 0 }).listLocations());
    expect(empty.message).toBe('could not list locations (HTTP 418): response failed with status 418');
  });

  it('rejects a success response that breaks the schema', async () => {
    const api = fake(reply(200, JSON.stringify({ database: { Name: 'quiz', DbId: 7, Hostname: 'h' } })));
    const error = await rejection(api.getDatabase('quiz'));
    expect(error.kind).toBe('invalid-response');
    expect(error.message).toContain('database.DbId');
    const notJson = await rejection(fake(reply(200, 'ok')).listLocations());
    expect(notJson.kind).toBe('invalid-response');
  });

  it('accepts a rotate answer with an empty body or {}', async () => {
    await expect(fake(reply(200, '')).rotateDatabaseTokens('quiz')).resolves.toBeUndefined();
    await expect(fake(reply(200, '{}')).rotateGroupTokens('g')).resolves.toBeUndefined();
  });

  it('stops when the server repeats a pagination cursor', async () => {
    const page = JSON.stringify({ databases: [], pagination: { next: 'same' } });
    const error = await rejection(fake(reply(200, page)).listDatabases());
    expect(error.message).toContain('cursor "same" twice');
  });

  it('encodes names in paths and accepts a base URL ending in /v1/', async () => {
    const urls: string[] = [];
    const api = fake(
      async (input) => {
        urls.push(String(input));
        return new Response(JSON.stringify({ instances: [] }));
      },
      { baseUrl: 'https://api.example.test/v1/' },
    );
    await api.listInstances('a b/c');
    expect(urls).toEqual([`https://api.example.test/v1/organizations/${ORG}/databases/a%20b%2Fc/instances`]);
  });
});

describe('OpenAPI validator', () => {
  const spec = loadOpenApiSpec();
  const schemaFor = (method: string, path: string, status: number) => {
    const found = responseSchemaFor(method, path, status, spec);
    expect(found?.schema).toBeDefined();
    return found!.schema!;
  };

  it('rejects a wrong-typed body', () => {
    const schema = schemaFor('GET', `${ORG_PATH}/databases/quiz`, 200);
    expect(validateAgainstSchema({ database: { Name: 'quiz', DbId: 'x', Hostname: 'h' } }, schema, spec)).toEqual([]);
    expect(validateAgainstSchema({ database: { Name: 42 } }, schema, spec)).toEqual([
      { path: '$.database.Name', message: 'expected string, got integer' },
    ]);
    expect(validateAgainstSchema([], schema, spec)).toHaveLength(1);
  });

  it('checks enum, integer, nullable, additionalProperties, items, allOf, oneOf, required and deep $ref', () => {
    const issues = (value: unknown, schema: JsonSchema) => validateAgainstSchema(value, schema, spec);
    const instance = schemaFor('GET', '/v1/organizations/{organizationSlug}/databases/{databaseName}/instances', 200);
    expect(issues({ instances: [{ type: 'primary' }] }, instance)).toEqual([]);
    expect(issues({ instances: [{ type: 'leader' }] }, instance)[0].path).toBe('$.instances[0].type');
    expect(issues({ exp: 1.5 }, schemaFor('GET', '/v1/auth/validate', 200))).toHaveLength(1);
    const database = { $ref: '#/components/schemas/Database' };
    expect(issues({ parent: null }, database)).toEqual([]);
    expect(issues({ parent: 'main' }, database)).toHaveLength(1);
    expect(issues({ branched: 1, parent: { branched_at: 'yesterday' } }, database)[0].message).toMatch(/date-time/);
    expect(issues({ locations: { 'aws-us-east-1': 5 } }, schemaFor('GET', '/v1/locations', 200))).toHaveLength(1);
    expect(issues({ group: { name: 'g', version: 3 } }, schemaFor('GET', `${ORG_PATH}/groups/g`, 200))).toHaveLength(1);
    const extensions = { $ref: '#/components/schemas/Extensions' };
    expect(issues('all', extensions)).toEqual([]);
    expect(issues(['vector', 'math'], extensions)).toEqual([]);
    expect(issues('some', extensions)).toHaveLength(1);
    expect(issues(['vector', 'nope'], extensions)).toHaveLength(1);
    expect(issues({ group: 'default' }, { $ref: '#/components/schemas/CreateDatabaseInput' })).toEqual([
      { path: '$', message: 'missing required property "name"' },
    ]);
    expect(issues({ DbId: 7 }, { $ref: '#/components/schemas/CreateDatabaseOutput' })).toHaveLength(1);
    expect(issues({ a: 1 }, { type: 'object', additionalProperties: false })).toHaveLength(1);
    expect(issues('x', { type: 'string', patern: '^y$' })[0].message).toMatch(/unknown keyword: "patern"/);
  });

  it('finds response schemas by template or concrete path, through component responses', () => {
    const notFound = responseSchemaFor('GET', `${ORG_PATH}/databases/quiz?x=1`, 404, spec);
    expect(notFound).toMatchObject({ operationId: 'getDatabase', statusKey: '404' });
    expect(notFound!.schema).toMatchObject({ properties: { error: { type: 'string' } } });
    expect(responseSchemaFor('post', '/v1/organizations/{organizationSlug}/groups/{groupName}/auth/rotate', 200, spec))
      .toMatchObject({ operationId: 'invalidateGroupTokens', schema: undefined });
    expect(findOperation('GET', `${ORG_PATH}/groups/default`, spec)?.pathTemplate).toBe(
      '/v1/organizations/{organizationSlug}/groups/{groupName}',
    );
    expect(responseSchemaFor('GET', `${ORG_PATH}/databases/quiz`, 401, spec)).toBeUndefined();
    expect(responseSchemaFor('GET', '/v1/nowhere', 200, spec)).toBeUndefined();
    expect(responseSchemaFor('PUT', `${ORG_PATH}/databases/quiz`, 200, spec)).toBeUndefined();
  });
});

// Runs last (vitest runs a file's tests in order): every response the local server gave during this
// file must match the spec, so the server cannot drift from the API the client is written against.
describe('contract: local server responses match the OpenAPI description', () => {
  // The spec documents no 401/403/413/429/5xx and no 404 for instances, but says every error body is
  // { "error": string } (api-reference/response-codes.mdx); those responses are held to that shape.
  const errorBody: JsonSchema = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } };
  const undocumentedAllowed = (operationId: string | undefined, status: number) =>
    status === 401 ||
    status === 403 ||
    status === 413 ||
    status === 429 ||
    status >= 500 ||
    (status === 404 && (operationId === 'listDatabaseInstances' || operationId === 'getDatabaseInstance'));

  // A tour of every endpoint and its documented errors, so the check also stands when run alone.
  async function tour() {
    const { api } = client();
    await api.listDatabases();
    await api.listDatabases({ pageSize: 3 });
    await api.getDatabase('archive-b');
    await api.listInstances('archive-b');
    await api.getInstance('archive-b', 'aws-eu-west-1');
    await api.getGroup('team');
    await api.createDatabaseToken('archive-b', { authorization: 'read-only', expiration: '1d' });
    await api.createGroupToken('team', { expiration: '1h' });
    await api.rotateDatabaseTokens('archive-b');
    await api.rotateGroupTokens('empty-group');
    await api.validateToken();
    await api.listLocations();
    await rejection(api.getDatabase('ghost'));
    await rejection(api.getGroup('ghost'));
    await rejection(api.createDatabaseToken('archive-b', { expiration: 'soon' }));
    await rejection(api.createGroupToken('ghost'));
    await rejection(api.rotateDatabaseTokens('ghost'));
    await rejection(api.rotateGroupTokens('ghost'));
  }

  it('validates every recorded response', async () => {
    await tour();
    const spec = loadOpenApiSpec();
    const problems: string[] = [];
    const seen = new Set<string>();
    const all = servers.flatMap((s) => s.requests);

    for (const r of all) {
      const label = `${r.method} ${r.path}${r.query} → ${r.status}`;
      const operation = findOperation(r.method, r.path, spec);
      if (!operation) {
        problems.push(`${label}: no operation in the spec`);
        continue;
      }
      const operationId = operation.operation.operationId as string | undefined;
      seen.add(`${operationId} ${r.status}`);
      if (r.status >= 400) {
        for (const issue of validateAgainstSchema(r.body, errorBody, spec)) {
          problems.push(`${label}: error body ${issue.path} ${issue.message}`);
        }
      }
      const documented = responseSchemaFor(r.method, r.path, r.status, spec);
      if (!documented) {
        if (!undocumentedAllowed(operationId, r.status)) {
          problems.push(`${label}: ${operationId} documents no response for status ${r.status}`);
        }
        continue;
      }
      if (!documented.schema) {
        if (r.body !== undefined) problems.push(`${label}: documented without content, but a body was sent`);
        continue;
      }
      for (const issue of validateAgainstSchema(r.body, documented.schema, spec)) {
        problems.push(`${label}: ${issue.path} ${issue.message}`);
      }
    }

    expect(problems).toEqual([]);
    const operations = [
      'listDatabases',
      'getDatabase',
      'listDatabaseInstances',
      'getDatabaseInstance',
      'getGroup',
      'createDatabaseToken',
      'createGroupToken',
      'invalidateDatabaseTokens',
      'invalidateGroupTokens',
      'validateAPIToken',
      'listLocations',
    ];
    expect(operations.filter((op) => !seen.has(`${op} 200`))).toEqual([]);
  });
});
