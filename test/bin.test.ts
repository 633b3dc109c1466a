import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDotenv } from '../src/config.js';
import { runCli, tempDir } from './support/cli.js';
import { runProgram } from './support/child-cli.js';

/**
 * The documented ways to run qbank from a checkout, with a flag Node 20 would take for its own:
 * `node bin/qbank.js … --env-file F` is read by Node itself (nodejs/node#54232) and fails before
 * qbank starts when F does not exist yet (so does `npx qbank`, which runs it the same way). The
 * executable (its shebang ends Node's options with `--`), the `qbank` that `npm link` puts on the
 * PATH (a symlink to it), and `node -- bin/qbank.js` hand the flag to qbank. Needs `npm run build`.
 */

const BIN = resolve(__dirname, '..', 'bin', 'qbank.js');

const run = (command: string, args: string[], cwd: string) => runProgram(command, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME } });

describe('running qbank from a checkout with --env-file', () => {
  const dir = tempDir();
  const key = join(dir.path, 'qbank-jwt.pem');
  const linked = join(dir.path, 'global-bin', 'qbank');
  beforeAll(async () => {
    mkdirSync(dirname(linked));
    symlinkSync(BIN, linked);
    const keygen = await runCli(['token', 'keygen', '--key', key], { cwd: dir.path });
    expect(keygen.code, keygen.stderr).toBe(0);
  });
  afterAll(() => dir.remove());

  const forms: Array<[string, (envFile: string) => [string, string[], string]]> = [
    ['./bin/qbank.js (the shebang)', (envFile) => [BIN, ['token', 'mint', '--key', key, '--env-file', envFile], dir.path]],
    ['qbank after npm link (a symlink to the executable)', (envFile) => [linked, ['token', 'mint', '--key', key, '--env-file', envFile], dir.path]],
    ['node -- bin/qbank.js', (envFile) => [process.execPath, ['--', BIN, 'token', 'mint', '--key', key, '--env-file', envFile], dir.path]],
  ];

  it.each(forms)('%s token mint --env-file NEW-FILE writes the token there', async (name, form) => {
    const envFile = join(dir.path, `${name.replace(/[^a-z]+/gi, '-')}.env`);
    expect(existsSync(envFile)).toBe(false);
    const [command, args, cwd] = form(envFile);
    const result = await run(command, args, cwd);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(parseDotenv(readFileSync(envFile, 'utf8')).TURSO_AUTH_TOKEN).toMatch(/^eyJ/);
  });
});

/**
 * A finished run ends the process even when something still holds Node's event loop open (here a
 * listening socket opened before qbank starts, as a library's forgotten keep-alive connection
 * would): what it wrote still reaches a slow reader whole, and its exit status is kept.
 */
describe('a finished run ends although something holds the event loop', () => {
  const dir = tempDir();
  const hold = join(dir.path, 'hold-event-loop.mjs');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, TURSO_DATABASE_URL: `file:${join(dir.path, 'bank.db')}` };
  beforeAll(async () => {
    writeFileSync(hold, "import { createServer } from 'node:net';\ncreateServer().listen(0, '127.0.0.1');\n");
    for (const args of [['db', 'push', '--schema', 'pingtopass'], ['db', 'seed', '--schema', 'pingtopass']]) {
      const result = await runCli(args, { cwd: dir.path, env });
      expect(result.code, result.stderr).toBe(0);
    }
  });
  afterAll(() => dir.remove());

  const held = (script: string) => runProgram('bash', ['-c', script], { cwd: dir.path, env: { ...env, HOLD: hold, BIN } });

  it('--version: exit 0, and the version printed', async () => {
    const result = await held('timeout 20 node --import "$HOLD" -- "$BIN" --version; echo "status:$?"');
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\nstatus:0\n$/);
  });

  it('a listing through a reader slower than qbank: every byte arrives, exit 0; a failing command keeps its code', async () => {
    const direct = await runProgram(process.execPath, ['--', BIN, 'review', 'list', '--limit', '500', '--json'], { cwd: dir.path, env });
    expect(direct.code, direct.stderr).toBe(0);
    const slow = await held('timeout 20 node --import "$HOLD" -- "$BIN" review list --limit 500 --json | (sleep 2; cat); echo "status:${PIPESTATUS[0]}" >&2');
    expect(slow.stderr).toMatch(/status:0\n$/);
    expect(slow.stdout).toBe(direct.stdout);
    const failingDirect = await runProgram(process.execPath, ['--', BIN, 'review', 'show', 'NO-SUCH-ID'], { cwd: dir.path, env });
    expect(failingDirect.code).toBe(3);
    const failing = await held('timeout 20 node --import "$HOLD" -- "$BIN" review show NO-SUCH-ID; echo "status:$?"');
    expect(failing.stdout).toBe('status:3\n');
  });
});
