// Carries one campaign-wide request (pause, resume, archive, migrate) to the campaign's open
// enrolments, page after page, outside the HTTP request that asked for it. Progress is kept in
// the database (the API shows it); the workflow only drives the pages and survives restarts.
import * as wf from '@temporalio/workflow';
import type { NurtureActivities } from '../activities';

export interface CampaignFanOutInput {
  fanOutId: number;
  /** Enrolments per activity (default 200). */
  pageSize?: number;
}

const pages = wf.proxyActivities<NurtureActivities>({
  startToCloseTimeout: '5 minutes',
  // Temporal or the database away: wait it out, the page is recorded once.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Pages per run before continuing as new (keeps the history short for a million enrolments). */
const PAGES_PER_RUN = 200;

/**
 * How a fan-out's workflow is started, by the API and by the workers' sweeper alike: one workflow
 * per fan-out, and asking again while it runs keeps the running one.
 */
export function fanOutStart(fanOutId: number, taskQueue: string) {
  return { workflowId: `campaign-fanout-${fanOutId}`, taskQueue, args: [{ fanOutId }] as [CampaignFanOutInput], workflowIdConflictPolicy: 'USE_EXISTING' as const };
}

export async function campaignFanOut(input: CampaignFanOutInput): Promise<void> {
  for (let page = 0; page < PAGES_PER_RUN; page++) {
    const { finished } = await pages.fanOutPage({ fanOutId: input.fanOutId, pageSize: input.pageSize ?? 200 });
    if (finished) return;
  }
  await wf.continueAsNew<typeof campaignFanOut>(input);
}
