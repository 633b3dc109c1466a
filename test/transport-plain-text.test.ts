import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertSecureTransport, isLoopbackHost } from '../src/config.js';
import { transportOf } from '../src/auth/transport.js';
import { runCli, tempDir } from './support/cli.js';

/*
 * A token crosses a network only inside TLS: every spelling of plain text that @libsql/client
 * accepts is refused for hosts other than loopback, before any connection is made.
 */

const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJhIjoicncifQ.cGxhaW4tdGV4dC10ZXN0LXNpZ25hdHVyZQ';

/** Spellings the client would send in clear text, with {host} to fill. */
const PLAIN_TEXT = [
  'http://{host}:8080',
  'HTTP://{host}:8080',
  'libsql://{host}:8080?tls=0',
  'LibSQL://{host}:8080?tls=0',
  'libsql://{host}:8080?t%6Cs=0',
  'libsql://{host}:8080?tls=%30',
  'libsql://{host}:8080?tls=1&tls=0',
  'https://{host}:8080?tls=0',
  'ws://{host}:8080',
  'wss://{host}:8080?tls=0',
];

const SECURE = ['libsql://{host}', 'libsql://{host}:8080?tls=1', 'https://{host}', 'wss://{host}', 'libsql://{host}:8080?tls=0&tls=1'];

const REMOTE_HOSTS = ['db.example.com', '10.0.0.7', '[2001:db8::1]', '127.0.0.1.nip.io', 'localhost.example.com'];
const LOOPBACK_HOSTS = ['127.0.0.1', '127.8.9.10', 'localhost', '[::1]'];

describe('assertSecureTransport', () => {
  for (const spelling of PLAIN_TEXT) {
    it(`refuses ${spelling} for non-loopback hosts and accepts it for loopback`, () => {
      for (const host of REMOTE_HOSTS) {
        const url = spelling.replace('{host}', host);
        expect(transportOf(url)?.plainText, url).toBe(true);
        expect(() => assertSecureTransport(url, '--url'), url).toThrow(/^--url: .* would send the auth token in clear text/);
      }
      for (const host of LOOPBACK_HOSTS) expect(() => assertSecureTransport(spelling.replace('{host}', host), '--url')).not.toThrow();
    });
  }

  for (const spelling of SECURE) {
    it(`accepts ${spelling} for any host`, () => {
      for (const host of REMOTE_HOSTS) {
        const url = spelling.replace('{host}', host);
        expect(transportOf(url)?.plainText, url).toBe(false);
        expect(() => assertSecureTransport(url, '--url')).not.toThrow();
      }
    });
  }

  it('knows loopback from names that only look like it', () => {
    for (const host of ['127.0.0.1', '127.255.255.254', '::1', 'localhost', 'LOCALHOST', 'localhost.']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['128.0.0.1', '127.0.0.1.nip.io', 'localhost.example.com', '::2', '0.0.0.0', '127.0.0.256', undefined]) expect(isLoopbackHost(host), String(host)).toBe(false);
  });

  it('file: URLs carry no token over a network', () => {
    expect(() => assertSecureTransport('file:x.db?tls=0', '--url')).not.toThrow();
  });
});

describe('plain text refused through every source, before any request', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const url = 'libsql://db.example.com:8080?tls=0';

  async function expectRefused(args: string[], env: Record<string, string>, where: RegExp) {
    const result = await runCli([...args, '--debug'], { env, cwd: dir.path });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(where);
    expect(result.stderr).toMatch(/would send the auth token in clear text to db\.example\.com/);
    expect(result.stderr).not.toMatch(/debug: (POST|GET)/);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  }

  for (const spelling of PLAIN_TEXT) {
    const plain = spelling.replace('{host}', 'db.example.com');
    it(`--url ${plain}`, async () => {
      await expectRefused(['db', 'status', '--url', plain, '--auth-token', TOKEN], {}, /error: --url: /);
    });
  }

  it('TURSO_DATABASE_URL', async () => {
    await expectRefused(['db', 'push', '--schema', 'pingtopass'], { TURSO_DATABASE_URL: url, TURSO_AUTH_TOKEN: TOKEN }, /\$TURSO_DATABASE_URL: /);
  });

  it('TURSO_DATABASE_URL in .env', async () => {
    writeFileSync(join(dir.path, '.env'), `TURSO_DATABASE_URL=${url}\nTURSO_AUTH_TOKEN=${TOKEN}\n`);
    await expectRefused(['db', 'status'], {}, /TURSO_DATABASE_URL in \.env: /);
  });

  it('TURSO_DATABASE_URL_RO for a reading command', async () => {
    const env = { TURSO_DATABASE_URL: 'libsql://db.example.com', TURSO_DATABASE_URL_RO: url, TURSO_AUTH_TOKEN_RO: TOKEN };
    await expectRefused(['db', 'status'], env, /\$TURSO_DATABASE_URL_RO: /);
  });

  it("a target's url and urlEnv", async () => {
    writeFileSync(join(dir.path, 'qbank.config.json'), JSON.stringify({ targets: { a: { url }, b: { urlEnv: 'B_URL', authTokenEnv: 'B_TOKEN' } } }));
    await expectRefused(['--target', 'a', 'db', 'status'], { TURSO_AUTH_TOKEN: TOKEN }, /target a \(qbank\.config\.json\): /);
    await expectRefused(['db', 'status', '--target', 'b'], { B_URL: url, B_TOKEN: TOKEN }, /\$B_URL \(target b\): /);
  });

  it('loopback in plain text is accepted (the local test server)', async () => {
    const result = await runCli(['db', 'status', '--url', 'libsql://127.0.0.1:9?tls=0', '--auth-token', TOKEN], { cwd: dir.path });
    expect(result.stderr).not.toMatch(/clear text/);
    expect(result.code).toBe(4);
  });
});
