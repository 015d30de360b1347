// What reporting needs to know about an enrolment: that it exists, its stage and score as they
// change, the campaign version it runs and how it ended (all writes idempotent: see db/enrolments.ts).
import type { CampaignStatus } from '../campaign';
import { campaignStatus } from '../db/campaigns';
import { recordCampaignVersion, recordEnrolment, recordExit, recordProgress, type EnrolmentProgress } from '../db/enrolments';
import { getLead } from '../db/leads';
import type { Pool } from '../db/pool';

type EnrolmentStart = { workflowId: string; campaignId: string; campaignVersion: number; leadId: string; at: number };

export interface BegunEnrolment {
  enrolmentId: number;
  /** As the campaign stands now: a pause or archive sent before the workflow ran is not lost. */
  campaignStatus: CampaignStatus;
  statusSeq: number;
  /** The lead was erased before the workflow ran. */
  leadErased: boolean;
}

export function createEnrolmentActivities(deps: { pool: Pool }) {
  return {
    /** The enrolment's row (created on the first call, found on the next ones). */
    async recordEnrolment(input: EnrolmentStart): Promise<number> {
      return recordEnrolment(deps.pool, input);
    },
    /** The enrolment's row, and what changed before its workflow started: the campaign's status, an erasure. */
    async beginEnrolment(input: EnrolmentStart): Promise<BegunEnrolment> {
      const [enrolmentId, campaign, lead] = await Promise.all([
        recordEnrolment(deps.pool, input),
        campaignStatus(deps.pool, input.campaignId),
        getLead(deps.pool, input.leadId),
      ]);
      return {
        enrolmentId,
        campaignStatus: campaign?.status ?? 'archived',
        statusSeq: campaign?.statusSeq ?? 0,
        leadErased: !lead || !lead.email,
      };
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
