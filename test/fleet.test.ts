import { createClient } from '@libsql/client';
import { afterEach, describe, expect, it } from 'vitest';
import { createPlatformApi } from '../src/turso/platform-api.js';
import { runCli, tempDir } from './support/cli.js';
import { expectDocument } from './support/json-schemas.js';
import { startPlatformServer, type PlatformServer } from './support/platform-server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const API_TOKEN = 'qbank-fleet-test-token';

/** An organization of `count` empty databases (fleet-01 …) behind a stand-in answering after `latencyMs`. */
export async function startFleet(count: number, latencyMs: number) {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const platform = await startPlatformServer({
    org: 'acme',
    apiToken: API_TOKEN,
    databases: [],
    groups: [
      { name: 'default', primary: 'aws-us-east-1', locations: ['aws-us-east-1'] },
      { name: 'other', primary: 'aws-eu-west-1', locations: ['aws-eu-west-1'] },
    ],
    provisioning: { dir: dir.path, latencyMs },
    latencyMs,
  });
  cleanups.push(() => platform.close());
  const api = createPlatformApi({ baseUrl: platform.baseUrl, token: API_TOKEN, org: 'acme' });
  const names = Array.from({ length: count }, (_, i) => `fleet-${String(i + 1).padStart(2, '0')}`);
  for (let i = 0; i < names.length; i += 10) await Promise.all(names.slice(i, i + 10).map((name) => api.createDatabase({ name, group: 'default' })));
  return { platform, names, dir: dir.path, env: { TURSO_API_URL: platform.baseUrl, TURSO_ORG: 'acme', TURSO_API_TOKEN: API_TOKEN } };
}

async function sql(platform: PlatformServer, name: string, statement: string) {
  const client = createClient({ url: platform.servers.get(name)!.url, authToken: platform.mintToken(name) });
  try {
    return await client.execute(statement);
  } finally {
    client.close();
  }
}

async function hasIndex(platform: PlatformServer, name: string, index: string): Promise<boolean> {
  const result = await sql(platform, name, `SELECT count(*) AS n FROM sqlite_schema WHERE type = 'index' AND name = '${index}'`);
  return Number(result.rows[0]!.n) === 1;
}

