import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertUsableToken } from '../src/config.js';
import { runCli, tempDir } from './support/cli.js';
import { createTestDatabase, MODES, type TestDatabase } from './support/modes.js';

/*
 * Tokens are checked where they come in: a line break, a control character or a non-ASCII
 * character is refused with the token's source named and the token never echoed.
 */

const SECRET = 'eyJhbGciOiJFZERTQSJ9.eyJhIjoicncifQ.c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ';

describe('assertUsableToken', () => {
  const cases: Array<[string, RegExp]> = [
    [`abc\n${SECRET}`, /contains a line break/],
    [`${SECRET}\r`, /contains a line break/],
    [`${SECRET}\u0000`, /contains a control character \(U\+0000\)/],
    [`${SECRET}\t`, /contains a control character \(U\+0009\)/],
    [`${SECRET}\u007f`, /contains a control character \(U\+007F\)/],
    [`${SECRET}é`, /contains a non-ASCII character/],
    [`${SECRET}\u00a0`, /contains a non-ASCII character/],
    [`Bearer ${SECRET}`, /contains a space/],
  ];
  for (const [token, problem] of cases) {
    it(`refuses ${JSON.stringify(token.replace(SECRET, 'TOKEN'))} without echoing it`, () => {
      let message = '';
      try {
        assertUsableToken(token, 'TURSO_AUTH_TOKEN in .env');
      } catch (error) {
        message = (error as Error).message + String((error as { hint?: string }).hint);
        expect((error as { exitCode: number }).exitCode).toBe(2);
      }
      expect(message).toMatch(/^the auth token from TURSO_AUTH_TOKEN in \.env contains /);
      expect(message).toMatch(problem);
      expect(message).not.toContain(SECRET);
    });
  }

  it('accepts a JWT and other printable ASCII', () => {
    expect(() => assertUsableToken(SECRET, '--auth-token')).not.toThrow();
    expect(() => assertUsableToken('opaque-token_value~1.2', '--auth-token')).not.toThrow();
  });
});

describe('a broken token is refused where it came from, never printed', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const url = 'http://127.0.0.1:9';

  async function expectRefused(args: string[], env: Record<string, string>, message: string) {
    for (const json of [false, true]) {
      const result = await runCli(json ? [...args, '--json'] : args, { env, cwd: dir.path });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr + result.stdout).toContain(message);
      expect(result.stderr + result.stdout).not.toContain('c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ');
      expect(result.stderr + result.stdout).not.toMatch(/Headers\.set|invalid header/);
    }
  }

  it('from --auth-token', async () => {
    await expectRefused(['db', 'status', '--url', url, '--auth-token', `abc\n${SECRET}`], {}, 'the auth token from --auth-token contains a line break');
  });

  it('from TURSO_AUTH_TOKEN in the environment', async () => {
    await expectRefused(['db', 'status'], { TURSO_DATABASE_URL: url, TURSO_AUTH_TOKEN: `${SECRET}\n` }, 'the auth token from $TURSO_AUTH_TOKEN contains a line break');
  });

  it('from TURSO_AUTH_TOKEN in .env (a quoted value with \\n)', async () => {
    writeFileSync(join(dir.path, '.env'), `TURSO_DATABASE_URL=${url}\nTURSO_AUTH_TOKEN="abc\\n${SECRET}"\n`);
    await expectRefused(['db', 'push', '--schema', 'pingtopass'], {}, 'the auth token from TURSO_AUTH_TOKEN in .env contains a line break');
  });

  it('from TURSO_AUTH_TOKEN_RO in .env.local for a reading command', async () => {
    writeFileSync(join(dir.path, '.env.local'), `TURSO_DATABASE_URL=${url}\nTURSO_AUTH_TOKEN_RO="${SECRET}é"\n`);
    await expectRefused(['db', 'status'], {}, 'the auth token from TURSO_AUTH_TOKEN_RO in .env.local contains a non-ASCII character');
  });

  it("from a target's variable", async () => {
    writeFileSync(join(dir.path, 'qbank.config.json'), JSON.stringify({ targets: { prod: { urlEnv: 'PROD_URL', authTokenEnv: 'PROD_TOKEN' } } }));
    await expectRefused(['--target', 'prod', 'db', 'status'], { PROD_URL: url, PROD_TOKEN: `abc\u0001${SECRET}` }, 'the auth token from $PROD_TOKEN (target prod) contains a control character (U+0001)');
  });

  it('a token in a file: URL never reaches the printed URL', async () => {
    expect((await runCli(['db', 'push', '--schema', 'pingtopass', '--url', 'file:x.db'], { cwd: dir.path })).code).toBe(0);
    const result = await runCli(['db', 'status', '--json', '--url', `file:x.db?authToken=${SECRET}`], { cwd: dir.path });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().connection.url).toBe(`file:${join(dir.path, 'x.db')}`);
    expect(result.stdout + result.stderr).not.toContain('c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ');
  });
});

