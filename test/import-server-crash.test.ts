import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { preparedDatabase, type TestDatabase } from './support/modes.js';
import { PINGTOPASS_WITH_EXAMS } from './support/interchange.js';
import { startCliWithProgress } from './support/child-cli.js';

const QUESTIONS = 40_000;
/** Far beyond what ending takes (well under a second): only a hang gets here. */
const WATCHDOG_MS = 60_000;

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
    t = await preparedDatabase('remote', PINGTOPASS_WITH_EXAMS);
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
    const child = startCliWithProgress(['import', join(t.dir, 'bank.csv')], { ...t.env, QBANK_IMPORT_PARALLEL: parallel, QBANK_TIMEOUT_MS: '5000' });
    await child.untilRead(closeAt, { withinMs: 60_000, before: 'the server could be closed' });
    await t.server!.close();
    const watchdog = sleep(WATCHDOG_MS).then(() => 'hung' as const);
    const outcome = await Promise.race([child.exited, watchdog]);
    if (outcome === 'hung') child.kill();
    expect(outcome, `the import did not end after its server died:\n${child.stderr().slice(-2000)}`).toBe(4);
    // eslint-disable-next-line no-control-regex
    expect(child.stderr().replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/error: cannot reach http:\/\/127\.0\.0\.1:\d+/);
    expect(child.stderr()).not.toMatch(/imported/);
  }, 180_000);
});
