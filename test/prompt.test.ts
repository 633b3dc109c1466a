import { createClient } from '@libsql/client';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

async function columnsOfExams(t: TestDatabase): Promise<string[]> {
  const client = createClient({ url: `file:${t.dbPath}` });
  const rows = (await client.execute("SELECT name FROM pragma_table_info('exams')")).rows;
  client.close();
  return rows.map((r) => String(r.name));
}

/** Answers a clack confirm prompt by typing into its input stream once it has drawn itself. */
function typing(keys: string[]): PassThrough {
  const input = new PassThrough();
  let i = 0;
  const timer = setInterval(() => {
    if (i >= keys.length) return clearInterval(timer);
    input.write(keys[i++]);
  }, 60);
  return input;
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
    const result = await runCli(['db', 'push', '--allow-data-loss'], { env: t.env, cwd: t.dir, tty: true, stdin: typing(['y', '\r']) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/DATA LOSS/);
    expect(await columnsOfExams(t)).not.toContain('legacy');
  });

  it('changes nothing when the operator answers no', async () => {
    const result = await runCli(['db', 'push', '--allow-data-loss'], { env: t.env, cwd: t.dir, tty: true, stdin: typing(['n', '\r']) });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/push cancelled; nothing was changed/);
    expect(await columnsOfExams(t)).toContain('legacy');
  });
});
