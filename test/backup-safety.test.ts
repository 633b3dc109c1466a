import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRestoreLeftovers } from '../src/db/backup/staging.js';
import { openDatabase } from '../src/db/client.js';
import { spawnCli } from './support/child-cli.js';
import { runCli } from './support/cli.js';
import { MODES, seededDatabase, withFile, type TestDatabase } from './support/modes.js';

/** Statements separated by `;` straight on the file, in one batch; the last one's rows as arrays. */
async function sql(t: TestDatabase, text: string): Promise<unknown[][]> {
  const results = await withFile(t, (client) => client.batch(text.split(';').map((s) => s.trim()).filter(Boolean), 'write'));
  return results[results.length - 1]!.rows.map((r) => Array.from({ length: r.length }, (_, i) => r[i]));
}

async function tableNames(t: TestDatabase): Promise<string[]> {
  return (await sql(t, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")).map((r) => String(r[0]));
}

function dbFor(t: TestDatabase) {
  return openDatabase({ kind: t.mode, url: t.url, displayUrl: t.url, authToken: t.authToken } as never, {});
}

describe.each(MODES)('restore refuses what would break the database (%s)', (mode) => {
  let pingtopass: TestDatabase;
  let openInterview: TestDatabase;
  beforeEach(async () => {
    [pingtopass, openInterview] = await Promise.all([seededDatabase(mode, 'pingtopass'), seededDatabase(mode, 'open-interview')]);
  });
  afterEach(async () => {
    await Promise.all([pingtopass.close(), openInterview.close()]);
  });

  it("refuses a dump of the other system unless --force-system, and shows the rows --clean destroys", async () => {
    expect((await runCli(['backup', 'dump', 'p.sql'], { env: pingtopass.env, cwd: pingtopass.dir })).code).toBe(0);
    const dump = join(pingtopass.dir, 'p.sql');
    const before = await tableNames(openInterview);
    for (const args of [['backup', 'restore', dump, '--clean', '--yes'], ['backup', '--json', 'restore', '--yes', '--clean', dump]]) {
      const refused = await runCli(args, { env: openInterview.env, cwd: openInterview.dir });
      expect(refused.code, refused.stderr).toBe(5);
      expect(refused.stderr).toMatch(/holds the pingtopass system and .* holds open-interview/);
      expect(refused.stderr).toContain('--force-system');
      expect(await tableNames(openInterview)).toEqual(before);
    }
    const users = Number((await sql(openInterview, 'SELECT count(*) FROM users'))[0]![0]);
    const forced = await runCli(['backup', 'restore', dump, '--clean', '--yes', '--force-system'], { env: openInterview.env, cwd: openInterview.dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain(`drop table users (${users.toLocaleString('en-US')} rows)`);
  });

  it('a --schema-only dump restored with --clean shows every row it wipes', async () => {
    expect((await runCli(['backup', 'dump', 's.sql', '--schema-only'], { env: pingtopass.env, cwd: pingtopass.dir })).code).toBe(0);
    const exams = Number((await sql(pingtopass, 'SELECT count(*) FROM exams'))[0]![0]);
    expect(exams).toBeGreaterThan(0);
    const cancelled = await runCli(['backup', 'restore', 's.sql', '--clean'], { env: pingtopass.env, cwd: pingtopass.dir });
    expect(cancelled.code).toBe(5);
    expect(cancelled.stderr).toContain(`drop table exams (${exams.toLocaleString('en-US')} rows)`);
    expect(Number((await sql(pingtopass, 'SELECT count(*) FROM exams'))[0]![0])).toBe(exams);
  });

  it('a restore of some tables that would orphan rows is refused, naming them, unless the related tables come too', async () => {
    expect((await runCli(['backup', 'dump', 'b.sql'], { env: pingtopass.env, cwd: pingtopass.dir })).code).toBe(0);
    // after the dump, a new question and its options: restoring questions alone would orphan the options
    const [exam] = await sql(pingtopass, 'SELECT id FROM exams LIMIT 1');
    await sql(
      pingtopass,
      `INSERT INTO questions (id, exam_id, type, text, difficulty, created_at, updated_at) VALUES ('late-q', '${exam![0]}', 'single', 'late', 1, 1, 1);
       INSERT INTO answer_options (id, question_id, text, is_correct, "order", created_at) VALUES ('late-o', 'late-q', 'a', 1, 0, 1)`,
    );
    const before = await sql(pingtopass, 'SELECT count(*) FROM questions');
    const refused = await runCli(['backup', 'restore', 'b.sql', '--tables', 'questions', '--clean', '--yes'], { env: pingtopass.env, cwd: pingtopass.dir });
    expect(refused.code, refused.stderr).toBe(5);
    expect(refused.stderr, refused.stderr).toMatch(/answer_options: 1 row\(s\) point at missing rows of questions/);
    expect(await sql(pingtopass, 'SELECT count(*) FROM questions')).toEqual(before);
    const both = await runCli(['backup', 'restore', 'b.sql', '--clean', '--yes', '--tables', 'questions,answer_options'], { env: pingtopass.env, cwd: pingtopass.dir });
    expect(both.code, both.stderr).toBe(0);
    expect(await sql(pingtopass, "SELECT count(*) FROM answer_options WHERE id = 'late-o'")).toEqual([[0]]);
  });
});

describe('remote restore: a lease per run, leftovers reported and cleaned', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  beforeEach(async () => {
    [source, target] = await Promise.all([seededDatabase('remote', 'pingtopass'), seededDatabase('remote', 'pingtopass')]);
    expect((await runCli(['backup', 'dump', 'b.sql'], { env: source.env, cwd: source.dir })).code).toBe(0);
  });
  afterEach(async () => {
    await Promise.all([source.close(), target.close()]);
  });

  it('a second restore while a lease is live is refused, naming the running one', async () => {
    const expires = Math.floor(Date.now() / 1000) + 600;
    await sql(
      target,
      `CREATE TABLE __qbank_lock (name TEXT PRIMARY KEY, run_id TEXT NOT NULL, holder TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, acquired_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
       INSERT INTO __qbank_lock VALUES ('restore', 'abcd1234', 'qbank on another-host (pid 42)', 'another-host', 42, ${expires - 700}, ${expires});
       CREATE TABLE __qbank_restore_abcd1234_users (id)`,
    );
    const before = await tableNames(target);
    const refused = await runCli(['backup', 'restore', join(source.dir, 'b.sql'), '--clean', '--yes'], { env: target.env, cwd: target.dir });
    expect(refused.code, refused.stderr).toBe(5);
    expect(refused.stderr).toContain('another restore is running on this database: run abcd1234 by qbank on another-host (pid 42)');
    expect(await tableNames(target)).toEqual(before);
    const database = dbFor(target);
    try {
      expect(await listRestoreLeftovers(database)).toMatchObject([{ runId: 'abcd1234', running: true, tables: ['__qbank_restore_abcd1234_users'] }]);
    } finally {
      database.close();
    }
    // a running restore's tables are not leftovers: clean leaves them
    const clean = await runCli(['backup', 'clean', '--json'], { env: target.env, cwd: target.dir });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.json()).toMatchObject({ dropped: [], running: [{ runId: 'abcd1234' }] });
  });

  it("a dead run's staging tables are listed as leftovers, cleaned by `backup clean` and by the next restore", async () => {
    await sql(target, 'CREATE TABLE __qbank_restore_0badf00d_questions (id); CREATE TABLE __qbank_restore_0badf00d_exams (id); CREATE TABLE __qbank_restore_users (id)');
    const database = dbFor(target);
    try {
      expect(await listRestoreLeftovers(database)).toEqual([
        { runId: '0badf00d', running: false, tables: ['__qbank_restore_0badf00d_exams', '__qbank_restore_0badf00d_questions'], lease: undefined },
        { runId: undefined, running: false, tables: ['__qbank_restore_users'], lease: undefined },
      ]);
    } finally {
      database.close();
    }
    const clean = await runCli(['backup', 'clean'], { env: target.env, cwd: target.dir });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stderr).toContain('removed 3 staging table(s)');
    expect((await tableNames(target)).filter((n) => n.startsWith('__qbank_restore_'))).toEqual([]);

    await sql(target, 'CREATE TABLE __qbank_restore_0badf00d_questions (id)');
    const restore = await runCli(['backup', 'restore', join(source.dir, 'b.sql'), '--clean', '--yes'], { env: target.env, cwd: target.dir });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stderr).toContain('__qbank_restore_0badf00d_questions');
    expect((await tableNames(target)).filter((n) => n.startsWith('__qbank_restore_'))).toEqual([]);
    expect(await sql(target, 'SELECT count(*) FROM __qbank_lock')).toEqual([[0]]);
  });

  it('a connection lost on the switch with the server gone: unknown, exit 4, and how to find out', async () => {
    const probe = await seededDatabase('remote', 'pingtopass');
    try {
      const rehearsal = await runCli(['backup', 'restore', join(source.dir, 'b.sql'), '--clean', '--yes', '--json'], { env: probe.env, cwd: probe.dir });
      target.server!.knobs.dropOnRequest = rehearsal.json().roundTrips - 1;
      const url = target.url;
      // the server stops as it drops the switch: the reconnect finds nobody
      const stopping = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (target.server!.knobs.dropOnRequest === 0) {
            clearInterval(timer);
            void target.server!.close().then(resolve);
          }
        }, 1);
      });
      const result = await runCli(['backup', 'restore', join(source.dir, 'b.sql'), '--clean', '--yes'], { env: target.env, cwd: target.dir });
      await stopping;
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toMatch(/could not reconnect to learn whether that was applied/);
      expect(result.stderr).toContain('qbank db status');
      expect(result.stderr).not.toMatch(/unexpected error/);
      void url;
    } finally {
      await probe.close();
    }
  });
});

