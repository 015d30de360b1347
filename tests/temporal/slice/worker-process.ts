// A worker in a process of its own, so that a test can kill it with SIGKILL mid-run.
// Usage: tsx worker-process.ts <address> <taskQueue> <workflow bundle file>
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from './activities';

const [address, taskQueue, codePath] = process.argv.slice(2);
if (!address || !taskQueue || !codePath) throw new Error('usage: worker-process.ts <address> <taskQueue> <bundle>');

const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowBundle: { codePath },
  activities,
  // A killed worker leaves tasks on its sticky queue; hand them back to the normal queue quickly.
  stickyQueueScheduleToStartTimeout: '1 second',
});
process.stdout.write('worker ready\n');
await worker.run();
