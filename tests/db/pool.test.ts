// Transactions when the database goes away under them: the transaction fails, the process does
// not, and the pool hands out a working connection next.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inTransaction } from '../../db/pool';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

it('a connection lost mid-transaction fails the transaction, not the process', async () => {
  const uncaught: unknown[] = [];
  const record = (error: unknown) => void uncaught.push(error);
  process.prependListener('uncaughtException', record);
  try {
    await expect(
      inTransaction(db.pool, async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await tx.query('SELECT 1');
      }),
    ).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    process.off('uncaughtException', record);
  }
  expect(uncaught).toEqual([]);
  const { rows } = await db.pool.query<{ one: number }>('SELECT 1 AS one');
  expect(rows[0]!.one).toBe(1);
});
