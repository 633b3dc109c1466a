import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

describe('remote mode against the local libSQL server', () => {
  let t: TestDatabase;
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...t.env, ...env }, cwd: t.dir });

  beforeEach(async () => {
    t = await createTestDatabase('remote');
  });
  afterEach(async () => {
    await t.close();
  });

  it('retries an idempotent read after a server error', async () => {
    await cli(['db', 'push', '--schema', 'pingtopass']);
    t.server!.knobs.failOnRequest = 1;
    const before = t.server!.stats.requests;
    const result = await cli(['db', 'status', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().drift.upToDate).toBe(true);
    expect(t.server!.stats.requests - before).toBeGreaterThan(1);
  });

  it('retries a read whose connection was dropped', async () => {
    await cli(['db', 'push', '--schema', 'pingtopass']);
    t.server!.knobs.dropOnRequest = 1;
    const result = await cli(['db', 'status', '--json']);
    expect(result.code, result.stderr).toBe(0);
  });

  async function sqliteRows(sql: string): Promise<Record<string, unknown>[]> {
    const client = createClient({ url: `file:${t.dbPath}` });
    try {
      return (await client.execute(sql)).rows as unknown as Record<string, unknown>[];
    } finally {
      client.close();
    }
  }
  const tableNames = async () => (await sqliteRows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => String(r.name));

  it('a push whose answer was lost after the commit reports it applied (exit 0), and never repeats it', async () => {
    // Request 1 reads the catalogue, request 2 is the push's one transaction: it runs, then the answer is cut.
    t.server!.knobs.dropMidResponse = 2;
    const result = await cli(['db', 'push', '--schema', 'pingtopass']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/connection was lost while the push was committing; a reconnection found run \S+: applied/);
    expect(result.stderr).not.toMatch(/cannot reach|unexpected error/);
    const runs = await sqliteRows('SELECT id, command, system, counts FROM __qbank_audit');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ command: 'db push', system: 'pingtopass' });
    expect(result.stderr).toContain(String(runs[0]!.id));
    const rerun = await cli(['db', 'push', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json().upToDate).toBe(true);
  });

  it('a push whose answer was lost reports it in --json, with the run id', async () => {
    t.server!.knobs.dropMidResponse = 2;
    const result = await cli(['--json', 'db', 'push', '--schema', 'open-interview']);
    expect(result.code, result.stderr).toBe(0);
    const document = result.json();
    expect(document).toMatchObject({ applied: true, lostConnection: { outcome: 'applied' } });
    expect((await sqliteRows('SELECT id FROM __qbank_audit'))[0]!.id).toBe(document.runId);
  });

  it('db migrate whose answer was lost after the commit reports it applied, and records it once', async () => {
    // requests: the table names (system check), the migration record, the catalogue, then the one transaction
    t.server!.knobs.dropMidResponse = 4;
    const result = await cli(['db', 'migrate', '--schema', 'open-interview']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/connection was lost while the migrations were committing; a reconnection found their run: applied/);
    expect(await sqliteRows('SELECT count(*) AS n FROM __drizzle_migrations')).toEqual([{ n: 1 }]);
    expect(await sqliteRows("SELECT command FROM __qbank_audit")).toEqual([{ command: 'db migrate' }]);
  });

  it('a push whose request never arrived reports "not applied" (exit 4) and changed nothing', async () => {
    t.server!.knobs.dropOnRequest = 2;
    const result = await cli(['db', 'push', '--schema', 'pingtopass']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/lost before the push was answered; a reconnection found no run \S+: the push was not applied, nothing was changed/);
    expect(result.stderr).not.toMatch(/unexpected error/);
    expect(await tableNames()).toEqual([]);
  });

  it('a push whose answer was lost and whose reconnection fails reports "unknown" (exit 4)', async () => {
    t.server!.knobs.dropMidResponse = 2;
    t.server!.knobs.failOnRequest = 3;
    const result = await runCli(['db', 'push', '--schema', 'pingtopass', '--json'], { env: t.env, cwd: t.dir });
    expect(result.code).toBe(4);
    const { error } = result.json();
    expect(error.message).toMatch(/could not tell whether it was applied: unknown, check with `qbank db status`/);
    expect(error.hint).toMatch(/recorded as run \S+ in __qbank_audit/);
    // it was in fact applied: db status says so, and lists qbank's own table as such
    const status = await cli(['db', 'status', '--json']);
    expect(status.json().drift.upToDate).toBe(true);
  });

  it('a push with nothing to do costs one round trip, even when the system is detected from the tables', async () => {
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    for (const args of [['db', 'push', '--json'], ['db', 'push', '--schema', 'pingtopass', '--json']]) {
      const before = t.server!.stats.requests;
      const result = await cli(args);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ system: 'pingtopass', upToDate: true });
      expect(t.server!.stats.requests - before, args.join(' ')).toBe(1);
    }
  });

  it('db status reads the catalogue, then the row counts with the migrations, in two round trips', async () => {
    for (const args of [['db', 'push', '--schema', 'pingtopass'], ['db', 'migrate']]) expect((await cli(args)).code).toBe(0);
    const before = t.server!.stats.byPath['/v2/pipeline'] ?? 0;
    const result = await cli(['db', 'status', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const status = result.json();
    expect(status.migrations.pending).toEqual([]);
    expect(status.migrations.applied.length).toBeGreaterThan(0);
    expect(status.tables.find((table: { table: string }) => table.table === '__drizzle_migrations').rows).toBe(status.migrations.applied.length);
    expect((t.server!.stats.byPath['/v2/pipeline'] ?? 0) - before).toBe(2);
  });

  it('refuses ATTACH as sqld does (403, the whole request unrun), whatever the token, and creates no file', async () => {
    const other = join(t.dir, 'other.db');
    const client = createClient({ url: t.url, authToken: t.authToken });
    try {
      await expect(client.execute(`ATTACH DATABASE '${other}' AS other`)).rejects.toThrow(/403/);
      await expect(client.batch(['CREATE TABLE before_attach (x)', `ATTACH '${other}' AS other`], 'write')).rejects.toThrow(/403/);
    } finally {
      client.close();
    }
    expect(existsSync(other)).toBe(false);
    expect(await tableNames()).toEqual([]);
    const raw = await fetch(`${t.url}/v2/pipeline`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.authToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ baton: null, requests: [{ type: 'execute', stmt: { sql: `ATTACH DATABASE "${other}" AS other` } }, { type: 'close' }] }),
    });
    expect(raw.status).toBe(403);
    expect(await raw.json()).toEqual({ error: `Authorization forbidden: Current session doesn't not have AttachRead permission to namespace ${other}` });

    const { startLibsqlServer } = await import('./support/libsql-server.js');
    const open = await startLibsqlServer({ dbPath: join(t.dir, 'no-auth.db') });
    try {
      const response = await fetch(`${open.url}/v2/pipeline`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ baton: null, requests: [{ type: 'execute', stmt: { sql: 'ATTACH foo AS foo' } }, { type: 'close' }] }),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ error: 'Authorization forbidden: Namespace `foo` doesn\'t allow attach' });
      expect(existsSync(join(t.dir, 'foo'))).toBe(false);
    } finally {
      await open.close();
    }
  });

  it('reports a timeout clearly', async () => {
    t.server!.knobs.latencyMs = 1500;
    const result = await cli(['db', 'status'], { QBANK_TIMEOUT_MS: '200' });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/timed out talking to http:\/\/127\.0\.0\.1/);
  });

  it('rejects an expired token with the message operators need', async () => {
    const expired = await expiredToken(t);
    const result = await runCli(['db', 'status'], { env: { TURSO_DATABASE_URL: t.url, TURSO_AUTH_TOKEN: expired }, cwd: t.dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/the auth token from \$TURSO_AUTH_TOKEN was rejected by .*: it expired at \d{4}-\d\d-\d\dT/);
    expect(result.stderr + result.stdout).not.toContain(expired);
  });
});

async function expiredToken(t: TestDatabase): Promise<string> {
  const { signToken } = await import('../src/auth/jwt.js');
  return signToken({ a: 'rw', exp: Math.floor(Date.now() / 1000) - 60 }, t.privateKey!);
}
