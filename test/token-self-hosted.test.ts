import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeToken } from '../src/auth/jwt.js';
import { parseDotenv } from '../src/config.js';
import { runCli, type CliResult } from './support/cli.js';
import { startLibsqlServer, type LibsqlServer } from './support/libsql-server.js';
import { attempt } from './support/attempt.js';
import { cleanupAfterEach } from './support/cleanups.js';

const cleanups = cleanupAfterEach();
const workDir = () => cleanups.workDir();


function expectNoJwt(result: CliResult): void {
  const jwt = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
  expect(result.stdout).not.toMatch(jwt);
  expect(result.stderr).not.toMatch(jwt);
}

/** A sqld started with --auth-jwt-key-file: the key file as written by `qbank token keygen`. */
async function serverWithKeyFile(dir: string, publicKeyPath: string): Promise<LibsqlServer> {
  const server = await startLibsqlServer({ dbPath: join(dir, 'data.db'), publicKeys: readFileSync(publicKeyPath, 'utf8').trim() });
  cleanups.push(() => server.close());
  return server;
}

/** Plays the operator who restarts the server once the key file changes. */
function restartOnKeyChange(server: LibsqlServer, publicKeyPath: string): () => void {
  const original = readFileSync(publicKeyPath, 'utf8');
  const timer = setInterval(() => {
    const current = readFileSync(publicKeyPath, 'utf8');
    if (current !== original) {
      server.setPublicKeys(current.trim());
      clearInterval(timer);
    }
  }, 20);
  cleanups.push(() => clearInterval(timer));
  return () => clearInterval(timer);
}

