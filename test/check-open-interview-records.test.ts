import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { join } from 'node:path';
import { createTestDatabase, MODES, type Mode, type TestDatabase } from './support/modes.js';
import { hasSharedOpenInterview, SHARED_OPEN_INTERVIEW } from './support/shared-fixtures.js';

/** The open-interview system's own records (see ../shared/fixtures/open-interview/README.md), imported as they are, then checked. */
const RECORDS = join(SHARED_OPEN_INTERVIEW, 'data-questions.json');

describe.skipIf(!hasSharedOpenInterview).each(MODES)('qbank check on the open-interview system’s own records (%s)', (mode: Mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  beforeEach(async () => {
    t = await createTestDatabase(mode);
    expect((await cli(['db', 'push', '--schema', 'open-interview'])).code).toBe(0);
    // The malformed records the system holds (no id, no channel, …) are left out by the import itself.
    const imported = await cli(['import', RECORDS, '--skip-invalid', '--rejects', 'rejected.json']);
    expect(imported.code, imported.stderr).toBe(0);
  });
  afterEach(async () => {
    await t.close();
  });

  it('finds the repeated question texts and the answers cut off mid-sentence, and no errors', async () => {
    const result = await cli(['check', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = result.json();
    expect(report.summary.errors).toBe(0);
    const duplicates = report.findings
      .filter((f: { rule: string }) => f.rule === 'duplicate-question')
      .map((f: { id: string; related: string[] }) => [f.id, ...f.related].sort().join(' '))
      .sort();
    // the README's "9 × repeated question text, distinct ids"
    expect(duplicates).toEqual(['q-1161 q-1162', 'q-12805 q-594', 'q-1339 q-648', 'q-5511 q-5512 q-5513']);
    const truncated = new Set(report.findings.filter((f: { rule: string }) => f.rule === 'truncated-answer').map((f: { id: string }) => f.id));
    expect(truncated.has('q-1049')).toBe(true); // "… for rollback, revert t"
    expect(truncated.has('gh-34')).toBe(false); // "… reserved capacity."
    expect(Object.keys(report.summary.byRule).sort()).toEqual(['duplicate-question', 'truncated-answer']);
    // with --strict the warnings fail the check
    expect((await cli(['check', '--strict', '--rules', 'duplicate-question'])).code).toBe(6);
  });
});
