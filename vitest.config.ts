import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    // Two test files at a time even on two cores (vitest's default would be one): most of their
    // time is spent waiting on servers, timers and real-time scenarios, not computing.
    maxWorkers: 2,
    globalSetup: ['tests/support/global-setup.ts'],
    setupFiles: ['tests/support/quiet-temporal.ts', 'tests/support/address-key.ts'],
    reporters: ['default', './tests/support/no-skips-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
