import { createClient } from '@libsql/client';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

/*
 * The configuration rules as a user meets them: the database a command names is the one it acts
 * on, reading commands never create a database, and a failed write leaves no new file.
 */

async function tableNames(path: string): Promise<string[]> {
  const client = createClient({ url: `file:${path}` });
  try {
    const result = await client.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    return result.rows.map((row) => String(row.name));
  } finally {
    client.close();
  }
}

const databaseFiles = (dir: string) => readdirSync(dir).filter((name) => /\.db(-journal|-wal|-shm)?$/.test(name));

describe('the database a command names is the one it acts on', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
    writeFileSync(join(dir.path, 'qbank.config.json'), JSON.stringify({ targets: { dev: { url: 'file:dev.db' }, prod: { urlEnv: 'PROD_URL', authTokenEnv: 'PROD_TOKEN' } } }));
  });
  afterEach(() => dir.remove());

  for (const args of [
    ['--target', 'dev', 'db', 'push', '--schema', 'pingtopass'],
    ['db', 'push', '--target', 'dev', '--schema', 'pingtopass'],
    ['db', '--target', 'dev', 'push', '--schema', 'pingtopass'],
  ]) {
    it(`a target's url beats an exported TURSO_DATABASE_URL: qbank ${args.join(' ')}`, async () => {
      const result = await runCli(args, { env: { TURSO_DATABASE_URL: 'file:wrong.db' }, cwd: dir.path });
      expect(result.code, result.stderr).toBe(0);
      expect(await tableNames(join(dir.path, 'dev.db'))).toContain('questions');
      expect(existsSync(join(dir.path, 'wrong.db'))).toBe(false);
    });
  }

  it('a reading command with --target reads the target, not a read-only URL from .env', async () => {
    expect((await runCli(['--target', 'dev', 'db', 'push', '--schema', 'pingtopass'], { cwd: dir.path })).code).toBe(0);
    writeFileSync(join(dir.path, '.env'), 'TURSO_DATABASE_URL_RO=file:other.db\n');
    const result = await runCli(['db', 'status', '--json', '--target', 'dev'], { cwd: dir.path });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().connection.url).toBe(`file:${join(dir.path, 'dev.db')}`);
    expect(existsSync(join(dir.path, 'other.db'))).toBe(false);
  });

  it('with TURSO_DATABASE_URL exported, db status reads it, not the read-only URL of .env', async () => {
    expect((await runCli(['db', 'push', '--schema', 'pingtopass', '--url', 'file:b.db'], { cwd: dir.path })).code).toBe(0);
    writeFileSync(join(dir.path, '.env'), 'TURSO_DATABASE_URL=file:a.db\nTURSO_DATABASE_URL_RO=file:a.db\n');
    const result = await runCli(['db', 'status', '--json'], { env: { TURSO_DATABASE_URL: 'file:b.db' }, cwd: dir.path });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().connection.url).toBe(`file:${join(dir.path, 'b.db')}`);
  });

  for (const args of [
    ['--target', 'prod', 'db', 'push', '--schema', 'pingtopass'],
    ['--target', 'prod', 'db', 'status'],
    ['--target', 'prod', 'db', 'seed', '--schema', 'pingtopass'],
    ['--target', 'prod', 'import', 'questions.csv', '--schema', 'pingtopass'],
    ['--target', 'prod', 'backup', 'restore', 'dump.sql'],
    ['--target', 'prod', 'review', 'list'],
    ['--target', 'prod', 'replica', 'status'],
    ['--target', 'prod', 'token', 'verify'],
    ['backup', 'dump', 'out.sql', '--target', 'prod'],
  ]) {
    it(`a target whose variables are missing is an error, never the embedded default: qbank ${args.join(' ')}`, async () => {
      writeFileSync(join(dir.path, 'questions.csv'), 'exam_code,text\n');
      writeFileSync(join(dir.path, 'dump.sql'), '');
      const result = await runCli(args, { cwd: dir.path });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/target prod: PROD_URL is not set/);
      expect(databaseFiles(dir.path)).toEqual([]);
    });
  }
});

