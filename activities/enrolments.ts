// What reporting needs to know about an enrolment: that it exists, its stage and score as they
// change, and how it ended. Each write is idempotent so a retried activity records once.
import { inTransaction, type Pool } from '../db/pool';

export type EnrolmentStatus = 'active' | 'paused' | 'handed_off' | 'exited' | 'completed';

export interface EnrolmentProgress {
  enrolmentId: number;
  status: EnrolmentStatus;
  stage: 'cold' | 'warm' | 'hot';
  score: number;
  at: number;
  stageChange?: { from: string; to: string };
  qualified?: boolean;
}

export function createEnrolmentActivities(deps: { pool: Pool }) {
  return {
    /** The enrolment's row (created on the first call, found on the next ones). */
    async recordEnrolment(input: {
      workflowId: string;
      campaignId: string;
      campaignVersion: number;
      leadId: string;
      at: number;
    }): Promise<number> {
      const { rows } = await deps.pool.query<{ id: number }>(
        `INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id, started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (workflow_id) WHERE ended_at IS NULL DO UPDATE SET updated_at = enrolments.updated_at
         RETURNING id`,
        [input.workflowId, input.campaignId, input.campaignVersion, input.leadId, new Date(input.at)],
      );
      return rows[0]!.id;
    },

    async recordProgress(progress: EnrolmentProgress): Promise<void> {
      const at = new Date(progress.at);
      await inTransaction(deps.pool, async (tx) => {
        await tx.query(
          `UPDATE enrolments SET status = $2, stage = $3, score = $4, updated_at = $5,
                  qualified_at = CASE WHEN $6 THEN COALESCE(qualified_at, $5) ELSE qualified_at END
           WHERE id = $1`,
          [progress.enrolmentId, progress.status, progress.stage, progress.score, at, progress.qualified ?? false],
        );
        if (progress.stageChange) {
          await tx.query(
            `INSERT INTO stage_changes (enrolment_id, from_stage, to_stage, score, changed_at)
             SELECT $1, $2, $3, $4, $5
             WHERE NOT EXISTS (SELECT 1 FROM stage_changes WHERE enrolment_id = $1 AND to_stage = $3 AND changed_at = $5)`,
            [progress.enrolmentId, progress.stageChange.from, progress.stageChange.to, progress.score, at],
          );
        }
      });
    },

    /** The enrolment was moved to another version of its campaign (idempotent: sets, never adds). */
    async recordCampaignVersion(input: { enrolmentId: number; campaignVersion: number; at: number }): Promise<void> {
      await deps.pool.query('UPDATE enrolments SET campaign_version = $2, updated_at = $3 WHERE id = $1', [
        input.enrolmentId,
        input.campaignVersion,
        new Date(input.at),
      ]);
    },

    async recordExit(input: { enrolmentId: number; reason: string; at: number; completed?: boolean }): Promise<void> {
      await deps.pool.query(
        `UPDATE enrolments SET status = $2, exit_reason = $3, ended_at = COALESCE(ended_at, $4), updated_at = $4
         WHERE id = $1`,
        [input.enrolmentId, input.completed ? 'completed' : 'exited', input.reason, new Date(input.at)],
      );
    },
  };
}
