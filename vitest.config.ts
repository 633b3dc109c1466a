import { defineConfig } from 'vitest/config';

/**
 * Suites that kill child processes or servers mid-way and wait for them to recover: together more
 * than half of the suite's time. `npm test` (and CI) runs both projects; `npx vitest --project fast`
 * leaves these out for quick feedback. A new crash suite named `test/<topic>-crash.test.ts` joins
 * this project by its name.
 */
const CRASH_SUITES = ['test/**/*-crash.test.ts', 'test/backup.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: CRASH_SUITES },
      },
      {
        extends: true,
        // each test runs whole imports before and after its kill: the timeout guards against a hang
        test: { name: 'crash', include: CRASH_SUITES, testTimeout: 120_000 },
      },
    ],
  },
});
