// The API's worker threads (api/threads.ts) on real threads: a task's time limit counts from when
// its thread is ready, not from when the thread was started (a CI run once refused the demo
// campaign with 422 because a busy machine took 16 s to load the campaign thread's modules).
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadFailure, ThreadPool, ThreadTimeout } from '../../api/threads';

const entry = new URL('./threads/slow-start.ts', import.meta.url);
let pool: ThreadPool | undefined;
afterEach(async () => {
  await pool?.close();
  delete process.env.SLOW_START_MS;
});

describe('ThreadPool', () => {
  it('does not count a slow start against the task', async () => {
    process.env.SLOW_START_MS = '1500';
    pool = new ThreadPool({ entry, size: 1, maxQueue: 1, idleMs: 10_000 });
    await expect(pool.run('sleep', 100, 1000)).resolves.toBe('done');
  });

  it('stops a task that runs past its limit once the thread is ready, and the next task gets a fresh thread', async () => {
    process.env.SLOW_START_MS = '200';
    pool = new ThreadPool({ entry, size: 1, maxQueue: 1, idleMs: 10_000 });
    await expect(pool.run('sleep', 2000, 300)).rejects.toBeInstanceOf(ThreadTimeout);
    await expect(pool.run('sleep', 10, 1000)).resolves.toBe('done');
  });

  it('fails the task of a thread that never becomes ready, after the startup limit', async () => {
    process.env.SLOW_START_MS = 'never';
    pool = new ThreadPool({ entry, size: 1, maxQueue: 1, idleMs: 10_000, startupMs: 1500 });
    const started = Date.now();
    const failure = await pool.run('sleep', 10, 100).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ThreadFailure);
    expect((failure as Error).message).toMatch(/did not start within 1500 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});