describe.each(MODES)('errors name the credential used (%s)', (mode) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase(mode);
  });
  afterEach(() => t.close());

  it.runIf(mode === 'remote')('with no token at all, says none is configured', async () => {
    const result = await runCli(['db', 'status'], { env: { TURSO_DATABASE_URL: t.url }, cwd: t.dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/requires an auth token, and none is configured/);
    expect(result.stderr).toMatch(/set TURSO_AUTH_TOKEN/);
    expect(result.stderr).not.toMatch(/expired/);
  });

  it.runIf(mode === 'remote')('a rejected read-only token is named with its file', async () => {
    const { generateEd25519KeyPair, signToken } = await import('../src/auth/jwt.js');
    const stranger = signToken({ a: 'ro' }, generateEd25519KeyPair().privateKey);
    writeFileSync(join(t.dir, '.env.local'), `TURSO_DATABASE_URL=${t.url}\nTURSO_AUTH_TOKEN=${t.authToken}\nTURSO_AUTH_TOKEN_RO=${stranger}\n`);
    const result = await runCli(['db', 'status'], { cwd: t.dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`the auth token from TURSO_AUTH_TOKEN_RO in .env.local was rejected by ${t.url}`);
    expect(result.stderr).toMatch(/hint: check TURSO_AUTH_TOKEN_RO in \.env\.local/);
    expect(result.stderr + result.stdout).not.toContain(stranger);
  });

  it.runIf(mode === 'remote')("a target's token is named by its variable", async () => {
    writeFileSync(join(t.dir, 'qbank.config.json'), JSON.stringify({ targets: { prod: { urlEnv: 'PROD_URL', authTokenEnv: 'PROD_TOKEN' } } }));
    const result = await runCli(['db', 'push', '--target', 'prod', '--schema', 'pingtopass'], { env: { PROD_URL: t.url, PROD_TOKEN: 'not-a-jwt-but-printable' }, cwd: t.dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('the auth token from $PROD_TOKEN (target prod) was rejected');
  });

  it.runIf(mode === 'remote')('a read-only token refused for a write names where it came from', async () => {
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir })).code).toBe(0);
    const result = await runCli(['review', 'approve', 'q_1', '--schema', 'pingtopass', '--reviewer', 'x'], {
      env: { TURSO_DATABASE_URL: t.url, TURSO_AUTH_TOKEN: t.readOnlyToken! },
      cwd: t.dir,
    });
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/hint: the token from \$TURSO_AUTH_TOKEN is read-only; set TURSO_AUTH_TOKEN to a read-write token/);
  });

  it('status says which credential was used', async () => {
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir })).code).toBe(0);
    const result = await runCli(['db', 'status', '--json'], { env: t.env, cwd: t.dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().connection.credentials).toBe(mode === 'remote' ? 'read-write' : 'none');
  });
});
