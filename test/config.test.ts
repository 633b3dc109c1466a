import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDotenv, redactUrl, resolveDatabaseConfig } from '../src/config.js';
import { runCli, tempDir } from './support/cli.js';

describe('resolveDatabaseConfig', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const resolve = (flags: object, env: Record<string, string> = {}, access: 'read' | 'write' = 'write') =>
    resolveDatabaseConfig({ flags, env, cwd: dir.path, access });

  it('prefers the --url flag, then the environment, then .env.local, then .env', () => {
    writeFileSync(join(dir.path, '.env'), 'TURSO_DATABASE_URL=libsql://from-dotenv.turso.io\nTURSO_AUTH_TOKEN=dotenv-token\n');
    expect(resolve({}).url).toBe('libsql://from-dotenv.turso.io');
    expect(resolve({}).authToken).toBe('dotenv-token');
    expect(resolve({}).source).toBe('TURSO_DATABASE_URL in .env');
    writeFileSync(join(dir.path, '.env.local'), 'TURSO_DATABASE_URL="libsql://from-local.turso.io"\n');
    expect(resolve({}).url).toBe('libsql://from-local.turso.io');
    expect(resolve({}, { TURSO_DATABASE_URL: 'https://from-env.turso.io' }).url).toBe('https://from-env.turso.io');
    expect(resolve({ url: 'file:other.db' }, { TURSO_DATABASE_URL: 'https://from-env.turso.io' }).url).toBe(`file:${join(dir.path, 'other.db')}`);
  });

  it('uses the read-only credentials for reads only', () => {
    const env = { TURSO_DATABASE_URL: 'libsql://db.turso.io', TURSO_AUTH_TOKEN: 'rw', TURSO_DATABASE_URL_RO: 'libsql://ro.turso.io', TURSO_AUTH_TOKEN_RO: 'ro' };
    expect(resolve({}, env, 'read')).toMatchObject({ url: 'libsql://ro.turso.io', authToken: 'ro', readOnlyCredentials: true });
    expect(resolve({}, env, 'write')).toMatchObject({ url: 'libsql://db.turso.io', authToken: 'rw', readOnlyCredentials: false });
  });

  it('falls back to the embedded database with a notice, but never under CI', () => {
    const config = resolve({});
    expect(config.url).toBe(`file:${join(dir.path, 'qbank.db')}`);
    expect(config.notices[0]).toMatch(/using the embedded local database file:qbank.db/);
    expect(() => resolve({}, { CI: 'true' })).toThrow('TURSO_DATABASE_URL is required');
  });

  it('reads named targets from qbank.config.json', () => {
    writeFileSync(
      join(dir.path, 'qbank.config.json'),
      JSON.stringify({ targets: { prod: { urlEnv: 'PROD_URL', authTokenEnv: 'PROD_TOKEN', schema: 'open-interview' }, dev: { url: 'file:dev.db' } } }),
    );
    expect(resolve({ target: 'prod' }, { PROD_URL: 'libsql://prod.turso.io', PROD_TOKEN: 'p' })).toMatchObject({
      url: 'libsql://prod.turso.io',
      authToken: 'p',
      system: 'open-interview',
    });
    expect(resolve({ target: 'dev' }).url).toBe(`file:${join(dir.path, 'dev.db')}`);
    expect(() => resolve({ target: 'staging' })).toThrow(/has no target "staging"/);
  });

  it('rejects URLs it cannot use, saying where they came from', () => {
    expect(() => resolve({ url: 'postgres://x' })).toThrow(/--url: URL scheme "postgres:" is not supported/);
    expect(() => resolve({}, { TURSO_DATABASE_URL: 'http://db.example.com' })).toThrow(/only for loopback/);
    expect(() => resolve({ url: 'libsql://not a url' })).toThrow(/not a valid URL/);
    expect(resolve({ url: 'http://127.0.0.1:8080' }).kind).toBe('remote');
  });

  it('moves an authToken query parameter out of the URL', () => {
    const config = resolve({ url: 'libsql://db.turso.io?authToken=secret-token-value' });
    expect(config.authToken).toBe('secret-token-value');
    expect(config.url).not.toContain('secret');
    expect(config.displayUrl).not.toContain('secret');
  });

  it('names the system from --schema or QBANK_SCHEMA and rejects unknown ones', () => {
    expect(resolve({ schema: 'pingtopass' }).system).toBe('pingtopass');
    expect(resolve({}, { QBANK_SCHEMA: 'open-interview' }).system).toBe('open-interview');
    expect(() => resolve({}, { QBANK_SCHEMA: 'mysql' })).toThrow(/QBANK_SCHEMA: unknown system "mysql"/);
  });
});

