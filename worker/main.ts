// `node --import tsx worker/main.ts`: a Nurture worker process for production, configured from the
// environment (see README "Configuration"). Runs workflows, activities and the outbox mailer;
// SIGINT/SIGTERM stop it gracefully (running activities and the emails in flight finish, queued
// ones stay for other mailers, workflow tasks go to other workers). Scale out by running more.
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { processConfig } from '../runtime/process-config';
import { connectToTemporal } from '../runtime/temporal-connection';
import { routeTemporalLogs } from '../runtime/temporal-logs';
import { startWorkerRuntime } from './runtime';

const { config, log } = processConfig('nurture-worker');
routeTemporalLogs(log);

const { databaseUrl, smtpUrl } = config;
if (!databaseUrl || !smtpUrl) {
  log.fatal('DATABASE_URL and SMTP_URL are required for a standalone worker (npm start runs embedded ones for development)');
  process.exit(1);
}
await migrate(databaseUrl);
const pool = createPool(databaseUrl);
const temporal = await connectToTemporal({ native: true });
const runtime = await startWorkerRuntime({ connection: temporal.native, client: temporal.client, pool, config: { ...config, databaseUrl, smtpUrl }, log });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    void runtime.stop();
  });
}
log.info({ taskQueue: config.taskQueue, temporal: config.temporalAddress ?? 'localhost:7233' }, 'worker running');
await runtime.done;
await runtime.stop();
await Promise.all([temporal.close(), pool.end()]);
log.info('worker stopped');