describe('dump files', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await seededDatabase('file', 'pingtopass');
  });
  afterEach(async () => {
    await t.close();
  });

  it('a dump into a directory that does not exist is a usage error naming the path', async () => {
    for (const args of [['backup', 'dump', 'missing/dir/b.sql'], ['backup', 'dump', '--force', 'missing/dir/b.sql']]) {
      const result = await runCli(args, { env: t.env, cwd: t.dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('missing/dir');
    }
  });

  it("a killed dump's partial file is listed by verify and removed, with a notice, by the next dump to the same path", async () => {
    expect((await runCli(['backup', 'dump', 'b.sql'], { env: t.env, cwd: t.dir })).code).toBe(0);
    const partial = join(t.dir, '.b.sql.0123abcd.partial');
    writeFileSync(partial, 'PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n');
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(partial, old, old);
    const verify = await runCli(['backup', 'verify', 'b.sql', '--json'], { env: t.env, cwd: t.dir });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json().partials).toMatchObject([{ path: partial }]);
    const again = await runCli(['backup', 'dump', 'b.sql', '--force'], { env: t.env, cwd: t.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`removed ${partial}`);
    expect(readdirSync(t.dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('a restore that fails verification leaves no database file behind', async () => {
    const dir = t.dir;
    writeFileSync(join(dir, 'bad.sql'), 'BEGIN TRANSACTION;\nCREATE TABLE t (x);\n');
    const result = await runCli(['backup', 'restore', 'bad.sql'], { env: { TURSO_DATABASE_URL: 'file:new.db' }, cwd: dir });
    expect(result.code).toBe(6);
    expect(existsSync(join(dir, 'new.db'))).toBe(false);
  });

  it('`backup dump - | head` ends quietly: a closed output is not a server failure', async () => {
    // more than a pipe holds, so the dump is still writing when the reader goes away
    await sql(t, "CREATE TABLE filler (v TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO filler SELECT printf('%0200d', i) FROM n");
    const child = spawnCli(['backup', 'dump', '-'], { cwd: t.dir, env: t.env });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      lines += chunk.toString().split('\n').length - 1;
      // like `head -25`: read 25 lines, then close the pipe
      if (lines >= 25) child.stdout.destroy();
    });
    const exit = await new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
    expect(stderr).not.toMatch(/cannot reach|EPIPE|server/);
    expect(exit, stderr).toBe(141);
  });
});
