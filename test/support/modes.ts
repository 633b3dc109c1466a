import { join } from 'node:path';
import { createClient, type Client, type InValue } from '@libsql/client';
import { afterEach, beforeEach, expect } from 'vitest';
import { generateEd25519KeyPair, signToken } from '../../src/auth/jwt.js';
import { runCli, tempDir, type CliOptions, type CliResult } from './cli.js';
import { startLibsqlServer } from './libsql-server.js';

/** Every command is tested against an embedded file and against the local libSQL protocol server. */
export type Mode = 'file' | 'remote';
export const MODES: Mode[] = ['file', 'remote'];

export interface TestDatabase {
  mode: Mode;
  /** The directory the test runs in (cwd for the CLI). */
  dir: string;
  /** Path of the database file behind either mode: tests may open it directly to check results. */
  dbPath: string;
  url: string;
  authToken?: string;
  readOnlyToken?: string;
  /** The key the local server trusts, to mint more tokens (expired ones, say). */
  privateKey?: import('node:crypto').KeyObject;
  /** Environment that points qbank at this database. */
  env: Record<string, string>;
  server?: Awaited<ReturnType<typeof startLibsqlServer>>;
  close: () => Promise<void>;
}

export async function createTestDatabase(mode: Mode, options: { latencyMs?: number } = {}): Promise<TestDatabase> {
  const dir = tempDir();
  const dbPath = join(dir.path, 'test.db');
  if (mode === 'file') {
    const url = `file:${dbPath}`;
    return { mode, dir: dir.path, dbPath, url, env: { TURSO_DATABASE_URL: url }, close: async () => dir.remove() };
  }
  const keys = generateEd25519KeyPair();
  const server = await startLibsqlServer({ dbPath, publicKeys: [keys.publicKey], latencyMs: options.latencyMs });
  const authToken = signToken({ a: 'rw' }, keys.privateKey);
  const readOnlyToken = signToken({ a: 'ro' }, keys.privateKey);
  return {
    mode,
    dir: dir.path,
    dbPath,
    url: server.url,
    authToken,
    readOnlyToken,
    privateKey: keys.privateKey,
    env: { TURSO_DATABASE_URL: server.url, TURSO_AUTH_TOKEN: authToken },
    server,
    close: async () => {
      await server.close();
      dir.remove();
    },
  };
}

/**
 * The CLI as a user runs it against the test database: in its directory, pointed at it, with a
 * state folder of its own (review sessions, resume points).
 */
export function runIn(t: TestDatabase, args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runCli(args, { ...options, env: { ...t.env, QBANK_STATE_DIR: join(t.dir, 'state'), ...options.env }, cwd: t.dir });
}

/** A new test database (`mode`) as each of `commands` leaves it; it is closed again when one of them fails. */
export async function preparedDatabase(mode: Mode, commands: string[][]): Promise<TestDatabase> {
  const t = await createTestDatabase(mode);
  try {
    for (const args of commands) {
      const result = await runCli(args, { env: t.env, cwd: t.dir });
      expect(result.code, `qbank ${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
    return t;
  } catch (error) {
    await t.close();
    throw error;
  }
}

/** A database of `system` as `db push` and `db seed` leave it, then as each of `more` (more commands) leaves it. */
export function seededDatabase(mode: Mode, system: 'pingtopass' | 'open-interview', more: string[][] = []): Promise<TestDatabase> {
  return preparedDatabase(mode, [['db', 'push', '--schema', system], ['db', 'seed', '--schema', system], ...more]);
}

/** Every key of `TestDatabase` (the `satisfies` makes a new one a compile error until it is listed). */
const DATABASE_KEYS = Object.keys({
  mode: true, dir: true, dbPath: true, url: true, authToken: true, readOnlyToken: true, privateKey: true, env: true, server: true, close: true,
} satisfies Record<keyof TestDatabase, true>) as Array<keyof TestDatabase>;

/**
 * A database made by `make` before each test of the enclosing `describe` and closed after it. The
 * object returned stands for the current test's database, so a suite can name it once:
 * `const t = databaseForEachTest(() => createTestDatabase(mode));`.
 */
export function databaseForEachTest(make: () => Promise<TestDatabase>, options: { timeoutMs?: number } = {}): TestDatabase {
  let current: TestDatabase | undefined;
  beforeEach(async () => {
    current = await make();
  }, options.timeoutMs);
  afterEach(async () => {
    const done = current;
    current = undefined;
    await done?.close();
  });
  const now = (): TestDatabase => {
    if (!current) throw new Error('the test database exists only while a test runs');
    return current;
  };
  const database = {} as TestDatabase;
  for (const key of DATABASE_KEYS) Object.defineProperty(database, key, { enumerable: true, get: () => now()[key] });
  return database;
}

/** A connection straight to the file behind either mode, for `work`: what is really in the database. */
export async function withFile<T>(t: Pick<TestDatabase, 'dbPath'>, work: (client: Client) => Promise<T>, options: { intMode?: 'number' | 'bigint' } = {}): Promise<T> {
  const client = createClient({ url: `file:${t.dbPath}`, intMode: options.intMode });
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

/** One statement straight on the file behind either mode; its rows as plain objects. */
export function sqlite(t: Pick<TestDatabase, 'dbPath'>, sql: string, args: InValue[] = []): Promise<Array<Record<string, unknown>>> {
  return withFile(t, async (client) => (await client.execute({ sql, args })).rows.map((row) => ({ ...row })));
}

/**
 * Every row of every table (with `systemsOnly`, of the systems' tables: qbank's own `__qbank_*` left
 * out), read from the file: equal snapshots mean nothing was written.
 */
export async function snapshot(t: Pick<TestDatabase, 'dbPath'>, options: { systemsOnly?: boolean } = {}): Promise<string> {
  const qbankOwn = options.systemsOnly ? " AND name NOT LIKE '__qbank%'" : '';
  const tables = await sqlite(t, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'${qbankOwn} ORDER BY name`);
  const parts: string[] = [];
  for (const { name } of tables) parts.push(`${String(name)}:${JSON.stringify(await sqlite(t, `SELECT * FROM "${String(name)}" ORDER BY rowid`))}`);
  return parts.join('\n');
}
