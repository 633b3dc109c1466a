import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/modes.js';

const ROOT = join(import.meta.dirname, '..');
const QUESTIONS = 40_000;
/** Far beyond what ending takes (well under a second): only a hang gets here. */
const WATCHDOG_MS = 60_000;

const CHILD = `
import { main } from ${JSON.stringify(join(ROOT, 'src', 'main.ts'))};
import { processIO } from ${JSON.stringify(join(ROOT, 'src', 'output', 'io.ts'))};
process.exitCode = await main(process.argv.slice(1), { ...processIO(), stderrIsTTY: true });
`;

function bank(path: string): void {
  const exams = ['CCNA-200-301', 'SAA-C03', 'SC-900'];
  const lines = ['exam_code,text,option_a,option_b,option_c,option_d,correct,explanation,difficulty'];
  for (let i = 0; i < QUESTIONS; i++) {
    lines.push(`${exams[i % 3]},"Question ${i}: ${'which setting applies here, and why? '.repeat(6)}",first ${i},second ${i},third ${i},fourth ${i},${'ABCD'[i % 4]},"Because ${i}",${1 + (i % 5)}`);
  }
  writeFileSync(path, lines.join('\r\n') + '\r\n');
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * The server dies under a remote import: whatever the import was doing (parsing in a worker or
 * inline, sending batches, staging), the process must end with exit 4. It runs in a child process
 * so that a hang is seen as one.
 */
describe('a remote import whose server dies ends', () => {
  let t: TestDatabase;

  beforeEach(async () => {
    t = await createTestDatabase('remote');
    const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });
    expect((await cli(['db', 'push', '--schema', 'pingtopass'])).code).toBe(0);
    expect((await cli(['import', 'exams', join(ROOT, 'fixtures', 'pingtopass', 'exams.csv')])).code).toBe(0);
    bank(join(t.dir, 'bank.csv'));
  });
  afterEach(async () => {
    await t.close().catch(() => undefined);
  });

  it.each([
    ['parsing in a worker, early', 'always', 2_000],
    ['parsing in a worker, half-way', 'always', QUESTIONS / 2],
    ['parsing in a worker, near the end', 'always', (QUESTIONS * 9) / 10],
    ['parsing inline, half-way', 'never', QUESTIONS / 2],
  ] as const)('with exit 4: %s', async (_label, parallel, closeAt) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, 'import', join(t.dir, 'bank.csv')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...t.env, QBANK_IMPORT_PARALLEL: parallel, QBANK_TIMEOUT_MS: '5000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const read = () => Math.max(0, ...[...stderr.matchAll(/([\d,]+) rows/g)].map((match) => Number(match[1].replace(/,/g, ''))));
    const deadline = Date.now() + 60_000;
    while (read() < closeAt) {
      if (child.exitCode !== null) throw new Error(`the import ended before the server could be closed:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`the import did not get to row ${closeAt}:\n${stderr}`);
      await sleep(2);
    }
    await t.server!.close();
    const watchdog = sleep(WATCHDOG_MS).then(() => 'hung' as const);
    const outcome = await Promise.race([exited, watchdog]);
    if (outcome === 'hung') child.kill('SIGKILL');
    expect(outcome, `the import did not end after its server died:\n${stderr.slice(-2000)}`).toBe(4);
    // eslint-disable-next-line no-control-regex
    expect(stderr.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/error: cannot reach http:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).not.toMatch(/imported/);
  }, 180_000);
});
