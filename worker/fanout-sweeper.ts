// Makes sure every fan-out the API recorded has its workflow: the API starts it right after the
// request, but Temporal may have been away at that moment. Every minute, each unfinished fan-out
// older than half a minute gets its workflow started, or the running one kept (USE_EXISTING); a
// fan-out whose pages are all done finishes at once, so asking twice changes nothing.
import type { Client } from '@temporalio/client';
import { unfinishedFanOuts } from '../db/fanouts';
import type { Pool } from '../db/pool';
import type { Logger } from '../runtime/logger';
import { campaignFanOut, fanOutStart } from '../workflows/campaign-fanout';

export function startFanOutSweeper(options: { client: Client; pool: Pool; taskQueue: string; everyMs?: number; graceMs?: number; log?: Logger }): { stop(): void } {
  const { client, pool, taskQueue } = options;
  let running: Promise<void> | undefined;
  const sweep = async () => {
    for (const fanOutId of await unfinishedFanOuts(pool, options.graceMs ?? 30_000)) {
      await client.workflow.start(campaignFanOut, fanOutStart(fanOutId, taskQueue));
    }
  };
  const timer = setInterval(() => {
    running ??= sweep()
      .catch((error) => options.log?.warn({ err: error }, 'could not look after unfinished campaign fan-outs; trying again later'))
      .finally(() => (running = undefined));
  }, options.everyMs ?? 60_000);
  return { stop: () => clearInterval(timer) };
}
