// The HTTP API alone in a process of its own, for benchmarks that load it from another process
// (a client in the same process would share its event loop). Its Temporal connection is lazy:
// ingest never calls Temporal, so none is needed. Prints the address it listens on.
// Usage: node --import tsx bench/processes/api.ts <database url> <pool size>
import { Client, Connection } from '@temporalio/client';
import { buildApi } from '../../api/app';
import { createTemporalEngine } from '../../api/temporal-engine';
import { useAddressKey } from '../../db/addresses';
import { createPool } from '../../db/pool';
import { BENCH_CONFIG } from '../support/stack';

const [databaseUrl, poolSize] = process.argv.slice(2);
if (!databaseUrl) throw new Error('usage: api.ts <databaseUrl> [poolSize]');
useAddressKey(BENCH_CONFIG.dataSecret);
const pool = createPool(databaseUrl, Number(poolSize ?? 20));
const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:7233' }) });
const engine = createTemporalEngine({ client, pool, taskQueue: 'bench' });
const app = await buildApi({ pool, engine, links: { baseUrl: 'http://127.0.0.1', secret: BENCH_CONFIG.linkSecret }, rateLimit: false });
process.stdout.write(`listening ${await app.listen({ host: '127.0.0.1', port: 0 })}\n`);
process.once('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
