// A Nurture worker in a process of its own, with the event dispatcher beside it, so a test can
// kill both with SIGKILL mid-run.
// Usage: tsx worker-process.ts <temporal address> <task queue> <database url> <workflow bundle file>
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { useAddressKey } from '../../db/addresses';
import { payloadEncryption } from '../../db/data-keys';
import { createPool } from '../../db/pool';
import { withPayloadCodec } from '../../runtime/temporal-connection';
import { startDispatcher } from '../../worker/dispatcher';
import { createNurtureWorker } from '../../worker/worker';
import { TEST_CONFIG } from '../e2e/config';

const [address, taskQueue, databaseUrl, codePath] = process.argv.slice(2);
if (!address || !taskQueue || !databaseUrl || !codePath) throw new Error('usage: worker-process.ts <address> <taskQueue> <databaseUrl> <bundle>');

useAddressKey(TEST_CONFIG.dataSecret);
const connection = await NativeConnection.connect({ address });
const pool = createPool(databaseUrl);
const payloadCodec = payloadEncryption(pool, TEST_CONFIG.dataSecret);
const client = withPayloadCodec(new Client({ connection: await Connection.connect({ address }) }), payloadCodec);
const worker = await createNurtureWorker({
  connection,
  client,
  payloadCodec,
  pool,
  config: { ...TEST_CONFIG, taskQueue },
  workflowBundle: { codePath },
  // A killed worker leaves tasks on its sticky queue; hand them back to the normal queue quickly.
  tuning: { stickyQueueScheduleToStartTimeout: '1 second' },
});
// Killed with the worker: its per-lead locks go with its database session.
startDispatcher({ client, pool, databaseUrl, taskQueue });
process.stdout.write('worker ready\n');
await worker.run();
