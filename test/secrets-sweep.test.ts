import type { Command } from 'commander';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, generateEd25519KeyPair } from '../src/auth/jwt.js';
import { buildProgram } from '../src/cli.js';
import { CommandContext } from '../src/commands/context.js';
import { collectSecrets, redactSecrets, TOKEN_PATTERN } from '../src/output/redact.js';
import type { IO } from '../src/output/io.js';
import { runCli, tempDir } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

/**
 * Secrets never reach output. Every command runs with secrets planted everywhere qbank reads them
 * (environment, .env, .env.local, a target's variables, flags, credentials inside URLs), through its
 * error paths (unreachable server, rejected token, bad URL, bad arguments, --debug, --json), and
 * neither stdout nor stderr may contain any planted value.
 */

const keys = generateEd25519KeyPair();
const jwt = (label: string) => signToken({ a: 'rw', label } as never, keys.privateKey);

const PLANTED = {
  envToken: jwt('env-token'),
  envReadOnly: 'plain-readonly-secret-4b1d9c',
  apiToken: 'qbank-testbed-5f0c2a7e9d1b4c36a8e2f7d09b1c4e5a',
  apiUrlPassword: 'apiurl-password-9e8d7c',
  apiUrlQuery: 'apiurl-query-token-1a2b3c',
  dotenvToken: jwt('dotenv'),
  dotenvLocalToken: 'dotenv-local-secret-77aa88bb',
  targetToken: 'target-variable-secret-c0ffee42',
  flagToken: 'flag-auth-token-secret-d00dfeed',
  urlToken: 'url-authtoken-secret-0badf00d',
  typoToken: jwt('typo'),
  lineBreakTail: 'after-the-line-break-secret-31337',
};

function silentIO(): IO {
  const sink = () => new PassThrough().resume();
  return { stdin: new PassThrough(), stdout: sink(), stderr: sink(), stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {}, cwd: process.cwd(), now: () => new Date() };
}

function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((child) => allCommands(child))];
}

/** Each command that runs something, with placeholder arguments and the options it cannot run without. */
function commandLines(): string[][] {
  const program = buildProgram(new CommandContext(silentIO()));
  return allCommands(program)
    .filter((command) => Boolean((command as unknown as { _actionHandler: unknown })._actionHandler))
    .map((command) => {
      const path: string[] = [];
      for (let current: Command | null = command; current?.parent; current = current.parent) path.unshift(current.name());
      const args = command.registeredArguments.filter((argument) => argument.required).map((argument) => (argument.name().includes('file') ? 'missing-file.csv' : 'x1'));
      const mandatory = command.options.filter((option) => option.mandatory).flatMap((option) => [option.long!, '{}']);
      return [...path, ...args, ...mandatory];
    });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function expectNoSecret(output: string, label: string): void {
  for (const [name, value] of Object.entries(PLANTED)) {
    expect(output.includes(value), `${label}: ${name} printed:\n${output}`).toBe(false);
  }
}

const COMMANDS = commandLines();

describe('redactSecrets: one pattern for every token shape qbank handles', () => {
  it.each([
    ['a database token (Ed25519 JWT)', jwt('db')],
    ['a Turso Platform API token (JWT)', 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6ImFwaS10b2tlbiJ9.c2lnbmF0dXJlLWJ5dGVz'],
    ['a token with no padding and short segments', 'eyJhbGciOiJFZERTQSJ9.e30.AA'],
  ])('%s', (_name, token) => {
    expect(redactSecrets(`error: rejected ${token} (expired?)`)).toBe('error: rejected *** (expired?)');
  });

  it('a bearer credential of any token shape, but not a code example', () => {
    expect(redactSecrets('authorization: Bearer qbank-testbed-0123456789abcdef')).toBe('authorization: Bearer ***');
    expect(redactSecrets('Headers.set: "Bearer abc after-the-line-break-secret-31337" is an invalid header value', [`abc\n${PLANTED.lineBreakTail}`])).toBe(
      'Headers.set: "Bearer abc ***" is an invalid header value',
    );
    expect(redactSecrets('fetch(url, { headers: { Authorization: `Bearer ${token}` } })')).toBe('fetch(url, { headers: { Authorization: `Bearer ${token}` } })');
  });

  it('a self-hosted private key (PEM)', () => {
    const pem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const text = redactSecrets(`could not read key:\n${pem}`);
    expect(text).toBe('could not read key:\n***\n');
    expect(TOKEN_PATTERN.test('MCowBQYDK2VwAyEA')).toBe(false);
  });

  it('known values of any shape, and each line of one with a line break', () => {
    expect(redactSecrets('sent plain-readonly-secret-4b1d9c to x', [PLANTED.envReadOnly])).toBe('sent *** to x');
    expect(redactSecrets('word short', ['short'])).toBe('word short');
  });
});

describe('collectSecrets: every place a secret can come from', () => {
  it('environment, .env, .env.local, --env-file, target variables, token flags and URL credentials', () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, '.env'), `TURSO_AUTH_TOKEN=${PLANTED.dotenvToken}\n`);
      writeFileSync(join(dir.path, '.env.local'), `TURSO_AUTH_TOKEN_RO=${PLANTED.dotenvLocalToken}\n`);
      writeFileSync(join(dir.path, 'prod.env'), `NOTE="first line\nTURSO_AUTH_TOKEN=${PLANTED.envReadOnly}"\nPROD_TOKEN=${PLANTED.apiToken}\n`);
      writeFileSync(join(dir.path, 'qbank.config.json'), JSON.stringify({ targets: { prod: { urlEnv: 'PROD_URL', authTokenEnv: 'PROD_DB_KEY' } } }));
      const found = collectSecrets({
        argv: ['token', 'rotate', '--env-file', 'prod.env', `--auth-token=${PLANTED.flagToken}`, '--url', `libsql://db.example.com?authToken=${PLANTED.urlToken}`],
        env: {
          PROD_DB_KEY: PLANTED.targetToken,
          TURSO_API_URL: `https://qbank:${PLANTED.apiUrlPassword}@api.example.com/?token=${PLANTED.apiUrlQuery}`,
          TURSO_API_TOKEN: `abc\n${PLANTED.lineBreakTail}`,
          HOME: '/home/someone-with-a-long-name',
        },
        cwd: dir.path,
      });
      for (const name of ['dotenvToken', 'dotenvLocalToken', 'apiToken', 'targetToken', 'flagToken', 'urlToken', 'apiUrlPassword', 'apiUrlQuery', 'lineBreakTail'] as const) {
        expect(found, name).toContain(PLANTED[name]);
      }
      expect(found).not.toContain('/home/someone-with-a-long-name');
    } finally {
      dir.remove();
    }
  });
});

