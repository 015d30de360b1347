// The launch bench's baseline: the least a workflow can do that still reaches the outside world,
// one activity call. Bundled on its own, for a worker of its own on the bench's dev server.
import { proxyActivities } from '@temporalio/workflow';

const { touch } = proxyActivities<{ touch(id: string): Promise<void> }>({ startToCloseTimeout: '1 minute' });

export async function minimal(id: string): Promise<void> {
  await touch(id);
}
