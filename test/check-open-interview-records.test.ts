import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { join } from 'node:path';
import { databaseForEachTest, type Mode, MODES, preparedDatabase } from './support/modes.js';
import { hasSharedOpenInterview, SHARED_OPEN_INTERVIEW } from './support/shared-fixtures.js';
import { expectTheRecordsFindings } from './support/check.js';

/** The open-interview system's own records (see ../shared/fixtures/open-interview/README.md), imported as they are, then checked. */
const RECORDS = join(SHARED_OPEN_INTERVIEW, 'data-questions.json');

describe.skipIf(!hasSharedOpenInterview).each(MODES)('qbank check on the open-interview system’s own records (%s)', (mode: Mode) => {
  // The malformed records the system holds (no id, no channel, …) are left out by the import itself.
  const t = databaseForEachTest(() => preparedDatabase(mode, [['db', 'push', '--schema', 'open-interview'], ['import', RECORDS, '--skip-invalid', '--rejects', 'rejected.json']]));
  const cli = (args: string[]) => runCli(args, { env: t.env, cwd: t.dir });

  it('finds the repeated question texts and the answers cut off mid-sentence, and no errors', async () => {
    const result = await cli(['check', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = result.json();
    expect(report.summary.errors).toBe(0);
    expectTheRecordsFindings(report);
    expect(Object.keys(report.summary.byRule).sort()).toEqual(['duplicate-question', 'truncated-answer']);
    // with --strict the warnings fail the check
    expect((await cli(['check', '--strict', '--rules', 'duplicate-question'])).code).toBe(6);
  });
});
