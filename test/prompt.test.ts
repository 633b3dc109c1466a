import { createClient } from '@libsql/client';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import type { IO } from '../src/output/io.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

async function columnsOfExams(t: TestDatabase): Promise<string[]> {
  const client = createClient({ url: `file:${t.dbPath}` });
  const rows = (await client.execute("SELECT name FROM pragma_table_info('exams')")).rows;
  client.close();
  return rows.map((r) => String(r.name));
}

/** A terminal's stderr: collects what the prompt draws and calls back on every write. */
class Screen extends Writable {
  text = '';
  private watchers: Array<() => void> = [];
  _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    for (const watcher of this.watchers) watcher();
    callback();
  }
  /** Resolves once the screen shows `text`: the keys are typed when the question is on screen, not on a timer. */
  shows(text: string): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!this.text.includes(text)) return;
        this.watchers = this.watchers.filter((watcher) => watcher !== check);
        resolve();
      };
      this.watchers.push(check);
      check();
    });
  }
}

/** Runs qbank at a pretend terminal and types `key` once the confirmation question is drawn. */
async function answerAtTerminal(args: string[], t: TestDatabase, key: string) {
  const stdin = new PassThrough();
  const stdout = new PassThrough().resume();
  const stderr = new Screen();
  const io: IO = { stdin, stdout, stderr, stdinIsTTY: true, stdoutIsTTY: false, stderrIsTTY: true, env: { PATH: process.env.PATH, ...t.env }, cwd: t.dir, now: () => new Date() };
  const running = main(args, io);
  const exitedEarly = running.then((code) => Promise.reject(new Error(`exited ${code} before asking:\n${stderr.text}`)));
  await Promise.race([stderr.shows('lose the data listed above?'), exitedEarly]);
  stdin.write(key);
  const code = await running;
  return { code, stderr: stderr.text };
}

describe('data-loss confirmation at a terminal', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('file');
    await runCli(['db', 'push', '--schema', 'pingtopass'], { env: t.env, cwd: t.dir });
    const client = createClient({ url: `file:${t.dbPath}` });
    await client.execute('ALTER TABLE exams ADD COLUMN legacy text');
    client.close();
  });
  afterEach(async () => {
    await t.close();
  });

  it('applies the plan when the operator answers yes', async () => {
    const result = await answerAtTerminal(['db', 'push', '--allow-data-loss'], t, 'y');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/DATA LOSS/);
    expect(await columnsOfExams(t)).not.toContain('legacy');
  });

  it('changes nothing when the operator answers no', async () => {
    const result = await answerAtTerminal(['db', 'push', '--allow-data-loss'], t, 'n');
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/push cancelled; nothing was changed/);
    expect(await columnsOfExams(t)).toContain('legacy');
  });
});
