import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

/* --debug: one line per request with host, statements, status or cause, time; no secrets. */

describe('--debug lines', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('remote');
    expect((await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir })).code).toBe(0);
  });
  afterEach(() => t.close());

  const host = () => new URL(t.url).host;

  for (const args of [
    ['db', 'status', '--debug'],
    ['--debug', 'db', 'status'],
  ]) {
    it(`show host, path, statements, status and baton: qbank ${args.join(' ')}`, async () => {
      const result = await runCli(args, { env: t.env, cwd: t.dir });
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stderr.split('\n').filter((line) => line.includes('debug: POST'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines[0]).toContain(`POST ${host()}/v`);
      expect(result.stderr).toMatch(/debug: POST \S+\/pipeline \[\d+ statements?, first "[^"]+"(, [\d.]+ (B|kB))/);
      expect(result.stderr).toMatch(/-> 200( \[baton [^\]]+\])? \(\d+ ms\)/);
      expect(result.stderr).not.toContain(t.authToken!);
    });
  }

  it('say when TLS is spoken to a plain-HTTP server, in the debug line and the error', async () => {
    const tlsUrl = t.url.replace(/^http:/, 'https:');
    const result = await runCli(['db', 'status', '--debug', '--url', tlsUrl], { env: { TURSO_AUTH_TOKEN: t.authToken! }, cwd: t.dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`debug: \\S+ ${host().replace(/\./g, '\\.')}\\S* .*-> failed: TLS spoken to a plain-HTTP server`));
    expect(result.stderr).toMatch(/error: cannot reach https:\/\/\S+: TLS spoken to a plain-HTTP server/);
    expect(result.stderr).not.toContain(t.authToken!);
  });

  it('say when nothing listens', async () => {
    await t.server!.close();
    const result = await runCli(['db', 'status', '--debug'], { env: t.env, cwd: t.dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/-> failed: connection refused \(ECONNREFUSED\)/);
  });
});