describe.each(MODES)('credentials go only to their database (%s)', (mode) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase(mode);
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir })).code).toBe(0);
  });
  afterEach(() => t.close());

  it('a target without read-only variables never sends the global TURSO_AUTH_TOKEN_RO', async () => {
    writeFileSync(join(t.dir, 'qbank.config.json'), JSON.stringify({ targets: { prod: { urlEnv: 'PROD_URL', ...(t.authToken ? { authTokenEnv: 'PROD_TOKEN' } : {}) } } }));
    const env = { PROD_URL: t.url, ...(t.authToken ? { PROD_TOKEN: t.authToken } : {}), TURSO_AUTH_TOKEN_RO: 'eyJhbGciOiJFZERTQSJ9.eyJhIjoicm8ifQ.bm90LWEtcmVhbC1zaWduYXR1cmU' };
    const result = await runCli(['--target', 'prod', 'db', 'status', '--json'], { env, cwd: t.dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().connection.credentials).toBe(mode === 'remote' ? 'read-write' : 'none');
  });
});

describe('reading commands never create a database', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  for (const args of [
    ['db', 'status'],
    ['db', 'status', '--json'],
    ['db', 'push', '--dry-run', '--schema', 'pingtopass'],
    ['review', 'list', '--schema', 'pingtopass'],
  ]) {
    it(`with none configured: qbank ${args.join(' ')}`, async () => {
      const result = await runCli(args, { cwd: dir.path });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/no database configured: .* reads a database and never creates one/);
      expect(result.stderr).toMatch(/--url, TURSO_DATABASE_URL .* or --target NAME/);
      expect(databaseFiles(dir.path)).toEqual([]);
    });

    it(`with a file: URL whose file does not exist: qbank ${args.join(' ')} --url file:missing.db`, async () => {
      const result = await runCli([...args, '--url', 'file:missing.db'], { cwd: dir.path });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`there is no database file at ${join(dir.path, 'missing.db')}`);
      expect(databaseFiles(dir.path)).toEqual([]);
    });
  }

  it('the embedded default is read when it exists', async () => {
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { cwd: dir.path })).code).toBe(0);
    const result = await runCli(['db', 'status', '--json'], { cwd: dir.path });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().connection.url).toBe(`file:${join(dir.path, 'qbank.db')}`);
  });
});

describe('a writing command that fails leaves no new database file', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('db seed on a new file (no tables): nothing left behind', async () => {
    const result = await runCli(['db', 'seed', '--schema', 'pingtopass', '--url', 'file:new.db'], { cwd: dir.path });
    expect(result.code).not.toBe(0);
    expect(databaseFiles(dir.path)).toEqual([]);
  });

  it('an import that fails validation into a new file: nothing left behind', async () => {
    writeFileSync(join(dir.path, 'bad.csv'), 'exam_code,text,option_a,option_b,correct,difficulty\nNOPE,What?,a,b,Z,9\n');
    for (const args of [
      ['import', 'bad.csv', '--schema', 'pingtopass', '--url', 'file:new.db'],
      ['--url', 'file:new.db', 'import', 'questions', 'bad.csv', '--schema', 'pingtopass'],
    ]) {
      const result = await runCli(args, { cwd: dir.path });
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(databaseFiles(dir.path), args.join(' ')).toEqual([]);
    }
  });

  it('the embedded default: a failed write leaves no qbank.db; a successful one keeps it', async () => {
    const failed = await runCli(['db', 'seed', '--schema', 'pingtopass'], { cwd: dir.path });
    expect(failed.code).not.toBe(0);
    expect(databaseFiles(dir.path)).toEqual([]);
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { cwd: dir.path })).code).toBe(0);
    expect(databaseFiles(dir.path)).toEqual(['qbank.db']);
  });

  it('a restore that fails verification into a new file: nothing left behind', async () => {
    writeFileSync(join(dir.path, 'bad.sql'), 'PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t (x);\n');
    for (const args of [
      ['backup', 'restore', 'bad.sql', '--url', 'file:new.db'],
      ['--url', 'file:new.db', 'backup', 'restore', 'bad.sql'],
    ]) {
      const result = await runCli(args, { cwd: dir.path });
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(databaseFiles(dir.path), args.join(' ')).toEqual([]);
    }
  });

  it('an existing database is never removed, even empty, when a command fails on it', async () => {
    writeFileSync(join(dir.path, 'empty.db'), '');
    const result = await runCli(['db', 'seed', '--schema', 'pingtopass', '--url', 'file:empty.db'], { cwd: dir.path });
    expect(result.code).not.toBe(0);
    expect(databaseFiles(dir.path)).toEqual(['empty.db']);
  });
});