describe('db push --all over a fleet of 50 databases (20 ms latency)', () => {
  it('pushes 47, reports exactly the 3 that refuse (data loss, writes blocked), exit 6; --json per database', { timeout: 120_000 }, async () => {
    const fleet = await startFleet(50, 20);
    const first = await runCli(['db', 'push', '--all', '--schema', 'pingtopass', '--concurrency', '8'], { env: fleet.env, cwd: fleet.dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr.match(/✔ fleet-\d\d: applied/g)).toHaveLength(50);

    // every database drifts (an index dropped); three of them also refuse the push
    for (const name of fleet.names) await sql(fleet.platform, name, 'DROP INDEX exams_vendor_idx');
    const lossy = ['fleet-07', 'fleet-23'];
    for (const name of lossy) await sql(fleet.platform, name, "ALTER TABLE exams ADD COLUMN legacy_notes text DEFAULT 'keep me'");
    const api = createPlatformApi({ baseUrl: fleet.platform.baseUrl, token: API_TOKEN, org: 'acme' });
    await api.updateDatabaseConfiguration('fleet-41', { block_writes: true });

    const pushed = await runCli(['--json', 'db', 'push', '--all', '--group', 'default'], { env: fleet.env, cwd: fleet.dir });
    expect(pushed.code, pushed.stderr).toBe(6);
    const report = pushed.json();
    expectDocument('db-fleet', report);
    expect(report.summary).toEqual({ databases: 50, ok: 0, changed: 47, pending: 0, refused: 3, failed: 0 });
    const refused = report.databases.filter((d: { outcome: string }) => d.outcome === 'refused');
    expect(refused.map((d: { name: string }) => d.name)).toEqual(['fleet-07', 'fleet-23', 'fleet-41']);
    expect(refused[0].message).toContain('the push would lose data; nothing was changed');
    expect(refused[2].message).toContain('writes are blocked on this database');
    expect(pushed.stderr).toContain('3 of 50 database(s) refused or failed: fleet-07, fleet-23, fleet-41');
    for (const name of fleet.names) expect(await hasIndex(fleet.platform, name, 'exams_vendor_idx'), name).toBe(!['fleet-07', 'fleet-23', 'fleet-41'].includes(name));
    expect(JSON.stringify(report)).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);

    // the table form: one line per database and a summary
    const again = await runCli(['db', 'push', '--all'], { env: fleet.env, cwd: fleet.dir });
    expect(again.code).toBe(6);
    expect(again.stderr.match(/✔ fleet-\d\d: up to date \(pingtopass\)/g)).toHaveLength(47);
    expect(again.stderr).toMatch(/✗ fleet-07: refused: the push would lose data/);
    expect(again.stdout).toMatch(/50\s+47\s+0\s+0\s+3\s+0/);

    const status = await runCli(['db', 'status', '--all', '--json'], { env: fleet.env, cwd: fleet.dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json().summary).toMatchObject({ databases: 50, ok: 47, pending: 3 });
    expectDocument('db-fleet', status.json());
  });

  it('--dry-run changes nothing; --group names the databases; --group without --all is a usage error', { timeout: 60_000 }, async () => {
    const fleet = await startFleet(3, 0);
    const dry = await runCli(['db', 'push', '--all', '--dry-run', '--schema', 'open-interview', '--json'], { env: fleet.env, cwd: fleet.dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json().summary).toMatchObject({ databases: 3, pending: 3, changed: 0 });
    const tables = await sql(fleet.platform, 'fleet-01', "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'");
    expect(Number(tables.rows[0]!.n)).toBe(0);
    const none = await runCli(['db', 'push', '--all', '--group', 'other', '--json'], { env: fleet.env, cwd: fleet.dir });
    expect(none.json().summary.databases).toBe(0);
    const misuse = await runCli(['db', 'push', '--group', 'default'], { env: fleet.env, cwd: fleet.dir });
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain('--group and --concurrency go with --all');
  });
});

describe('db migrate --all', () => {
  it('lists pending migrations with --dry-run (nothing changed), applies them once, then has nothing to do; blocked writes are refused', { timeout: 60_000 }, async () => {
    const fleet = await startFleet(3, 0);
    const api = createPlatformApi({ baseUrl: fleet.platform.baseUrl, token: API_TOKEN, org: 'acme' });
    await api.updateDatabaseConfiguration('fleet-03', { block_writes: true });

    const dry = await runCli(['db', 'migrate', '--all', '--dry-run', '--schema', 'pingtopass', '--json'], { env: fleet.env, cwd: fleet.dir });
    expect(dry.code, dry.stderr).toBe(0);
    const planned = dry.json();
    expectDocument('db-fleet', planned);
    expect(planned).toMatchObject({ command: 'db migrate --all', dryRun: true, summary: { databases: 3, pending: 3, changed: 0 } });
    expect(planned.databases[0].result.pending.length).toBeGreaterThan(0);
    const tables = await sql(fleet.platform, 'fleet-01', "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'");
    expect(Number(tables.rows[0]!.n)).toBe(0);

    const applied = await runCli(['--schema', 'pingtopass', 'db', 'migrate', '--all'], { env: fleet.env, cwd: fleet.dir });
    expect(applied.code).toBe(6);
    expect(applied.stderr.match(/✔ fleet-0[12]: applied \d+ migration\(s\) \(pingtopass\)/g)).toHaveLength(2);
    expect(applied.stderr).toMatch(/✗ fleet-03: refused: writes are blocked on this database/);
    expect(applied.stdout).toMatch(/3\s+0\s+2\s+0\s+1\s+0/);
    expect(await hasIndex(fleet.platform, 'fleet-01', 'exams_vendor_idx')).toBe(true);
    const recorded = await sql(fleet.platform, 'fleet-02', 'SELECT count(*) AS n FROM __drizzle_migrations');
    expect(Number(recorded.rows[0]!.n)).toBe(planned.databases[1].result.pending.length);
    const runs = await sql(fleet.platform, 'fleet-02', "SELECT command FROM __qbank_audit WHERE command = 'db migrate --all'");
    expect(runs.rows).toHaveLength(1);

    const again = await runCli(['db', 'migrate', '--all', '--group', 'default', '--concurrency', '2', '--json'], { env: fleet.env, cwd: fleet.dir });
    expect(again.json().summary).toMatchObject({ databases: 3, ok: 2, changed: 0, refused: 1 });
    expectDocument('db-fleet', again.json());
    expect(again.json().databases[0].message).toBe('no pending migrations (pingtopass)');

    const misuse = await runCli(['db', 'migrate', '--dry-run'], { env: fleet.env, cwd: fleet.dir });
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain('go with --all');
  });

  it('one token minted per group for the run, none printed', { timeout: 60_000 }, async () => {
    const fleet = await startFleet(4, 0);
    const before = fleet.platform.requests.length;
    const status = await runCli(['db', 'status', '--all', '--json'], { env: fleet.env, cwd: fleet.dir });
    expect(status.code, status.stderr).toBe(0);
    const mints = fleet.platform.requests.slice(before).filter((r) => r.path.endsWith('/auth/tokens'));
    expect(mints.map((r) => `${r.path}${r.query}`)).toEqual(['/v1/organizations/acme/groups/default/auth/tokens?expiration=1h&authorization=read-only']);
    expect(status.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);

    // a platform token that may not mint group tokens: one database token each instead
    fleet.platform.setFault({ method: 'POST', path: '/v1/organizations/acme/groups/default/auth/tokens', status: 403 });
    const fallback = fleet.platform.requests.length;
    const again = await runCli(['db', 'status', '--all', '--json'], { env: fleet.env, cwd: fleet.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().summary).toMatchObject({ databases: 4, failed: 0 });
    const databaseMints = fleet.platform.requests.slice(fallback).filter((r) => r.path.endsWith('/auth/tokens') && r.status === 200);
    expect(databaseMints.map((r) => r.path.split('/')[5]).sort()).toEqual(['fleet-01', 'fleet-02', 'fleet-03', 'fleet-04']);
  });
});
