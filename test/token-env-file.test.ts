import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDotenv } from '../src/config.js';
import { applyEnvUpdates, checkEnvFileWritable, updateEnvFile, writeRecoveryFile } from '../src/turso/env-file.js';
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

  it('never edits lines inside another variable\'s quoted multi-line value', () => {
    const note = 'NOTE="how to rotate:\nTURSO_AUTH_TOKEN=x\nexport TURSO_AUTH_TOKEN_RO=y\n"';
    const single = "SQL='first\nTURSO_AUTH_TOKEN=inside single quotes'";
    const escaped = 'ESCAPED="a \\" quote\nTURSO_AUTH_TOKEN=still inside"';
    const original = `${note}\n${single}\n${escaped}\nTURSO_AUTH_TOKEN=old\n`;
    const { text, replaced, added } = applyEnvUpdates(original, { TURSO_AUTH_TOKEN: 'new', TURSO_AUTH_TOKEN_RO: 'ro' });
    expect(text).toBe(`${note}\n${single}\n${escaped}\nTURSO_AUTH_TOKEN=new\nTURSO_AUTH_TOKEN_RO=ro\n`);
    expect(replaced).toEqual(['TURSO_AUTH_TOKEN']);
    expect(added).toEqual(['TURSO_AUTH_TOKEN_RO']);
    expect(parseDotenv(text).NOTE).toBe('how to rotate:\nTURSO_AUTH_TOKEN=x\nexport TURSO_AUTH_TOKEN_RO=y\n');
  });

  it('refuses to guess where a quoted value that is never closed ends', () => {
    expect(() => applyEnvUpdates('A=1\nNOTE="open\nTURSO_AUTH_TOKEN=x\n', { TURSO_AUTH_TOKEN: 'new' })).toThrow(
      /line 2: the quoted value of NOTE is never closed/,
    );
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

  it('is checked for real before anything irreversible happens: a probe is written and synced beside it', async () => {
    const dir = workDir();
    await expect(checkEnvFileWritable(join(dir, '.env'))).resolves.toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
    await expect(checkEnvFileWritable(join(dir, 'no-such-dir', '.env'))).rejects.toThrow(/the directory .*no-such-dir does not exist/);
    await expect(checkEnvFileWritable(dir)).rejects.toThrow(/is a directory/);
    writeFileSync(join(dir, 'locked.env'), 'A=1\n', { mode: 0o444 });
    await expect(checkEnvFileWritable(join(dir, 'locked.env'))).rejects.toThrow(/locked\.env: it is read-only \(mode 0444\)/);
    writeFileSync(join(dir, 'open.env'), 'NOTE="never closed\n');
    await expect(checkEnvFileWritable(join(dir, 'open.env'))).rejects.toThrow(/line 1: the quoted value of NOTE is never closed/);
    expect(readdirSync(dir).sort()).toEqual(['locked.env', 'open.env']);
  });

  it('is refused on a full disk before anything irreversible happens (needs a small tmpfs: root only)', async (context) => {
    const dir = workDir();
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir]).status !== 0) return context.skip();
    cleanups.unshift(() => void spawnSync('umount', [dir]));
    writeFileSync(join(dir, '.env'), 'A=1\n');
    try {
      writeFileSync(join(dir, 'filler'), Buffer.alloc(64 * 1024));
    } catch {
      // the device is full now, as intended
    }
    await expect(checkEnvFileWritable(join(dir, '.env'))).rejects.toThrow(/a test write beside it failed \(no space left on the device\)/);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('A=1\n');
    expect(readdirSync(dir).sort()).toEqual(['.env', 'filler']);
  });

  it('keeps tokens it could not write recoverable: a new 0600 file beside the target, never an existing one', async () => {
    const dir = workDir();
    const first = await writeRecoveryFile(join(dir, '.env'), { TURSO_AUTH_TOKEN: 'a.b.c' }, new Date('2026-01-02T03:04:05Z'));
    const second = await writeRecoveryFile(join(dir, '.env'), { TURSO_AUTH_TOKEN: 'd.e.f' }, new Date('2026-01-02T03:04:05Z'));
    expect(first).toBe(join(dir, '.env.qbank-unsaved-20260102T030405Z'));
    expect(second).not.toBe(first);
    expect(statSync(first).mode & 0o777).toBe(0o600);
    expect(parseDotenv(readFileSync(first, 'utf8'))).toEqual({ TURSO_AUTH_TOKEN: 'a.b.c' });
    expect(parseDotenv(readFileSync(second, 'utf8'))).toEqual({ TURSO_AUTH_TOKEN: 'd.e.f' });
  });
});
