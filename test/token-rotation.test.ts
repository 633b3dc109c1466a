import { createClient } from '@libsql/client';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeToken, generateEd25519KeyPair } from '../src/auth/jwt.js';
import { parseDotenv } from '../src/config.js';
import { runCli, type CliResult } from './support/cli.js';
import { startLibsqlServer } from './support/libsql-server.js';
import { startPlatformServer } from './support/platform-server.js';
import { startTestbed, type Testbed } from './support/testbed.js';
import { attempt } from './support/attempt.js';
import { cleanupAfterEach } from './support/cleanups.js';

const cleanups = cleanupAfterEach();
const workDir = () => cleanups.workDir();
const testbed = async (replicas = 1): Promise<Testbed> => cleanups.closing(await startTestbed({ replicas }));


/** A .env as an operator keeps it: comments, blank lines, other keys, an export prefix. */
function writeEnvFile(dir: string, bed: Testbed, mode = 0o644): string {
  const path = join(dir, '.env');
  const text = [
    '# production settings',
    `TURSO_DATABASE_URL=${bed.env.TURSO_DATABASE_URL}`,
    `TURSO_AUTH_TOKEN=${bed.authToken}`,
    '',
    '# read-only, for serving',
    `export TURSO_AUTH_TOKEN_RO="${bed.readOnlyToken}"`,
    `TURSO_API_URL=${bed.env.TURSO_API_URL}`,
    `TURSO_ORG=${bed.org}`,
    `TURSO_API_TOKEN=${bed.apiToken}`,
    'SESSION_SECRET=keep-me # trailing comment',
    '',
  ].join('\n');
  writeFileSync(path, text, { mode });
  return path;
}

function expectNoSecrets(result: CliResult, secrets: string[]): void {
  for (const secret of secrets) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
    // a token cut into pieces by wrapping would still leak its signature
    expect(result.stdout + result.stderr).not.toContain(secret.split('.')[2]);
  }
}

