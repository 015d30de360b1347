// Applies the SQL migrations in db/migrations; run on every start (a no-op when up to date,
// and safe when several processes start at once: each waits for the advisory lock of the one
// migrating, then finds nothing left to do).
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

export async function migrate(databaseUrl: string): Promise<void> {
  await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    checkOrder: true,
    // The runner's default ('fail') makes every process but one die when they start together.
    advisoryLockMode: 'wait',
    log: () => {},
  });
}

/** Creates database `name` on the server unless it exists; returns its URL (the server URL names another database). */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`ensureDatabase: a plain database name is needed, got ${JSON.stringify(name)}`);
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => {}); // a lost connection fails the query in flight, which is reported
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