describe('self-hosted libSQL tokens', () => {
  it('keygen writes a key pair sqld reads, and refuses to overwrite it without --force', async () => {
    const dir = workDir();
    const result = await runCli(['token', 'keygen', '--key', 'keys/jwt.pem'], { env: {}, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(statSync(join(dir, 'keys/jwt.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'keys/jwt.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(join(dir, 'keys/jwt.pub'), 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(result.stdout).toContain(`sqld --auth-jwt-key-file ${join(dir, 'keys/jwt.pub')}`);

    const again = await runCli(['token', 'keygen', '--key', 'keys/jwt.pem'], { env: {}, cwd: dir });
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('already exists');
    const forced = await runCli(['token', 'keygen', '--key', 'keys/jwt.pem', '--force'], { env: {}, cwd: dir });
    expect(forced.code).toBe(0);
  });

  it('mints read-write and read-only tokens the server accepts for what they claim', async () => {
    const dir = workDir();
    await runCli(['token', 'keygen'], { env: {}, cwd: dir });
    const server = await serverWithKeyFile(dir, join(dir, 'qbank-jwt.pub'));
    const rw = await runCli(['token', 'mint', '--key', 'qbank-jwt.pem', '--env-file', '.env'], { env: {}, cwd: dir });
    const ro = await runCli(['token', 'mint', '--key', 'qbank-jwt.pem', '--read-only', '--expiration', '90d', '--env-file', '.env'], { env: {}, cwd: dir });
    expect(rw.code, rw.stderr).toBe(0);
    expect(ro.code, ro.stderr).toBe(0);
    expectNoJwt(rw);
    expectNoJwt(ro);
    const values = parseDotenv(readFileSync(join(dir, '.env'), 'utf8'));
    expect(decodeToken(values.TURSO_AUTH_TOKEN_RO!).claims).toMatchObject({ a: 'ro', exp: expect.any(Number) });
    expect(await attempt(server.url, values.TURSO_AUTH_TOKEN!, 'CREATE TABLE t (x)')).toBe('ok');
    expect(await attempt(server.url, values.TURSO_AUTH_TOKEN_RO!, 'SELECT * FROM t')).toBe('ok');
    expect(await attempt(server.url, values.TURSO_AUTH_TOKEN_RO!, 'INSERT INTO t VALUES (1)')).toBe(403);

    writeFileSync(join(dir, '.env'), `TURSO_DATABASE_URL=${server.url}\n` + readFileSync(join(dir, '.env'), 'utf8'));
    const verify = await runCli(['token', 'verify'], { env: {}, cwd: dir });
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);

    const wrongFile = await runCli(['token', 'mint', '--key', 'qbank-jwt.pub', '--show'], { env: {}, cwd: dir });
    expect(wrongFile.code).toBe(2);
    expect(wrongFile.stderr).toContain('is not a PEM private key');
  });

  it('rotate --self-hosted: new key pair, new tokens verified once the server runs with the new key', async () => {
    const dir = workDir();
    await runCli(['token', 'keygen'], { env: {}, cwd: dir });
    const publicKeyPath = join(dir, 'qbank-jwt.pub');
    const server = await serverWithKeyFile(dir, publicKeyPath);
    await runCli(['token', 'mint', '--key', 'qbank-jwt.pem', '--env-file', '.env'], { env: {}, cwd: dir });
    await runCli(['token', 'mint', '--key', 'qbank-jwt.pem', '--read-only', '--env-file', '.env'], { env: {}, cwd: dir });
    writeFileSync(join(dir, '.env'), `# self-hosted\nTURSO_DATABASE_URL=${server.url}\n` + readFileSync(join(dir, '.env'), 'utf8'));
    const old = parseDotenv(readFileSync(join(dir, '.env'), 'utf8'));
    const oldPublicKey = readFileSync(publicKeyPath, 'utf8');

    restartOnKeyChange(server, publicKeyPath);
    const result = await runCli(['token', 'rotate', '--self-hosted', '--yes', '--wait', '10', '--json'], { env: {}, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const report = result.json();
    expect(report).toMatchObject({ kind: 'self-hosted', envFile: { keys: ['TURSO_AUTH_TOKEN', 'TURSO_AUTH_TOKEN_RO'] }, oldTokens: [{ rejected: true }, { rejected: true }] });
    expect(report.downtimeMs).toEqual(expect.any(Number));
    expect(result.stderr).toContain('restart it with --auth-jwt-key-file');
    expectNoJwt(result);

    expect(readFileSync(`${publicKeyPath}.previous`, 'utf8')).toBe(oldPublicKey);
    expect(existsSync(join(dir, 'qbank-jwt.pem.previous'))).toBe(true);
    expect(statSync(join(dir, 'qbank-jwt.pem')).mode & 0o777).toBe(0o600);
    const values = parseDotenv(readFileSync(join(dir, '.env'), 'utf8'));
    expect(readFileSync(join(dir, '.env'), 'utf8')).toMatch(/^# self-hosted\n/);
    expect(await attempt(server.url, old.TURSO_AUTH_TOKEN!, 'SELECT 1')).toBe(401);
    expect(await attempt(server.url, values.TURSO_AUTH_TOKEN!, 'CREATE TABLE t (x)')).toBe('ok');
    expect(await attempt(server.url, values.TURSO_AUTH_TOKEN_RO!, 'INSERT INTO t VALUES (1)')).toBe(403);
  });

  it('rotate --self-hosted says what to do when the server is not restarted in time', async () => {
    const dir = workDir();
    await runCli(['token', 'keygen'], { env: {}, cwd: dir });
    const server = await serverWithKeyFile(dir, join(dir, 'qbank-jwt.pub'));
    await runCli(['token', 'mint', '--key', 'qbank-jwt.pem', '--env-file', '.env'], { env: {}, cwd: dir });
    writeFileSync(join(dir, '.env'), `TURSO_DATABASE_URL=${server.url}\n` + readFileSync(join(dir, '.env'), 'utf8'));
    const before = readFileSync(join(dir, '.env'), 'utf8');
    const result = await runCli(['token', 'rotate', '--self-hosted', '--yes', '--wait', '0.2'], { env: {}, cwd: dir });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('token rotation stopped at step 3 of 4 (verify the new read-write token');
    expect(result.stderr).toContain('restart the server with --auth-jwt-key-file');
    expect(result.stderr).toContain('put the *.previous files back to undo');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(before);
    expectNoJwt(result);
  });
});

describe('self-hosted key files are never lost', () => {
  it('keygen refuses one path for both keys, also when two paths name the same file', async () => {
    const dir = workDir();
    const same = await runCli(['token', 'keygen', '--key', 'k.pem', '--public-key', 'k.pem'], { env: {}, cwd: dir });
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('the private key and the public key would be written to the same file');
    expect(existsSync(join(dir, 'k.pem'))).toBe(false);

    // Options before the subcommand, and a path that reaches the key file through a symlinked directory.
    mkdirSync(join(dir, 'keys'));
    symlinkSync('keys', join(dir, 'alias'));
    const aliased = await runCli(['token', '--json', 'keygen', '--key', 'keys/jwt.pem', '--public-key', 'alias/jwt.pem'], { env: {}, cwd: dir });
    expect(aliased.code).toBe(2);
    expect(aliased.json().error.message).toContain('the same file');
    expect(readdirSync(join(dir, 'keys'))).toEqual([]);

    // A hard link to an existing private key, with --force: refused, the key stays as it was.
    expect((await runCli(['token', 'keygen', '--key', 'keys/jwt.pem'], { env: {}, cwd: dir })).code).toBe(0);
    const privateKey = readFileSync(join(dir, 'keys/jwt.pem'), 'utf8');
    linkSync(join(dir, 'keys/jwt.pem'), join(dir, 'linked.pem'));
    const linked = await runCli(['token', 'keygen', '--key', 'keys/jwt.pem', '--public-key', 'linked.pem', '--force'], { env: {}, cwd: dir });
    expect(linked.code).toBe(2);
    expect(readFileSync(join(dir, 'keys/jwt.pem'), 'utf8')).toBe(privateKey);

    const rotate = await runCli(['token', 'rotate', '--self-hosted', '--yes', '--key', 'keys/jwt.pem', '--public-key', 'keys/jwt.pem', '--url', 'http://127.0.0.1:9'], { env: {}, cwd: dir });
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toContain('the same file');
    expect(readFileSync(join(dir, 'keys/jwt.pem'), 'utf8')).toBe(privateKey);
  });

  it('rotate --self-hosted run again after a failure keeps the original key: previous files are numbered, never overwritten', async () => {
    const dir = workDir();
    await runCli(['token', 'keygen'], { env: {}, cwd: dir });
    const original = { pem: readFileSync(join(dir, 'qbank-jwt.pem'), 'utf8'), pub: readFileSync(join(dir, 'qbank-jwt.pub'), 'utf8') };
    const server = await serverWithKeyFile(dir, join(dir, 'qbank-jwt.pub'));
    await runCli(['token', 'mint', '--key', 'qbank-jwt.pem', '--env-file', '.env'], { env: {}, cwd: dir });
    writeFileSync(join(dir, '.env'), `TURSO_DATABASE_URL=${server.url}\n` + readFileSync(join(dir, '.env'), 'utf8'));

    // Nobody restarts the server: both attempts fail verification.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const failed = await runCli(['token', 'rotate', '--self-hosted', '--yes', '--wait', '0.2'], { env: {}, cwd: dir });
      expect(failed.code).toBe(6);
    }
    expect(readFileSync(join(dir, 'qbank-jwt.pem.previous'), 'utf8')).toBe(original.pem);
    expect(readFileSync(join(dir, 'qbank-jwt.pub.previous'), 'utf8')).toBe(original.pub);
    const firstAttempt = readFileSync(join(dir, 'qbank-jwt.pem.previous.1'), 'utf8');
    expect(firstAttempt).not.toBe(original.pem);
    expect(readFileSync(join(dir, 'qbank-jwt.pem'), 'utf8')).not.toBe(firstAttempt);
    expect(existsSync(join(dir, 'qbank-jwt.pub.previous.1'))).toBe(true);
    expect(existsSync(join(dir, 'qbank-jwt.pem.previous.2'))).toBe(false);
  });
});
