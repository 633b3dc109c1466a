import { createClient } from '@libsql/client';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeToken, generateEd25519KeyPair, signToken } from '../src/auth/jwt.js';
import { parseDotenv } from '../src/config.js';
import { runCli, type CliResult } from './support/cli.js';
import { startLibsqlServer } from './support/libsql-server.js';
import { startTestbed, type Testbed } from './support/testbed.js';
import { attempt } from './support/attempt.js';
import { cleanupAfterEach } from './support/cleanups.js';

const cleanups = cleanupAfterEach();
const workDir = () => cleanups.workDir();
const testbed = async (): Promise<Testbed> => cleanups.closing(await startTestbed({ replicas: 0 }));


const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;

function expectNoJwt(result: CliResult): void {
  expect(result.stdout).not.toMatch(JWT);
  expect(result.stderr).not.toMatch(JWT);
}

describe('qbank token create', () => {
  it('needs --show or --env-file, and checks the expiration, before calling the API', async () => {
    const bed = await testbed();
    const nowhere = await runCli(['token', 'create'], { env: bed.env, cwd: workDir() });
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('it is printed only with --show, or written with --env-file FILE');
    const badExpiration = await runCli(['token', 'create', '--show', '--expiration', '7x'], { env: bed.env, cwd: workDir() });
    expect(badExpiration.code).toBe(2);
    expect(badExpiration.stderr).toContain('--expiration: "7x" is not a duration');
    expect(bed.platform.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('writes a read-only token into a new env file with mode 0600, printing no token', async () => {
    const bed = await testbed();
    const dir = workDir();
    const result = await runCli(['token', 'create', '--read-only', '--expiration', '7d', '--env-file', 'prod.env'], { env: bed.env, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expectNoJwt(result);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('created a read-only database token for database "qbank" (expiration: 7d)');
    const path = join(dir, 'prod.env');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const token = parseDotenv(readFileSync(path, 'utf8')).TURSO_AUTH_TOKEN_RO!;
    const claims = decodeToken(token).claims;
    expect(claims.a).toBe('ro');
    expect(claims.exp! - claims.iat!).toBe(7 * 86_400);
    expect(await attempt(bed.primary.url, token, 'SELECT 1')).toBe('ok');
    expect(await attempt(bed.primary.url, token, 'CREATE TABLE t (x)')).toBe(403);
  });

  it('prints exactly the token with --show, so it can be piped, and includes it in JSON only with --show', async () => {
    const bed = await testbed();
    // Without the configured tokens: a token minted in the same second with the same claims is the same text, which the output hides as a known secret.
    const { TURSO_AUTH_TOKEN: _rw, TURSO_AUTH_TOKEN_RO: _ro, ...platformOnly } = bed.env;
    const shown = await runCli(['token', 'create', '--show'], { env: platformOnly, cwd: workDir() });
    expect(shown.code).toBe(0);
    const token = shown.stdout.trim();
    expect(shown.stdout).toBe(`${token}\n`);
    expect(await attempt(bed.primary.url, token, 'CREATE TABLE t (x)'), shown.stdout + shown.stderr).toBe('ok');
    expect(shown.stderr).not.toContain(token);

    const json = await runCli(['token', 'create', '--json', '--env-file', '.env'], { env: bed.env, cwd: workDir() });
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({ database: 'qbank', role: 'read-write', scope: { kind: 'database', name: 'qbank' }, claims: { access: 'read-write', expiresAt: null } });
    expectNoJwt(json);
    const jsonShown = await runCli(['token', 'create', '--json', '--show'], { env: platformOnly, cwd: workDir() });
    expect(jsonShown.json().token).toMatch(JWT);
  });

  it('mints a group token with --group', async () => {
    const bed = await testbed();
    const result = await runCli(['token', 'create', '--group', '--show'], { env: bed.env, cwd: workDir() });
    expect(result.code).toBe(0);
    expect(decodeToken(result.stdout.trim()).claims.gid).toEqual(expect.any(String));
    expect(result.stderr).toContain('created a read-write group token for group "default"');
  });

  it('warns when the shell environment would shadow the token written to the env file', async () => {
    const bed = await testbed();
    const result = await runCli(['token', 'create', '--env-file', '.env'], { env: bed.env, cwd: workDir() });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("TURSO_AUTH_TOKEN is also set in this shell's environment");
  });
});

describe('Platform API errors', () => {
  it('explains a bad platform token, a missing setting, an unknown database and a foreign organization', async () => {
    const bed = await testbed();
    const cases: Array<[Record<string, string>, string[], number, string]> = [
      [{ TURSO_API_TOKEN: 'not-the-token' }, [], 4, 'platform API token invalid or expired'],
      [{ TURSO_ORG: '' }, [], 2, 'the Turso Platform API is not configured: TURSO_ORG is not set'],
      [{}, ['--db', 'missing-db'], 2, 'database "missing-db" not found in organization "qbank-local"'],
      [{ TURSO_ORG: 'someone-else' }, [], 4, 'you are not a member of organization someone-else'],
      [{ TURSO_API_URL: 'http://api.example.com' }, [], 2, 'TURSO_API_URL: http:// would send the auth token in clear text to api.example.com'],
    ];
    for (const [override, flags, code, message] of cases) {
      const result = await runCli(['token', 'create', '--show', ...flags], { env: { ...bed.env, ...override }, cwd: workDir() });
      expect(result.code, `${message}\n${result.stderr}`).toBe(code);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe('');
      expect(result.stderr).not.toContain(bed.apiToken);
    }
  });

  it('never prints credentials from TURSO_API_URL or a broken platform token, in errors or --debug lines', async () => {
    const bed = await testbed();
    const cases: Array<[Record<string, string>, string]> = [
      [{ TURSO_API_URL: 'http://user:SECRET-PASS-123@127.0.0.1:9' }, 'TURSO_API_URL: a user name or password in the URL'],
      [{ TURSO_API_URL: `${bed.env.TURSO_API_URL}/?token=SECRET-QUERY-123` }, 'TURSO_API_URL: a query string'],
      [{ TURSO_API_URL: 'https://api.example.com:99999/?token=SECRET-QUERY-123' }, 'TURSO_API_URL:'],
      [{ TURSO_API_TOKEN: 'abc\nSECRET-LINE-123' }, 'TURSO_API_TOKEN contains a line break'],
    ];
    for (const [override, message] of cases) {
      for (const args of [['token', 'create', '--show', '--debug'], ['--debug', 'replica', 'status', '--json']]) {
        const result = await runCli(args, { env: { ...bed.env, ...override }, cwd: workDir() });
        expect(result.code, `${args.join(' ')} ${message}\n${result.stderr}`).toBe(2);
        expect(result.stdout + result.stderr).toContain(message);
        expect(result.stdout + result.stderr).not.toMatch(/SECRET/);
      }
    }
  });

  it('says which database URL matched nothing and lists the organization’s databases', async () => {
    const bed = await testbed();
    const { QBANK_DB: _name, ...env } = bed.env;
    const result = await runCli(['token', 'create', '--show'], { env: { ...env, TURSO_DATABASE_URL: 'libsql://elsewhere-acme.turso.io' }, cwd: workDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no database of organization "qbank-local" has the hostname of elsewhere-acme.turso.io');
    expect(result.stderr).toContain('the organization has: qbank');
  });

  it('maps 404 and 409 answers to clear messages and exit codes', async () => {
    const bed = await testbed();
    bed.platform.setFault({ method: 'POST', path: /\/auth\/tokens$/, status: 404, body: { error: 'could not find database with name qbank: record not found' } });
    const notFound = await runCli(['token', 'create', '--show'], { env: bed.env, cwd: workDir() });
    expect(notFound.code).toBe(2);
    expect(notFound.stderr).toContain('database "qbank" not found in organization "qbank-local": could not find database with name qbank');

    bed.platform.setFault({ method: 'POST', path: /\/auth\/tokens$/, status: 409, body: { error: 'a token operation is in progress', code: 'conflict' } });
    const conflict = await runCli(['token', 'create', '--show'], { env: bed.env, cwd: workDir() });
    expect(conflict.code).toBe(5);
    expect(conflict.stderr).toContain('conflict when trying to create a full-access token expiring in "never" for database "qbank": a token operation is in progress');
  });

  it('retries a read after a 503 and logs requests with --debug, tokens redacted', async () => {
    const bed = await testbed();
    bed.platform.setFault({ method: 'GET', path: `/v1/organizations/${bed.org}/databases/qbank`, status: 503 });
    const result = await runCli(['token', 'create', '--show', '--debug'], { env: bed.env, cwd: workDir() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/platform-api retrying GET \/v1\/organizations\/qbank-local\/databases\/qbank in \d+ ms \(status 503/);
    expect(result.stderr).toMatch(/platform-api → GET \S+\/databases\/qbank \(attempt 1\/4\)/);
    expect(result.stderr).not.toContain(bed.apiToken);
    expect(result.stderr).not.toMatch(JWT);
  });
});

describe('qbank token verify', () => {
  it('shows claims and what each configured token can really do', async () => {
    const bed = await testbed();
    const result = await runCli(['token', 'verify'], { env: bed.env, cwd: workDir() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/TURSO_AUTH_TOKEN\s+read-write\s+read-write, never expires\s+accepted\s+yes\s+yes\s+ok/);
    expect(result.stdout).toMatch(/TURSO_AUTH_TOKEN_RO\s+read-only\s+read-only, never expires\s+accepted\s+yes\s+no\s+ok/);
    expectNoJwt(result);
    const json = await runCli(['token', 'verify', '--json'], { env: bed.env, cwd: workDir() });
    expect(json.json()).toMatchObject({ ok: true, tokens: [{ source: 'TURSO_AUTH_TOKEN', access: { canWrite: true } }, { source: 'TURSO_AUTH_TOKEN_RO', access: { canWrite: false } }] });
  });

  it('fails (exit 6) for a rejected token, an expired one and a read-only token where a read-write one belongs', async () => {
    const bed = await testbed();
    const stranger = signToken({ a: 'rw' }, generateEd25519KeyPair().privateKey);
    const rejected = await runCli(['token', 'verify'], { env: { ...bed.env, TURSO_AUTH_TOKEN: stranger }, cwd: workDir() });
    expect(rejected.code).toBe(6);
    expect(rejected.stderr).toContain('TURSO_AUTH_TOKEN: the server rejects it (Unauthorized: `The JWT is invalid`)');

    const expired = bed.platform.mintToken('qbank', { expiresInSeconds: -3600 });
    const old = await runCli(['token', 'verify'], { env: { ...bed.env, TURSO_AUTH_TOKEN: expired }, cwd: workDir() });
    expect(old.code).toBe(6);
    expect(old.stdout).toMatch(/TURSO_AUTH_TOKEN\s+read-write\s+read-write, expired \d{4}-/);
    expect(old.stderr).toContain('The JWT has expired');

    const swapped = await runCli(['token', 'verify'], { env: { ...bed.env, TURSO_AUTH_TOKEN: bed.readOnlyToken }, cwd: workDir() });
    expect(swapped.code).toBe(6);
    expect(swapped.stderr).toContain('TURSO_AUTH_TOKEN: it cannot write');
    expect(swapped.stderr).toContain('its claims say read-only, but TURSO_AUTH_TOKEN should hold a read-write token');
  });

  it('names where a failing token came from', async () => {
    const bed = await testbed();
    const dir = workDir();
    const { TURSO_AUTH_TOKEN: _rw, TURSO_AUTH_TOKEN_RO: _ro, ...env } = bed.env;
    writeFileSync(join(dir, '.env.local'), `TURSO_AUTH_TOKEN=${signToken({ a: 'rw' }, generateEd25519KeyPair().privateKey)}\n`);
    const result = await runCli(['token', 'verify'], { env, cwd: dir });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('TURSO_AUTH_TOKEN in .env.local: the server rejects it');
    const json = await runCli(['token', 'verify', '--json'], { env, cwd: dir });
    expect(json.json().tokens[0]).toMatchObject({ source: 'TURSO_AUTH_TOKEN', from: 'TURSO_AUTH_TOKEN in .env.local', ok: false });
  });

  it('says when an expired token is still accepted within the server\'s grace, and fails under --check', async () => {
    const bed = await testbed();
    const lapsed = bed.platform.mintToken('qbank', { expiresInSeconds: -10 });
    const env = { ...bed.env, TURSO_AUTH_TOKEN: lapsed };
    const plain = await runCli(['token', 'verify'], { env, cwd: workDir() });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/TURSO_AUTH_TOKEN\s+read-write\s+read-write, expired \d{4}-\S+\s+accepted\s+yes\s+yes\s+grace/);
    expect(plain.stderr).toMatch(/TURSO_AUTH_TOKEN: expired at \d{4}-\d\d-\d\dT\S+Z, still accepted for (4\d|50) s/);
    expect(plain.stderr).not.toContain('every configured token does what it should');

    for (const args of [['token', 'verify', '--check'], ['--json', 'token', 'verify', '--check']]) {
      const checked = await runCli(args, { env, cwd: workDir() });
      expect(checked.code, checked.stderr).toBe(6);
      expect(checked.stdout + checked.stderr).toMatch(/expired at \S+, still accepted for \d+ s/);
    }
    const json = await runCli(['token', 'verify', '--json'], { env, cwd: workDir() });
    expect(json.json().tokens[0]).toMatchObject({ source: 'TURSO_AUTH_TOKEN', ok: true, grace: { expiredAt: expect.any(String), acceptedForSeconds: expect.any(Number) } });
    expectNoJwt(json);
  });

  it('catches a server that lets a read-only token write', async () => {
    const dir = workDir();
    const server = await startLibsqlServer({ dbPath: join(dir, 'open.db') });
    cleanups.push(() => server.close());
    const readOnly = signToken({ a: 'ro' }, generateEd25519KeyPair().privateKey);
    const result = await runCli(['token', 'verify'], { env: { TURSO_DATABASE_URL: server.url, TURSO_AUTH_TOKEN_RO: readOnly }, cwd: dir });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('TURSO_AUTH_TOKEN_RO: it can write although it is meant to be read-only');
    // The write probe was rolled back.
    const client = createClient({ url: server.url });
    expect((await client.execute("SELECT count(*) AS n FROM sqlite_schema WHERE name LIKE '_qbank_token_probe_%'")).rows[0]!.n).toBe(0);
    client.close();
  });

  it('sends no token in clear text to a host that is not loopback, however plain text is asked for', async () => {
    for (const url of ['libsql://10.255.255.1:8080?tls=0', 'http://10.255.255.1:8080', 'ws://10.255.255.1:8080']) {
      for (const args of [['token', 'verify', '--url', url], ['--url', url, 'token', 'verify', '--check']]) {
        const result = await runCli(args, { env: { TURSO_AUTH_TOKEN: 'abcdefgh.ijklmnop.qrstuvwx' }, cwd: workDir() });
        expect(result.code, `${url}\n${result.stderr}`).toBe(2);
        expect(result.stderr).toContain('clear text');
        expect(result.stderr).not.toContain('qrstuvwx');
      }
    }
  });

  it('refuses a file: database, which takes no token', async () => {
    const dir = workDir();
    writeFileSync(join(dir, '.env'), `TURSO_DATABASE_URL=file:${join(dir, 'x.db')}\nTURSO_AUTH_TOKEN=abc\n`);
    const result = await runCli(['token', 'verify'], { env: {}, cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('token verify needs a remote database');
  });
});
