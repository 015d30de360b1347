// Carrying a campaign-wide request to its open enrolments, one page per activity, so that a
// campaign with a million enrolments is paused by a workflow that survives restarts rather than by
// one HTTP request. Each page is recorded once (db/fanouts.ts) and every message is idempotent:
// an enrolment applies a status change only when it is newer than the last it applied, and a
// migration to the version it is already on is refused.
import type { Campaign, CampaignStatus } from '../campaign';
import { getCampaignVersion } from '../db/campaigns';
import { fanOutTargets, getFanOut, recordFanOutPage } from '../db/fanouts';
import type { Pool } from '../db/pool';

/** How enrolments are reached (worker/messenger.ts on Temporal). Each resolves false when the enrolment ended or declined. */
export interface EnrolmentMessenger {
  setStatus(workflowId: string, change: { status: Exclude<CampaignStatus, 'draft'>; seq: number }): Promise<boolean>;
  migrate(workflowId: string, target: { campaign: Campaign; campaignVersion: number }): Promise<boolean>;
}

const STATUS_OF = { pause: 'paused', resume: 'active', archive: 'archived' } as const;
/** Messages in flight at once within a page. */
const CONCURRENCY = 32;

export function createFanOutActivities(deps: { pool: Pool; messenger: EnrolmentMessenger }) {
  return {
    /** Reaches the next page of enrolments; returns whether the fan-out is finished. */
    async fanOutPage(input: { fanOutId: number; pageSize: number }): Promise<{ finished: boolean }> {
      const fanOut = await getFanOut(deps.pool, input.fanOutId);
      if (!fanOut || fanOut.finishedAt) return { finished: true };
      const targets = await fanOutTargets(deps.pool, fanOut, input.pageSize);
      if (targets.length === 0) {
        await recordFanOutPage(deps.pool, fanOut.id, { cursor: fanOut.cursor, done: 0, skipped: 0, finished: true });
        return { finished: true };
      }
      let send: (workflowId: string) => Promise<boolean>;
      if (fanOut.action === 'migrate') {
        const target = await getCampaignVersion(deps.pool, fanOut.campaignId, fanOut.toVersion!);
        if (!target) throw new Error(`campaign ${fanOut.campaignId} has no version ${fanOut.toVersion}`);
        send = (workflowId) => deps.messenger.migrate(workflowId, { campaign: target.definition, campaignVersion: target.version });
      } else {
        const change = { status: STATUS_OF[fanOut.action], seq: fanOut.statusSeq! };
        send = (workflowId) => deps.messenger.setStatus(workflowId, change);
      }
      let done = 0;
      const waiting = [...targets];
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, waiting.length) }, async () => {
          for (let next = waiting.shift(); next; next = waiting.shift()) if (await send(next.workflowId)) done++;
        }),
      );
      await recordFanOutPage(deps.pool, fanOut.id, { cursor: targets.at(-1)!.id, done, skipped: targets.length - done, finished: false });
      return { finished: false };
    },
  };
}