describe('no command prints a planted secret, whatever fails', () => {
  const dir = tempDir();
  let port: number;
  let remote: TestDatabase;
  beforeAll(async () => {
    port = await closedPort();
    remote = await createTestDatabase('remote');
    writeFileSync(join(dir.path, '.env'), `TURSO_AUTH_TOKEN=${PLANTED.dotenvToken}\n`);
    writeFileSync(join(dir.path, '.env.local'), `TURSO_AUTH_TOKEN_RO=${PLANTED.dotenvLocalToken}\n`);
    writeFileSync(
      join(dir.path, 'qbank.config.json'),
      JSON.stringify({ targets: { prod: { urlEnv: 'PROD_URL', authTokenEnv: 'PROD_TOKEN', schema: 'pingtopass' } } }),
    );
  });
  afterAll(async () => {
    await remote.close();
    dir.remove();
  });

  const scenarios: Array<{ name: string; args: () => string[]; env: () => Record<string, string> }> = [
    {
      name: 'environment, server unreachable, --debug',
      args: () => ['--debug'],
      env: () => ({
        TURSO_DATABASE_URL: `http://127.0.0.1:${port}`,
        TURSO_AUTH_TOKEN: PLANTED.envToken,
        TURSO_AUTH_TOKEN_RO: PLANTED.envReadOnly,
        TURSO_API_TOKEN: PLANTED.apiToken,
        TURSO_API_URL: `http://qbank:${PLANTED.apiUrlPassword}@127.0.0.1:${port}/?token=${PLANTED.apiUrlQuery}`,
        TURSO_ORG: 'acme',
        QBANK_DB: 'qbank',
        QBANK_TIMEOUT_MS: '500',
      }),
    },
    {
      name: '.env, .env.local and a target variable, server unreachable, --json',
      args: () => ['--target', 'prod', '--json'],
      env: () => ({ PROD_URL: `http://127.0.0.1:${port}`, PROD_TOKEN: PLANTED.targetToken, QBANK_TIMEOUT_MS: '500' }),
    },
    {
      name: 'flags and a token in the URL, --debug --json',
      args: () => ['--auth-token', PLANTED.flagToken, '--url', `http://127.0.0.1:${port}/?authToken=${PLANTED.urlToken}`, '--debug', '--json'],
      env: () => ({ QBANK_TIMEOUT_MS: '500' }),
    },
    {
      name: 'a reachable server that rejects the token',
      args: () => ['--debug'],
      env: () => ({ TURSO_DATABASE_URL: remote.url, TURSO_AUTH_TOKEN: PLANTED.envToken, TURSO_AUTH_TOKEN_RO: PLANTED.envReadOnly }),
    },
    {
      name: 'a token with a line break',
      args: () => ['--json'],
      env: () => ({ TURSO_DATABASE_URL: remote.url, TURSO_AUTH_TOKEN: `abc\n${PLANTED.lineBreakTail}` }),
    },
    {
      name: 'a bad URL carrying a secret',
      args: () => ['--url', `libsql://user:${PLANTED.urlToken}@[bad`, '--auth-token', PLANTED.flagToken],
      env: () => ({}),
    },
    {
      name: 'a mistyped flag carrying a secret',
      args: () => [`--auth-tokn=${PLANTED.typoToken}`, '--json'],
      env: () => ({}),
    },
  ];

  // global flags after the command's words (test/cli-tree.test.ts checks they arrive from every place)
  // runs wait on refused connections and timeouts, not on the CPU: several at once
  describe.concurrent.each(scenarios.map((scenario) => [scenario.name, scenario] as const))('%s', (_name, scenario) => {
    it.each(COMMANDS.map((line) => [line.join(' '), line] as const))('qbank %s', async (_line, line) => {
      const args = [...line, ...scenario.args()];
      const result = await runCli(args, { env: scenario.env(), cwd: dir.path });
      expectNoSecret(result.stdout + '\n' + result.stderr, `qbank ${args.join(' ')} (exit ${result.code})`);
    });
  });
});
