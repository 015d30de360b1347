// Sales pools (with the manager who gets escalations) and the reps handoffs are assigned to.
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
