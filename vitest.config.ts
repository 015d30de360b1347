import { defineConfig } from 'vitest/config';

/**
 * Files that measure the API's own responsiveness (GET /healthz within 100 ms while hostile
 * requests run): they run after every other file, alone, so that another file's servers on the
 * same cores do not stand in for what they measure.
 */
const ALONE = ['tests/api/hostile-input.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    // Two test files at a time even on two cores (vitest's default would be one): most of their
    // time is spent waiting on servers, timers and real-time scenarios, not computing.
    maxWorkers: 2,
    globalSetup: ['tests/support/global-setup.ts'],
    setupFiles: ['tests/support/quiet-temporal.ts', 'tests/support/address-key.ts'],
    reporters: ['default', './tests/support/no-skips-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'suite', include: ['tests/**/*.test.ts'], exclude: ALONE } },
      { extends: true, test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
