/**
 * A local stand-in for a Turso database and its organization: a libSQL primary, N replicas (same
 * database file, replica mode: read-only, reporting a lagging replication index) and the Platform API
 * server, wired together so that rotating keys through the API switches the keys every libSQL server
 * accepts.
 *
 * Tests: `const bed = await startTestbed({ replicas: 2 })`, then `bed.env` points qbank at it.
 * By hand: `npm run testbed -- [--port P] [--db FILE] [--replicas N] [--latency-ms L]` prints the
 * environment (one VAR=value per line) for a second terminal and runs until Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateEd25519KeyPair } from '../../src/auth/jwt.js';
import { tempDir } from './cli.js';
import { startLibsqlServer, type LibsqlServer } from './libsql-server.js';
import { startPlatformServer, type PlatformServer } from './platform-server.js';

export interface TestbedOptions {
  /** Port of the primary; replicas and the Platform API take free ports. 0 (default): any free port. */
  port?: number;
  /** The database file; default: a new file in a temporary directory (removed on close). */
  dbPath?: string;
  replicas?: number;
  latencyMs?: number;
  org?: string;
  database?: string;
  group?: string;
}

export interface Testbed {
  primary: LibsqlServer;
  replicas: LibsqlServer[];
  platform: PlatformServer;
  dbPath: string;
  org: string;
  database: string;
  group: string;
  /** A read-write and a read-only database token, valid until a rotation. */
  authToken: string;
  readOnlyToken: string;
  apiToken: string;
  /** Everything qbank needs to reach the test bed, by the names qbank reads. */
  env: Record<string, string>;
  close(): Promise<void>;
}

const REPLICA_REGIONS = ['aws-eu-west-1', 'aws-ap-south-1', 'aws-us-west-2', 'aws-ap-northeast-1', 'aws-us-east-2'];
const PRIMARY_REGION = 'aws-us-east-1';

export async function startTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const org = options.org ?? 'qbank-local';
  const database = options.database ?? 'qbank';
  const group = options.group ?? 'default';
  const replicaCount = options.replicas ?? 0;
  if (replicaCount > REPLICA_REGIONS.length) throw new Error(`at most ${REPLICA_REGIONS.length} replicas`);
  const dir = options.dbPath ? undefined : tempDir('qbank-testbed-');
  const dbPath = options.dbPath ? (isAbsolute(options.dbPath) ? options.dbPath : resolve(options.dbPath)) : join(dir!.path, `${database}.db`);

  const databaseKey = generateEd25519KeyPair();
  const groupKey = generateEd25519KeyPair();
  const publicKeys = [databaseKey.publicKey, groupKey.publicKey];
  const servers: LibsqlServer[] = [];
  let platform: PlatformServer | undefined;
  const close = async () => {
    await Promise.allSettled([...servers.map((s) => s.close()), platform?.close()]);
    dir?.remove();
  };

  try {
    const primary = await startLibsqlServer({ dbPath, port: options.port ?? 0, publicKeys, latencyMs: options.latencyMs });
    servers.push(primary);
    const replicas: LibsqlServer[] = [];
    for (let i = 0; i < replicaCount; i++) {
      const replica = await startLibsqlServer({ replicaOf: primary, publicKeys, latencyMs: options.latencyMs });
      servers.push(replica);
      replicas.push(replica);
    }
    const apiToken = `qbank-testbed-${randomBytes(16).toString('hex')}`;
    platform = await startPlatformServer({
      org,
      apiToken,
      databases: [
        {
          name: database,
          group,
          primaryRegion: PRIMARY_REGION,
          instances: [
            { name: PRIMARY_REGION, type: 'primary', region: PRIMARY_REGION, url: primary.url },
            ...replicas.map((replica, i) => ({ name: REPLICA_REGIONS[i]!, type: 'replica' as const, region: REPLICA_REGIONS[i]!, url: replica.url })),
          ],
        },
      ],
      initialKeys: { databases: { [database]: databaseKey }, groups: { [group]: groupKey } },
      // The primary and its replicas are one database: every instance switches keys together.
      onKeysRotated: (_scope, keys) => {
        for (const server of servers) server.setPublicKeys(keys);
      },
      latencyMs: options.latencyMs,
    });
    const authToken = platform.mintToken(database);
    const readOnlyToken = platform.mintToken(database, { readOnly: true });
    return {
      primary,
      replicas,
      platform,
      dbPath,
      org,
      database,
      group,
      authToken,
      readOnlyToken,
      apiToken,
      env: {
        TURSO_DATABASE_URL: primary.url,
        TURSO_AUTH_TOKEN: authToken,
        TURSO_AUTH_TOKEN_RO: readOnlyToken,
        TURSO_API_URL: platform.baseUrl,
        TURSO_ORG: org,
        TURSO_API_TOKEN: apiToken,
        QBANK_DB: database,
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function runFromCommandLine(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      db: { type: 'string' },
      replicas: { type: 'string' },
      'latency-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run testbed -- [--port P] [--db FILE] [--replicas N] [--latency-ms L]\n');
    return;
  }
  const number = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${text}"`);
    return n;
  };
  const bed = await startTestbed({
    port: number('port', values.port),
    dbPath: values.db,
    replicas: number('replicas', values.replicas),
    latencyMs: number('latency-ms', values['latency-ms']),
  });
  for (const [key, value] of Object.entries(bed.env)) process.stdout.write(`${key}=${value}\n`);
  process.stderr.write(
    `\nqbank test bed: database "${bed.database}" (${bed.dbPath}), primary ${bed.primary.url}` +
      (bed.replicas.length ? `, replicas ${bed.replicas.map((r) => r.url).join(' ')}` : '') +
      `, Platform API ${bed.platform.baseUrl}.\n` +
      'Paste the lines above into a second terminal (prefix each with `export `) or a .env file, then e.g. `qbank replica status`.\n' +
      'These tokens are throwaway test credentials. Ctrl-C stops the test bed.\n',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await bed.close();
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  runFromCommandLine().catch((error: unknown) => {
    process.stderr.write(`testbed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
