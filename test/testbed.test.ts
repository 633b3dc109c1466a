import { createClient } from '@libsql/client';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createPlatformApi } from '../src/turso/platform-api.js';
import { runCli, tempDir } from './support/cli.js';
import { startTestbed } from './support/testbed.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function canRead(url: string, token: string): Promise<boolean> {
  const client = createClient({ url, authToken: token });
  try {
    await client.execute('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

describe('startTestbed', () => {
  it('serves one database from a primary and replicas, listed by the Platform API', async () => {
    const bed = await startTestbed({ replicas: 2 });
    cleanups.push(() => bed.close());
    const api = createPlatformApi({ baseUrl: bed.env.TURSO_API_URL, token: bed.apiToken, org: bed.org });
    const instances = await api.listInstances(bed.database);
    expect(instances.map((i) => [i.type, i.hostname])).toEqual([
      ['primary', `127.0.0.1:${bed.primary.port}`],
      ['replica', `127.0.0.1:${bed.replicas[0]!.port}`],
      ['replica', `127.0.0.1:${bed.replicas[1]!.port}`],
    ]);
    const writer = createClient({ url: bed.primary.url, authToken: bed.authToken });
    await writer.execute('CREATE TABLE t (x)');
    await writer.execute('INSERT INTO t VALUES (1)');
    writer.close();
    const reader = createClient({ url: bed.replicas[1]!.url, authToken: bed.readOnlyToken });
    expect((await reader.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(1);
    reader.close();
  });

  it('switches the keys of every libSQL server when the Platform API rotates them', async () => {
    const bed = await startTestbed({ replicas: 1 });
    cleanups.push(() => bed.close());
    const api = createPlatformApi({ baseUrl: bed.env.TURSO_API_URL, token: bed.apiToken, org: bed.org });
    await api.rotateDatabaseTokens(bed.database);
    const fresh = await api.createDatabaseToken(bed.database);
    for (const server of [bed.primary, bed.replicas[0]!]) {
      expect(await canRead(server.url, bed.authToken)).toBe(false);
      expect(await canRead(server.url, fresh)).toBe(true);
    }
    const group = await api.createGroupToken(bed.group);
    await api.rotateGroupTokens(bed.group);
    expect(await canRead(bed.primary.url, group)).toBe(false);
    expect(await canRead(bed.primary.url, fresh)).toBe(false);
  });

  it('removes its temporary database on close, and keeps a file it was given', async () => {
    const bed = await startTestbed();
    expect(existsSync(bed.dbPath)).toBe(true);
    await bed.close();
    expect(existsSync(bed.dbPath)).toBe(false);

    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const given = await startTestbed({ dbPath: join(dir.path, 'mine.db') });
    await given.close();
    expect(existsSync(join(dir.path, 'mine.db'))).toBe(true);
  });
});

describe('npm run testbed', () => {
  it('prints the environment for a second terminal and runs until interrupted', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const script = fileURLToPath(new URL('./support/testbed.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--replicas', '1', '--db', join(dir.path, 'bed.db')], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => void child.kill('SIGKILL'));
    const env: Record<string, string> = {};
    for await (const line of createInterface({ input: child.stdout! })) {
      const match = /^([A-Z_]+)=(.*)$/.exec(line);
      if (match) env[match[1]!] = match[2]!;
      if (match?.[1] === 'QBANK_DB') break;
    }
    expect(Object.keys(env)).toEqual([
      'TURSO_DATABASE_URL',
      'TURSO_AUTH_TOKEN',
      'TURSO_AUTH_TOKEN_RO',
      'TURSO_API_URL',
      'TURSO_ORG',
      'TURSO_API_TOKEN',
      'QBANK_DB',
    ]);
    expect(env.TURSO_DATABASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const status = await runCli(['replica', 'status', '--json'], { env, cwd: dir.path });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json().instances.map((i: { type: string; reachable: boolean }) => [i.type, i.reachable])).toEqual([
      ['primary', true],
      ['replica', true],
    ]);

    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(existsSync(join(dir.path, 'bed.db'))).toBe(true);
  });
});
