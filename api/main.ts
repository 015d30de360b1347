// `node --import tsx api/main.ts`: the Nurture HTTP API for production, configured from the
// environment (see README "Configuration"); run as many as the traffic needs behind a load
// balancer. SIGINT/SIGTERM stop it gracefully (requests in flight finish).
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { processConfig } from '../runtime/process-config';
import { connectToTemporal } from '../runtime/temporal-connection';
import { startApiServer } from './server';

const { config, log } = processConfig('nurture-api');
if (!config.databaseUrl) {
  log.fatal('DATABASE_URL is required for a standalone API (npm start runs an embedded database for development)');
  process.exit(1);
}
await migrate(config.databaseUrl);
const pool = createPool(config.databaseUrl);
const temporal = await connectToTemporal({ native: false });
const api = await startApiServer({ config, pool, client: temporal.client, logger: log });
// trustProxy and metricsToken reach the app through startApiServer (TRUST_PROXY, METRICS_TOKEN).
log.info({ url: api.url, publicUrl: config.publicUrl, trustProxy: config.trustProxy, metrics: config.metricsToken ? 'bearer token' : 'off' }, 'API listening');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    log.info({ signal }, 'shutting down');
    await api.close();
    await Promise.all([temporal.close(), pool.end()]);
  });
}
