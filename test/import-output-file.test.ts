import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.js';
import { OutputFileExistsError, OutputIsInputError, prepareOutputFile } from '../src/output-file.js';
import { tempDir } from './support/cli.js';

describe('prepareOutputFile: one rule for every file qbank writes', () => {
  let dir: { path: string; remove: () => void };
  const at = (name: string) => join(dir.path, name);
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('writes under a temporary name and gives the file its name only on commit', async () => {
    const file = await prepareOutputFile(at('out.csv'), { what: 'rejects file' });
    await file.write('a,b\r\n');
    await file.write(Buffer.from('1,2\r\n'));
    expect(existsSync(at('out.csv'))).toBe(false);
    expect(existsSync(file.tempPath)).toBe(true);
    expect(file.tempPath.startsWith(dir.path)).toBe(true);
    await file.commit();
    expect(readFileSync(at('out.csv'), 'utf8')).toBe('a,b\r\n1,2\r\n');
    expect(readdirSync(dir.path)).toEqual(['out.csv']);
  });

  it('abort leaves nothing behind, and is harmless twice or after commit', async () => {
    const file = await prepareOutputFile(at('out.csv'));
    await file.write('partial');
    await file.abort();
    await file.abort();
    expect(readdirSync(dir.path)).toEqual([]);
    const second = await prepareOutputFile(at('out.csv'));
    await second.commit();
    await second.abort();
    expect(readFileSync(at('out.csv'), 'utf8')).toBe('');
  });

  it('refuses an existing file without force (exit 5, naming it) and keeps it', async () => {
    writeFileSync(at('out.csv'), 'keep me');
    const error = await prepareOutputFile(at('out.csv'), { what: 'rejects file' }).catch((e) => e);
    expect(error).toBeInstanceOf(OutputFileExistsError);
    expect(error.exitCode).toBe(ExitCode.refused);
    expect(error.message).toContain(at('out.csv'));
    expect(error.withHint('pass --force to replace it').hint).toBe('pass --force to replace it');
    expect(readFileSync(at('out.csv'), 'utf8')).toBe('keep me');
    expect(readdirSync(dir.path)).toEqual(['out.csv']);
  });

  it('replaces an existing file with force, only at commit', async () => {
    writeFileSync(at('out.csv'), 'old');
    const file = await prepareOutputFile(at('out.csv'), { force: true });
    await file.write('new');
    expect(readFileSync(at('out.csv'), 'utf8')).toBe('old');
    await file.commit();
    expect(readFileSync(at('out.csv'), 'utf8')).toBe('new');
  });

  it('keeps a file that appeared at the name after the check', async () => {
    const file = await prepareOutputFile(at('out.csv'));
    await file.write('mine');
    writeFileSync(at('out.csv'), 'someone else');
    await expect(file.commit()).rejects.toBeInstanceOf(OutputFileExistsError);
    expect(readFileSync(at('out.csv'), 'utf8')).toBe('someone else');
    expect(readdirSync(dir.path)).toEqual(['out.csv']);
  });

  it('refuses the input itself, a symlink to it and a hard link to it, even with force', async () => {
    writeFileSync(at('bank.csv'), 'input');
    symlinkSync(at('bank.csv'), at('link.csv'));
    linkSync(at('bank.csv'), at('hard.csv'));
    mkdirSync(at('sub'));
    for (const output of ['bank.csv', 'link.csv', 'hard.csv', 'sub/../bank.csv']) {
      const error = await prepareOutputFile(output, { cwd: dir.path, force: true, inputs: ['bank.csv'], what: 'rejects file' }).catch((e) => e);
      expect(error, output).toBeInstanceOf(OutputIsInputError);
      expect(error.exitCode).toBe(ExitCode.usage);
      expect(error.message).toContain(output);
    }
    // the input given through a symlink is the same file too
    const error = await prepareOutputFile('bank.csv', { cwd: dir.path, force: true, inputs: ['link.csv'] }).catch((e) => e);
    expect(error).toBeInstanceOf(OutputIsInputError);
    expect(readFileSync(at('bank.csv'), 'utf8')).toBe('input');
  });

  it('refuses a directory and a missing or non-directory parent, naming the path (exit 2)', async () => {
    mkdirSync(at('dir'));
    writeFileSync(at('plain'), '');
    for (const [output, words] of [
      ['dir', 'is a directory'],
      ['missing/out.csv', 'does not exist'],
      ['plain/out.csv', 'is not a directory'],
    ]) {
      const error = await prepareOutputFile(at(output), { force: true }).catch((e) => e);
      expect(error.exitCode, output).toBe(ExitCode.usage);
      expect(error.message).toContain(at(output));
      expect(error.message).toContain(words);
    }
  });

  it('creates the file with the permission bits asked for', async () => {
    const file = await prepareOutputFile(at('secret.env'), { mode: 0o600 });
    await file.write('TOKEN=x\n');
    await file.commit();
    expect(statSync(at('secret.env')).mode & 0o777).toBe(0o600);
  });
});
