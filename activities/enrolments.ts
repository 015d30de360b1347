// What reporting needs to know about an enrolment: that it exists, its stage and score as they
// change, the campaign version it runs and how it ended (all writes idempotent: see db/enrolments.ts).
import { recordCampaignVersion, recordEnrolment, recordExit, recordProgress, type EnrolmentProgress } from '../db/enrolments';
import type { Pool } from '../db/pool';

export function createEnrolmentActivities(deps: { pool: Pool }) {
  return {
    /** The enrolment's row (created on the first call, found on the next ones). */
    async recordEnrolment(input: { workflowId: string; campaignId: string; campaignVersion: number; leadId: string; at: number }): Promise<number> {
      return recordEnrolment(deps.pool, input);
    },
    async recordProgress(progress: EnrolmentProgress): Promise<void> {
      await recordProgress(deps.pool, progress);
    },
    /** The enrolment was moved to another version of its campaign. */
    async recordCampaignVersion(input: { enrolmentId: number; campaignVersion: number; at: number }): Promise<void> {
      await recordCampaignVersion(deps.pool, input);
    },
    async recordExit(input: { enrolmentId: number; reason: string; at: number }): Promise<void> {
      await recordExit(deps.pool, input);
    },
  };
}
