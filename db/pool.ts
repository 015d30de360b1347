// Connections to PostgreSQL: one pool per process, and transactions on one client of it.
import pg from 'pg';

// bigint columns (ids, counters) come back as JS numbers; none of ours nears 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(connectionString: string, max = 20): Pool {
  const pool = new pg.Pool({ connectionString, max });
  // An idle client losing its server (e.g. a database restart) must not crash the process;
  // the next query gets a fresh connection.
  pool.on('error', () => {});
  return pool;
}

/** Runs `work` in one transaction on one client. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection lost mid-transaction (a database restart) fails the query in flight; the client's
  // own 'error' event must not also crash the process, and the broken client is not reused.
  let broken: Error | undefined;
  const onError = (error: Error) => void (broken = error);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Db = Pool | PoolClient;

/** A round trip to the database (health checks). */
export async function ping(db: Db): Promise<void> {
  await db.query('SELECT 1');
}
