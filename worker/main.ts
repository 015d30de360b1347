// `npx tsx worker/main.ts`: a Nurture worker process for production, configured from the
// environment (see README "Configuration"). Runs workflows and activities; SIGINT/SIGTERM
// stop it gracefully (running activities finish, workflow tasks are handed back).
import { NativeConnection } from '@temporalio/worker';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { loadConfig } from './config';
import { createLogger, routeTemporalLogs } from './logger';
import { createNurtureWorker } from './worker';

const config = loadConfig();
const log = createLogger('nurture-worker', config.logLevel);
routeTemporalLogs(log);

if (!config.databaseUrl) {
  log.fatal('DATABASE_URL is required for a standalone worker (npm start runs an embedded database for development)');
  process.exit(1);
}
await migrate(config.databaseUrl);
const pool = createPool(config.databaseUrl);
const connection = await NativeConnection.connect({ address: config.temporalAddress ?? 'localhost:7233' });
const worker = await createNurtureWorker({ connection, namespace: config.temporalNamespace, taskQueue: config.taskQueue, pool, config });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    worker.shutdown();
  });
}
log.info({ taskQueue: config.taskQueue, temporal: config.temporalAddress ?? 'localhost:7233' }, 'worker running');
await worker.run();
await connection.close();
await pool.end();
log.info('worker stopped');