describe('qbank token rotate (Turso Platform API)', () => {
  it('rotates, mints, verifies and stores new tokens; the old ones stop working everywhere', async () => {
    const bed = await testbed(1);
    const dir = workDir();
    const envPath = writeEnvFile(dir, bed);
    const before = readFileSync(envPath, 'utf8');
    await createClient({ url: bed.primary.url, authToken: bed.authToken }).execute('CREATE TABLE kept (x)');

    const result = await runCli(['token', 'rotate', '--yes'], { env: {}, cwd: dir });
    expect(result.code, result.stderr).toBe(0);

    const after = readFileSync(envPath, 'utf8');
    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    const values = parseDotenv(after);
    const newReadWrite = values.TURSO_AUTH_TOKEN!;
    const newReadOnly = values.TURSO_AUTH_TOKEN_RO!;
    expect(newReadWrite).not.toBe(bed.authToken);
    expect(newReadOnly).not.toBe(bed.readOnlyToken);
    expect(decodeToken(newReadWrite).claims.a).toBe('rw');
    expect(decodeToken(newReadOnly).claims.a).toBe('ro');
    // Every other line is exactly as it was, in place.
    const lines = (text: string) => text.split('\n').filter((l) => !/TURSO_AUTH_TOKEN(_RO)?=/.test(l));
    expect(lines(after)).toEqual(lines(before));
    expect(after).toContain(`export TURSO_AUTH_TOKEN_RO=${newReadOnly}\n`);
    expect(after).toContain('SESSION_SECRET=keep-me # trailing comment\n');

    for (const server of [bed.primary, bed.replicas[0]!]) {
      expect(await attempt(server.url, bed.authToken, 'SELECT 1')).toBe(401);
      expect(await attempt(server.url, bed.readOnlyToken, 'SELECT 1')).toBe(401);
      expect(await attempt(server.url, newReadOnly, 'SELECT count(*) FROM kept')).toBe('ok');
    }
    expect(await attempt(bed.primary.url, newReadWrite, 'INSERT INTO kept VALUES (1)')).toBe('ok');
    expect(await attempt(bed.primary.url, newReadOnly, 'INSERT INTO kept VALUES (2)')).toBe(403);
    // The write probes left nothing behind.
    const check = createClient({ url: bed.primary.url, authToken: newReadWrite });
    const tables = await check.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
    check.close();
    expect(tables.rows.map((r) => r.name)).toEqual(['kept']);

    expect(result.stdout).toMatch(/No valid token for: \d+(\.\d)? (ms|s) \(from the rotate call’s response/);
    expect(result.stdout).toContain('Old TURSO_AUTH_TOKEN: rejected by the server now');
    expect(result.stdout).toContain('Old TURSO_AUTH_TOKEN_RO: rejected by the server now');
    expect(result.stdout).toContain("grep -E '^(export )?TURSO_AUTH_TOKEN=' .env | cut -d= -f2- | wrangler secret put TURSO_AUTH_TOKEN");
    expect(result.stdout).toContain("grep -E '^(export )?TURSO_AUTH_TOKEN_RO=' .env | cut -d= -f2- | wrangler secret put TURSO_AUTH_TOKEN_RO");
    expect(result.stderr).toContain('makes every existing token of the database stop working');
    expectNoSecrets(result, [bed.authToken, bed.readOnlyToken, newReadWrite, newReadOnly, bed.apiToken]);
  });

  it('reports the rotation as JSON without tokens, and measures the downtime', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    writeEnvFile(dir, bed);
    const result = await runCli(['token', 'rotate', '--yes', '--json'], { env: {}, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const report = result.json();
    expect(report).toMatchObject({
      kind: 'platform',
      scope: 'database "qbank"',
      server: bed.primary.url,
      envFile: { keys: ['TURSO_AUTH_TOKEN', 'TURSO_AUTH_TOKEN_RO'], created: false },
      oldTokens: [
        { source: 'TURSO_AUTH_TOKEN', rejected: true },
        { source: 'TURSO_AUTH_TOKEN_RO', rejected: true },
      ],
      warnings: [],
    });
    expect(report.downtimeMs).toEqual(expect.any(Number));
    expect(report.tokens.readWrite.access).toMatchObject({ accepted: true, canRead: true, canWrite: true });
    expect(report.tokens.readOnly.access).toMatchObject({ accepted: true, canRead: true, canWrite: false });
    const values = parseDotenv(readFileSync(join(dir, '.env'), 'utf8'));
    expectNoSecrets(result, [values.TURSO_AUTH_TOKEN!, values.TURSO_AUTH_TOKEN_RO!]);
  });

  it('asks first, and without a terminal refuses unless --yes: nothing changes', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    const envPath = writeEnvFile(dir, bed);
    const before = readFileSync(envPath, 'utf8');
    const result = await runCli(['token', 'rotate'], { env: {}, cwd: dir });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('Rotating the keys of database "qbank" makes every existing token');
    expect(result.stderr).toContain('pass --yes');
    expect(readFileSync(envPath, 'utf8')).toBe(before);
    expect(await attempt(bed.primary.url, bed.authToken, 'SELECT 1')).toBe('ok');
    expect(bed.platform.requests.some((r) => r.path.endsWith('/auth/rotate'))).toBe(false);
  });

  it('rotates a whole group with --group and stores group tokens', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    writeEnvFile(dir, bed);
    const result = await runCli(['token', 'rotate', '--group', '--yes'], { env: {}, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('every existing token of every database in the group stop working at once: qbank');
    const values = parseDotenv(readFileSync(join(dir, '.env'), 'utf8'));
    expect(decodeToken(values.TURSO_AUTH_TOKEN!).claims.gid).toEqual(expect.any(String));
    expect(await attempt(bed.primary.url, bed.authToken, 'SELECT 1')).toBe(401);
    expect(await attempt(bed.primary.url, values.TURSO_AUTH_TOKEN!, 'SELECT 1')).toBe('ok');
    expect(bed.platform.requests.filter((r) => r.path === `/v1/organizations/${bed.org}/groups/default/auth/rotate`)).toHaveLength(1);
  });

  it('with --show and no --env-file prints the tokens instead of writing a file', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    const result = await runCli(['token', 'rotate', '--yes', '--show'], { env: bed.env, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const shown = parseDotenv(result.stdout);
    expect(await attempt(bed.primary.url, shown.TURSO_AUTH_TOKEN!, 'CREATE TABLE t (x)')).toBe('ok');
    expect(await attempt(bed.primary.url, shown.TURSO_AUTH_TOKEN_RO!, 'SELECT 1')).toBe('ok');
    expect(() => statSync(join(dir, '.env'))).toThrow();
  });

  it('stops before rotating when the database does not answer', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    writeEnvFile(dir, bed);
    await bed.primary.close();
    const result = await runCli(['token', 'rotate', '--yes'], { env: {}, cwd: dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`refusing to rotate: the database server ${bed.primary.url} does not answer`);
    expect(result.stderr).toContain('nothing was changed; every existing token still works');
    expect(bed.platform.requests.some((r) => r.path.endsWith('/auth/rotate'))).toBe(false);
  });

  it('says where it stopped when the rotate call fails, and whether anything changed', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    writeEnvFile(dir, bed);
    bed.platform.setFault({ method: 'POST', path: /\/auth\/rotate$/, status: 404, body: { error: 'could not find database with name qbank: record not found' } });
    const notFound = await runCli(['token', 'rotate', '--yes'], { env: {}, cwd: dir });
    expect(notFound.code).toBe(2);
    expect(notFound.stderr).toContain('token rotation stopped at step 1 of 4 (rotate the keys of database "qbank"): database "qbank" not found');
    expect(notFound.stderr).toContain('nothing was changed; every existing token still works');

    bed.platform.setFault({ method: 'POST', path: /\/auth\/rotate$/, status: 503 });
    const unavailable = await runCli(['token', 'rotate', '--yes'], { env: {}, cwd: dir });
    expect(unavailable.code).toBe(4);
    expect(unavailable.stderr).toContain('the rotate request may or may not have reached Turso');
    expect(unavailable.stderr).toContain('qbank token verify');
    expect(bed.platform.requests.filter((r) => r.path.endsWith('/auth/rotate'))).toHaveLength(2);
  });

  it('says the old tokens are dead and how to recover when minting fails after the rotation', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    const envPath = writeEnvFile(dir, bed);
    bed.platform.setFault({ method: 'POST', path: /\/auth\/tokens$/, status: 409, body: { error: 'token creation already in progress' } });
    const result = await runCli(['token', 'rotate', '--yes'], { env: {}, cwd: dir });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('token rotation stopped at step 2 of 4 (mint the new read-write token): conflict when trying to create a full-access token');
    expect(result.stderr).toContain('token creation already in progress');
    expect(result.stderr).toContain('✔ rotated the keys of database "qbank"');
    expect(result.stderr).toContain('`qbank token create --env-file .env` and `qbank token create --read-only --env-file .env`');
    expect(parseDotenv(readFileSync(envPath, 'utf8')).TURSO_AUTH_TOKEN).toBe(bed.authToken);
  });
});

describe('qbank token rotate: each token goes where the configuration reads it', () => {
  it('writes both tokens to .env.local when it holds one of them, so .env cannot shadow them', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    writeFileSync(join(dir, '.env'), `TURSO_DATABASE_URL=${bed.primary.url}\nTURSO_AUTH_TOKEN=${bed.authToken}\nTURSO_API_URL=${bed.env.TURSO_API_URL}\nTURSO_ORG=${bed.org}\nTURSO_API_TOKEN=${bed.apiToken}\n`);
    writeFileSync(join(dir, '.env.local'), `TURSO_AUTH_TOKEN_RO=${bed.readOnlyToken}\n`);
    const result = await runCli(['token', 'rotate', '--yes'], { env: {}, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const local = parseDotenv(readFileSync(join(dir, '.env.local'), 'utf8'));
    expect(await attempt(bed.primary.url, local.TURSO_AUTH_TOKEN!, 'CREATE TABLE t (x)')).toBe('ok');
    expect(await attempt(bed.primary.url, local.TURSO_AUTH_TOKEN_RO!, 'SELECT 1')).toBe('ok');
    // What every command now reads: the new tokens.
    const verify = await runCli(['token', 'verify'], { env: {}, cwd: dir });
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('refuses before rotating when a higher-precedence file or variable would shadow the new token, naming it', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    writeEnvFile(dir, bed);
    writeFileSync(join(dir, '.env.local'), `TURSO_AUTH_TOKEN_RO=${bed.readOnlyToken}\n`);
    const shadowedFile = await runCli(['token', 'rotate', '--yes', '--env-file', '.env'], { env: {}, cwd: dir });
    expect(shadowedFile.code).toBe(5);
    expect(shadowedFile.stderr).toContain('TURSO_AUTH_TOKEN_RO in .env.local takes precedence over .env');

    const shadowedByEnvironment = await runCli(['token', 'rotate', '--yes'], { env: { TURSO_AUTH_TOKEN: bed.authToken }, cwd: dir });
    expect(shadowedByEnvironment.code).toBe(5);
    expect(shadowedByEnvironment.stderr).toContain('TURSO_AUTH_TOKEN is set in the process environment ($TURSO_AUTH_TOKEN), which takes precedence over .env.local');

    expect(bed.platform.requests.some((r) => r.path.endsWith('/auth/rotate'))).toBe(false);
    expect(await attempt(bed.primary.url, bed.authToken, 'SELECT 1')).toBe('ok');
  });

  it('with a group token configured, a database rotation says the group token is unaffected instead of failing', async () => {
    const bed = await testbed(0);
    const dir = workDir();
    const created = await runCli(['token', 'create', '--group', '--show'], { env: bed.env, cwd: dir });
    const groupToken = created.stdout.trim();
    writeFileSync(join(dir, '.env'), [`TURSO_DATABASE_URL=${bed.primary.url}`, `TURSO_AUTH_TOKEN=${groupToken}`, `TURSO_API_URL=${bed.env.TURSO_API_URL}`, `TURSO_ORG=${bed.org}`, `TURSO_API_TOKEN=${bed.apiToken}`, ''].join('\n'));
    const result = await runCli(['token', 'rotate', '--yes'], { env: {}, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('STILL ACCEPTED');
    expect(result.stdout).toContain('Old TURSO_AUTH_TOKEN: a group token, not affected by rotating database "qbank" (still accepted; --group rotates it)');
    expect(await attempt(bed.primary.url, groupToken, 'SELECT 1')).toBe('ok');
    const json = await runCli(['token', 'rotate', '--yes', '--json'], { env: { TURSO_AUTH_TOKEN: groupToken }, cwd: dir });
    expect(json.code, json.stderr).toBe(5);
  });
});

describe('qbank token rotate against servers that misbehave', () => {
  async function platformAndServer(options: { serverKeys: 'none' | 'stale' }) {
    const dir = workDir();
    const keys = generateEd25519KeyPair();
    const server = await startLibsqlServer({ dbPath: join(dir, 'db.sqlite'), publicKeys: options.serverKeys === 'none' ? undefined : [keys.publicKey] });
    cleanups.push(() => server.close());
    // No onKeysRotated: the libSQL server never learns the new keys.
    const platform = await startPlatformServer({
      org: 'acme',
      apiToken: 'platform-token-for-tests',
      databases: [{ name: 'quiz', group: 'default', primaryRegion: 'aws-us-east-1', instances: [{ name: 'aws-us-east-1', type: 'primary', region: 'aws-us-east-1', url: server.url }] }],
      initialKeys: { databases: { quiz: keys } },
    });
    cleanups.push(() => platform.close());
    const env = {
      TURSO_DATABASE_URL: server.url,
      TURSO_AUTH_TOKEN: platform.mintToken('quiz'),
      TURSO_AUTH_TOKEN_RO: platform.mintToken('quiz', { readOnly: true }),
      TURSO_API_URL: platform.baseUrl,
      TURSO_ORG: 'acme',
      TURSO_API_TOKEN: 'platform-token-for-tests',
    };
    const envPath = join(dir, 'app.env');
    writeFileSync(envPath, `TURSO_AUTH_TOKEN=${env.TURSO_AUTH_TOKEN}\nTURSO_AUTH_TOKEN_RO=${env.TURSO_AUTH_TOKEN_RO}\n`);
    return { dir, env, envPath, server, platform };
  }

  it('refuses to store a read-only token the server lets write', async () => {
    const { dir, env, envPath } = await platformAndServer({ serverKeys: 'none' });
    const result = await runCli(['token', 'rotate', '--yes', '--env-file', 'app.env'], { env, cwd: dir });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('token rotation stopped at step 3 of 4 (verify the new read-only token)');
    expect(result.stderr).toContain('it can write although it is meant to be read-only');
    expect(result.stderr).toContain('TURSO_AUTH_TOKEN_RO was NOT updated');
    const values = parseDotenv(readFileSync(envPath, 'utf8'));
    expect(values.TURSO_AUTH_TOKEN).not.toBe(env.TURSO_AUTH_TOKEN);
    expect(values.TURSO_AUTH_TOKEN_RO).toBe(env.TURSO_AUTH_TOKEN_RO);
    expectNoSecrets(result, [values.TURSO_AUTH_TOKEN!, env.TURSO_AUTH_TOKEN, env.TURSO_AUTH_TOKEN_RO]);
  });

  it('writes nothing when the server never accepts the new read-write token', async () => {
    const { dir, env, envPath } = await platformAndServer({ serverKeys: 'stale' });
    const before = readFileSync(envPath, 'utf8');
    const result = await runCli(['token', 'rotate', '--yes', '--env-file', 'app.env', '--wait', '0.2'], { env, cwd: dir });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('token rotation stopped at step 3 of 4 (verify the new read-write token against');
    expect(result.stderr).toContain('the server rejects it');
    expect(result.stderr).toContain('nothing was written to the env file: unverified tokens are not stored');
    expect(result.stderr).toContain('`qbank token create --env-file app.env`');
    expect(readFileSync(envPath, 'utf8')).toBe(before);
  });
});

describe('qbank token rotate: the env file is checked for real before rotating', () => {
  const cases: Array<[string, (dir: string) => string, number, RegExp]> = [
    ['a directory', (dir) => (mkdirSync(join(dir, 'secrets')), 'secrets'), 2, /cannot write the env file secrets: it is a directory/],
    ['a missing directory', () => 'missing/app.env', 2, /cannot write the env file missing\/app\.env: the directory .*missing does not exist/],
    ['a read-only file', (dir) => (writeFileSync(join(dir, 'app.env'), 'A=1\n', { mode: 0o444 }), 'app.env'), 5, /app\.env: it is read-only \(mode 0444\)/],
    ['a quoted value never closed', (dir) => (writeFileSync(join(dir, 'app.env'), 'NOTE="open\nTURSO_AUTH_TOKEN=x\n'), 'app.env'), 3, /line 1: the quoted value of NOTE is never closed/],
  ];
  for (const [what, make, code, message] of cases) {
    it(`refuses ${what} and rotates nothing`, async () => {
      const bed = await testbed(0);
      const dir = workDir();
      const envFile = make(dir);
      const result = await runCli(['token', 'rotate', '--yes', '--env-file', envFile], { env: bed.env, cwd: dir });
      expect(result.code, result.stderr).toBe(code);
      expect(result.stderr).toMatch(message);
      expect(bed.platform.requests.some((r) => r.path.endsWith('/auth/rotate'))).toBe(false);
      expect(await attempt(bed.primary.url, bed.authToken, 'SELECT 1')).toBe('ok');
      // Global flags before the subcommand: the same refusal, as one JSON error.
      const json = await runCli(['--json', 'token', 'rotate', '--env-file', envFile, '--yes'], { env: bed.env, cwd: dir });
      expect(json.code).toBe(code);
      expect(json.json().error.message).toMatch(message);
      expect(bed.platform.requests.some((r) => r.path.endsWith('/auth/rotate'))).toBe(false);
    });
  }

  it('keeps the new tokens recoverable when the final write fails after the rotation: a 0600 file beside it, named in the error', async () => {
    const dir = workDir();
    const keys = generateEd25519KeyPair();
    const server = await startLibsqlServer({ dbPath: join(dir, 'db.sqlite'), publicKeys: [keys.publicKey] });
    cleanups.push(() => server.close());
    const envPath = join(dir, 'app.env');
    const platform = await startPlatformServer({
      org: 'acme',
      apiToken: 'platform-token-for-tests',
      databases: [{ name: 'quiz', group: 'default', primaryRegion: 'aws-us-east-1', instances: [{ name: 'aws-us-east-1', type: 'primary', region: 'aws-us-east-1', url: server.url }] }],
      initialKeys: { databases: { quiz: keys } },
      // While the keys rotate, something replaces the env file with a directory: the final rename fails.
      onKeysRotated: (_scope, publicKeys) => {
        server.setPublicKeys(publicKeys);
        rmSync(envPath);
        mkdirSync(envPath);
      },
    });
    cleanups.push(() => platform.close());
    const oldToken = platform.mintToken('quiz');
    writeFileSync(envPath, `TURSO_AUTH_TOKEN=${oldToken}\n`);
    const env = { TURSO_DATABASE_URL: server.url, TURSO_API_URL: platform.baseUrl, TURSO_ORG: 'acme', TURSO_API_TOKEN: 'platform-token-for-tests' };

    const result = await runCli(['token', 'rotate', '--yes', '--env-file', 'app.env', '--auth-token', oldToken], { env, cwd: dir });
    expect(result.code).toBe(1);
    const saved = /the new tokens are saved in (\S+) \(mode 0600\)/.exec(result.stderr)?.[1];
    expect(saved, result.stderr).toBe(join(dir, `app.env.qbank-unsaved-${/qbank-unsaved-(\S+) \(mode/.exec(result.stderr)![1]}`));
    expect(statSync(saved!).mode & 0o777).toBe(0o600);
    const values = parseDotenv(readFileSync(saved!, 'utf8'));
    expect(await attempt(server.url, values.TURSO_AUTH_TOKEN!, 'CREATE TABLE t (x)')).toBe('ok');
    expect(await attempt(server.url, values.TURSO_AUTH_TOKEN_RO!, 'SELECT 1')).toBe('ok');
    expect(await attempt(server.url, oldToken, 'SELECT 1')).toBe(401);
    expect(result.stderr).toContain('token rotation stopped at step 4 of 4 (write app.env)');
    expectNoSecrets(result, [values.TURSO_AUTH_TOKEN!, values.TURSO_AUTH_TOKEN_RO!, oldToken]);
  });
});
