import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['tests/support/global-setup.ts'],
    setupFiles: ['tests/support/quiet-temporal.ts'],
    reporters: ['default', './tests/support/no-skips-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
