import { join } from 'node:path';
import { generateEd25519KeyPair, signToken } from '../../src/auth/jwt.js';
import { tempDir } from './cli.js';
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