describe('parseDotenv and redactUrl', () => {
  it('parses quotes, export, comments and multi-line values', () => {
    expect(parseDotenv('# c\nexport A=1\nB="two words" \nC=\'x#y\'\nD=plain # comment\nE="line1\\nline2"\n')).toEqual({
      A: '1',
      B: 'two words',
      C: 'x#y',
      D: 'plain',
      E: 'line1\nline2',
    });
  });

  it('never shows credentials in URLs', () => {
    expect(redactUrl('libsql://db.turso.io?authToken=abc')).toBe('libsql://db.turso.io?authToken=***');
    expect(redactUrl('https://user:pass@db.turso.io')).toBe('https://db.turso.io');
  });
});

describe('the CLI entry point', () => {
  it('shows help with examples quickly for every command group', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
    for (const args of [['db', '--help'], ['db', 'push', '--help'], ['db', 'status', '--help'], ['db', 'migrate', '--help'], ['db', 'seed', '--help'], ['demo', '--help']]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toMatch(/Examples:\n\s+\$ qbank/);
    }
  });

  it('exits 2 on an unknown flag or command, with a clear message', async () => {
    const flag = await runCli(['db', 'push', '--frobnicate']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--frobnicate'/);
    const command = await runCli(['dbx']);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command 'dbx'/);
  });

  it('exits 2 with the seed’s message when CI has no database URL', async () => {
    const dir = tempDir();
    const result = await runCli(['db', 'status'], { env: { CI: 'true' }, cwd: dir.path });
    dir.remove();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/TURSO_DATABASE_URL is required/);
  });

  it('never prints a token, even in errors', async () => {
    const dir = tempDir();
    const token = 'eyJhbGciOiJFZERTQSJ9.eyJhIjoicncifQ.c2lnbmF0dXJlLXRoYXQtaXMtZmFrZQ';
    const result = await runCli(['db', 'status', '--url', 'http://db.example.com', '--auth-token', token], { cwd: dir.path });
    dir.remove();
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).not.toContain(token);
  });

  it('says so in one line when it falls back to the embedded database', async () => {
    const dir = tempDir();
    const result = await runCli(['db', 'push', '--schema', 'pingtopass'], { cwd: dir.path });
    dir.remove();
    expect(result.code).toBe(0);
    expect(result.stderr.split('\n').filter((l) => l.includes('embedded local database'))).toHaveLength(1);
  });
});

describe('qbank.config.json checks', () => {
  it('names the key that is wrong', () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, 'qbank.config.json'), JSON.stringify({ targets: { prod: { urlEnvv: 'X' } } }));
      expect(() => resolveDatabaseConfig({ flags: { target: 'prod' }, env: {}, cwd: dir.path, access: 'read' })).toThrow(/targets\.prod\.urlEnvv: unknown key/);
      writeFileSync(join(dir.path, 'qbank.config.json'), JSON.stringify({ targets: { prod: { schema: 'mysql' } } }));
      expect(() => resolveDatabaseConfig({ flags: { target: 'prod' }, env: {}, cwd: dir.path, access: 'read' })).toThrow(/targets\.prod\.schema: expected one of/);
      writeFileSync(join(dir.path, 'qbank.config.json'), '{ not json');
      expect(() => resolveDatabaseConfig({ flags: { target: 'prod' }, env: {}, cwd: dir.path, access: 'read' })).toThrow(/not valid JSON/);
    } finally {
      dir.remove();
    }
  });
});
