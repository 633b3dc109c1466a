import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDotenv } from '../src/config.js';
import { applyEnvUpdates, checkEnvFileWritable, updateEnvFile } from '../src/turso/env-file.js';
import { tempDir } from './support/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function workDir(): string {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  return dir.path;
}

describe('applyEnvUpdates', () => {
  it('replaces the keys in place and keeps every other line byte for byte', () => {
    const original = [
      '# Turso',
      'TURSO_DATABASE_URL="libsql://db-org.turso.io"',
      'TURSO_AUTH_TOKEN=old-rw',
      '',
      '  # indented comment',
      'export TURSO_AUTH_TOKEN_RO=\'old-ro\'',
      'OTHER = spaced # comment',
      '',
    ].join('\n');
    const { text, replaced, added } = applyEnvUpdates(original, { TURSO_AUTH_TOKEN: 'new.rw.token', TURSO_AUTH_TOKEN_RO: 'new.ro.token' });
    expect(text).toBe(
      [
        '# Turso',
        'TURSO_DATABASE_URL="libsql://db-org.turso.io"',
        'TURSO_AUTH_TOKEN=new.rw.token',
        '',
        '  # indented comment',
        'export TURSO_AUTH_TOKEN_RO=new.ro.token',
        'OTHER = spaced # comment',
        '',
      ].join('\n'),
    );
    expect(replaced).toEqual(['TURSO_AUTH_TOKEN', 'TURSO_AUTH_TOKEN_RO']);
    expect(added).toEqual([]);
  });

  it('appends missing keys, adds a final newline, and keeps CRLF line endings', () => {
    expect(applyEnvUpdates('A=1', { B: 'two' }).text).toBe('A=1\nB=two\n');
    expect(applyEnvUpdates('A=1\r\nC=3\r\n', { C: 'x', D: 'y' }).text).toBe('A=1\r\nC=x\r\nD=y\r\n');
    expect(applyEnvUpdates('', { A: 'a' }).text).toBe('A=a\n');
  });

  it('replaces a multi-line quoted value whole, every duplicate of the key, and leaves commented-out lines', () => {
    const original = 'KEY="line one\nline two"\n# KEY=commented\nKEY=dup\nNEXT=1\n';
    const { text } = applyEnvUpdates(original, { KEY: 'v' });
    expect(text).toBe('KEY=v\n# KEY=commented\nKEY=v\nNEXT=1\n');
    expect(parseDotenv(text)).toEqual({ KEY: 'v', NEXT: '1' });
  });

  it('quotes values that need it so dotenv reads back the same value', () => {
    const { text } = applyEnvUpdates('', { A: 'has space', B: 'quote"and\\slash' });
    expect(parseDotenv(text).A).toBe('has space');
    expect(text).toContain('B="quote\\"and\\\\slash"');
  });
});

describe('updateEnvFile', () => {
  it('writes through a temp file and a rename, with mode 0600, leaving no temp file', async () => {
    const dir = workDir();
    const path = join(dir, '.env');
    writeFileSync(path, '# keep\nA=1\n', { mode: 0o644 });
    const update = await updateEnvFile(path, { TURSO_AUTH_TOKEN: 'abc' });
    expect(update).toEqual({ path, created: false, replaced: [], added: ['TURSO_AUTH_TOKEN'] });
    expect(readFileSync(path, 'utf8')).toBe('# keep\nA=1\nTURSO_AUTH_TOKEN=abc\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['.env']);
  });

  it('creates a missing file with mode 0600', async () => {
    const dir = workDir();
    const update = await updateEnvFile(join(dir, 'new.env'), { K: 'v' });
    expect(update.created).toBe(true);
    expect(statSync(join(dir, 'new.env')).mode & 0o777).toBe(0o600);
  });

  it('updates the target of a symlinked env file and keeps the link', async () => {
    const dir = workDir();
    writeFileSync(join(dir, 'real.env'), 'K=old\n');
    symlinkSync('real.env', join(dir, '.env'));
    await updateEnvFile(join(dir, '.env'), { K: 'new' });
    expect(lstatSync(join(dir, '.env')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real.env'), 'utf8')).toBe('K=new\n');
  });

  it('is checked for writability before anything irreversible happens', async () => {
    const dir = workDir();
    await expect(checkEnvFileWritable(join(dir, '.env'))).resolves.toBeUndefined();
    await expect(checkEnvFileWritable(join(dir, 'no-such-dir', '.env'))).rejects.toThrow(/cannot write the env file .*: ENOENT/);
  });
});
