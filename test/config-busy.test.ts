import { createClient } from '@libsql/client';
import Libsql from 'libsql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeDatabaseError, isBusyError } from '../src/db/client.js';
import { ExitCode } from '../src/errors.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

/*
 * A write lock held by someone else: after the busy timeout, exit 7 with a message that says who
 * is likely holding it and what to do.
 */

describe('isBusyError', () => {
  it('SQLITE_BUSY from another connection holding the write lock of a file', async () => {
    const t = await createTestDatabase('file');
    const holder = new Libsql(t.dbPath);
    holder.exec('CREATE TABLE t (x)');
    holder.exec('BEGIN IMMEDIATE');
    const client = createClient({ url: t.url, timeout: 50 } as never);
    const error = await client.execute('INSERT INTO t VALUES (1)').then(
      () => undefined,
      (e: unknown) => e,
    );
    client.close();
    holder.exec('ROLLBACK');
    holder.close();
    await t.close();
    expect(error).toBeDefined();
    expect(isBusyError(error)).toBe(true);
    const described = describeDatabaseError(error, { displayUrl: t.url, tokenClaims: undefined, kind: 'file', busyTimeoutMs: 50 });
    expect(described.exitCode).toBe(ExitCode.busy);
  });

  it('SQLITE_LOCKED when another connection of the same process holds a table lock (shared cache)', async () => {
    const url = `file::memory:?cache=shared`;
    const owner = createClient({ url });
    const reader = createClient({ url });
    await owner.execute('CREATE TABLE IF NOT EXISTS locked_here (x)');
    const transaction = await owner.transaction('write');
    await transaction.execute('INSERT INTO locked_here VALUES (1)');
    const error = await reader.execute('SELECT * FROM locked_here').then(
      () => undefined,
      (e: unknown) => e,
    );
    transaction.close();
    owner.close();
    reader.close();
    expect(String((error as { code?: string }).code)).toMatch(/^SQLITE_LOCKED/);
    expect(isBusyError(error)).toBe(true);
  });

  it('other failures are not busy', () => {
    expect(isBusyError(new Error('SQLITE_CONSTRAINT: UNIQUE constraint failed'))).toBe(false);
    expect(isBusyError(Object.assign(new Error('x'), { code: 'SQLITE_ERROR' }))).toBe(false);
    expect(isBusyError(new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'SQLITE_BUSY_SNAPSHOT' }) }))).toBe(true);
  });
});

describe('a held write lock through the CLI', () => {
  let t: TestDatabase;
  let holder: InstanceType<typeof Libsql>;
  beforeEach(async () => {
    t = await createTestDatabase('file');
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir })).code).toBe(0);
    holder = new Libsql(t.dbPath);
  });
  afterEach(async () => {
    if (holder.inTransaction) holder.exec('ROLLBACK');
    holder.close();
    await t.close();
  });

  for (const args of [
    ['db', 'seed', '--schema', 'pingtopass'],
    ['--schema', 'pingtopass', 'db', 'seed'],
  ]) {
    it(`exits 7 and says who likely holds it: qbank ${args.join(' ')}`, async () => {
      holder.exec('BEGIN EXCLUSIVE');
      const result = await runCli(args, { env: { ...t.env, QBANK_BUSY_TIMEOUT_MS: '200' }, cwd: t.dir });
      expect(result.code, result.stderr).toBe(7);
      expect(result.stderr).toMatch(/is locked by another writer \(waited 0\.2 s\)/);
      expect(result.stderr).toMatch(/another qbank run, an open sqlite3 shell/);
      holder.exec('ROLLBACK');
      // nothing was written while the lock was held
      expect(Number((holder.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n)).toBe(0);
    });
  }

  it('in --json the error document carries exit code 7', async () => {
    holder.exec('BEGIN EXCLUSIVE');
    const result = await runCli(['db', 'seed', '--json'], { env: { ...t.env, QBANK_BUSY_TIMEOUT_MS: '200' }, cwd: t.dir });
    expect(result.code).toBe(7);
    expect(result.json().error).toMatchObject({ exitCode: 7 });
  });
});
