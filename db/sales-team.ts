// Sales pools (with the manager who gets escalations), the reps handoffs are assigned to, and the
// round-robin cursors that give them their turns.
import type { Person } from '../campaign';
import type { Db } from './pool';

export interface SalesPoolInput {
  name: string;
  managerName?: string;
  managerEmail: string;
}

export interface SalesRepInput {
  email: string;
  name: string;
  pool: string;
  territories?: string[];
}

/** Creates the pool or updates its manager. */
export async function upsertSalesPool(db: Db, pool: SalesPoolInput): Promise<void> {
  await db.query(
    `INSERT INTO sales_pools (name, manager_name, manager_email) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET manager_name = EXCLUDED.manager_name, manager_email = EXCLUDED.manager_email`,
    [pool.name, pool.managerName ?? null, pool.managerEmail],
  );
}

/** Creates the rep or updates name, pool and territories; the turn order (created_at) is kept. */
export async function upsertSalesRep(db: Db, rep: SalesRepInput): Promise<void> {
  await db.query(
    `INSERT INTO sales_reps (email, name, pool, territories, created_at) VALUES ($1, $2, $3, $4, clock_timestamp())
     ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name, pool = EXCLUDED.pool, territories = EXCLUDED.territories`,
    [rep.email.toLowerCase(), rep.name, rep.pool, rep.territories ?? []],
  );
}

/** The pool's manager, or undefined when there is no such pool. */
export async function poolManager(db: Db, pool: string): Promise<Person | undefined> {
  const { rows } = await db.query('SELECT manager_name, manager_email FROM sales_pools WHERE name = $1', [pool]);
  return rows[0] && { name: rows[0].manager_name ?? 'Sales manager', email: rows[0].manager_email };
}

/** The pool's active reps in turn order; with a territory, only those covering it (case-insensitive). */
export async function activeReps(db: Db, pool: string, territory: string): Promise<(Person & { id: string })[]> {
  const { rows } = await db.query<Person & { id: string }>(
    `SELECT id, name, email FROM sales_reps
     WHERE pool = $1 AND active AND ($2 = '' OR $2 = ANY (SELECT lower(t) FROM unnest(territories) t))
     ORDER BY created_at, email`,
    [pool, territory],
  );
  return rows;
}

/**
 * The next turn of the pool's cursor for this territory ('' = the whole pool), from 0. One atomic
 * upsert, which also locks the cursor until the transaction ends, so concurrent handoffs take
 * distinct turns.
 */
export async function takeTurn(db: Db, pool: string, territory: string): Promise<number> {
  const { rows } = await db.query<{ turn: number }>(
    `INSERT INTO assignment_cursors (pool, territory, next_turn) VALUES ($1, $2, 1)
     ON CONFLICT (pool, territory) DO UPDATE SET next_turn = assignment_cursors.next_turn + 1
     RETURNING next_turn - 1 AS turn`,
    [pool, territory],
  );
  return rows[0]!.turn;
}
