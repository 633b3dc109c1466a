import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
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
