// Enrolments — one row per entry of a lead into a campaign, open until it ends — and the stage
// changes reports count. The workflow id routes signals to the open row; each write is
// idempotent, so a retried activity records once.
import type { EnrolmentStatus, Stage } from '../campaign';
import { inTransaction, type Db, type Pool } from './pool';

/** An enrolment's row while it is open. */
export interface OpenEnrolment {
  workflowId: string;
  campaignId: string;
  campaignVersion: number;
  leadId: string;
}

export interface EnrolmentProgress {
  enrolmentId: number;
  status: EnrolmentStatus;
  stage: Stage;
  score: number;
  at: number;
  stageChange?: { from: Stage; to: Stage };
  qualified?: boolean;
}

const OPEN = 'ended_at IS NULL';
const SELECT_OPEN_ENROLMENT = 'SELECT workflow_id, campaign_id, campaign_version, lead_id FROM enrolments';

const toOpen = (row: { workflow_id: string; campaign_id: string; campaign_version: number; lead_id: string }): OpenEnrolment => ({
  workflowId: row.workflow_id,
  campaignId: row.campaign_id,
  campaignVersion: row.campaign_version,
  leadId: row.lead_id,
});

/**
 * Writes the open row before its workflow starts (the workflow's own recordEnrolment then finds
 * it), so that an event arriving a moment later finds the enrolment and reaches it.
 */
export async function recordEnrolmentStart(db: Db, enrolment: OpenEnrolment): Promise<void> {
  await db.query(
    `INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workflow_id) WHERE ${OPEN} DO NOTHING`,
    [enrolment.workflowId, enrolment.campaignId, enrolment.campaignVersion, enrolment.leadId],
  );
}

/** The open row's id (created on the first call, found on the next ones). */
export async function recordEnrolment(db: Db, enrolment: OpenEnrolment & { at: number }): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id, started_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (workflow_id) WHERE ${OPEN} DO UPDATE SET updated_at = enrolments.updated_at
     RETURNING id`,
    [enrolment.workflowId, enrolment.campaignId, enrolment.campaignVersion, enrolment.leadId, new Date(enrolment.at)],
  );
  return rows[0]!.id;
}

export async function recordProgress(pool: Pool, progress: EnrolmentProgress): Promise<void> {
  const at = new Date(progress.at);
  await inTransaction(pool, async (tx) => {
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
}

/** The enrolment was moved to another version of its campaign (idempotent: sets, never adds). */
export async function recordCampaignVersion(db: Db, input: { enrolmentId: number; campaignVersion: number; at: number }): Promise<void> {
  await db.query('UPDATE enrolments SET campaign_version = $2, updated_at = $3 WHERE id = $1', [input.enrolmentId, input.campaignVersion, new Date(input.at)]);
}

/** Ends the enrolment; the first end recorded is kept. */
export async function recordExit(db: Db, input: { enrolmentId: number; reason: string; at: number }): Promise<void> {
  await db.query(
    `UPDATE enrolments SET status = 'exited', exit_reason = $2, ended_at = COALESCE(ended_at, $3), updated_at = $3
     WHERE id = $1`,
    [input.enrolmentId, input.reason, new Date(input.at)],
  );
}

/** Ends the lead's open enrolments from outside their workflows (an erasure); returns their workflow ids. */
export async function endOpenEnrolmentsOfLead(db: Db, leadId: string, reason: string): Promise<string[]> {
  const { rows } = await db.query<{ workflow_id: string }>(
    `UPDATE enrolments SET status = 'exited', exit_reason = $2, ended_at = now(), updated_at = now()
     WHERE lead_id = $1 AND ${OPEN} RETURNING workflow_id`,
    [leadId, reason],
  );
  return rows.map((row) => row.workflow_id);
}

/** The open enrolments of a lead, or of a campaign. */
export async function openEnrolments(db: Db, of: { leadId: string } | { campaignId: string }): Promise<OpenEnrolment[]> {
  const [column, value] = 'leadId' in of ? ['lead_id', of.leadId] : ['campaign_id', of.campaignId];
  const { rows } = await db.query(
    `${SELECT_OPEN_ENROLMENT} WHERE ${column} = $1 AND ${OPEN} ORDER BY id`,
    [value],
  );
  return rows.map(toOpen);
}

export async function openEnrolment(db: Db, workflowId: string): Promise<OpenEnrolment | undefined> {
  const { rows } = await db.query(`${SELECT_OPEN_ENROLMENT} WHERE workflow_id = $1 AND ${OPEN}`, [workflowId]);
  return rows[0] && toOpen(rows[0]);
}

/** Whether an enrolment with this workflow id was ever recorded (open or ended). */
export async function enrolmentRecorded(db: Db, workflowId: string): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM enrolments WHERE workflow_id = $1) AS found', [workflowId]);
  return rows[0]?.found ?? false;
}

/** What the re-entry rule needs: whether the lead is in the campaign now, and when it last left it. */
export async function entryHistory(db: Db, campaignId: string, leadId: string): Promise<{ open: boolean; lastEndedAt: Date | null }> {
  const { rows } = await db.query<{ open: boolean | null; last_end: Date | null }>(
    `SELECT bool_or(${OPEN}) AS open, max(ended_at) AS last_end FROM enrolments WHERE campaign_id = $1 AND lead_id = $2`,
    [campaignId, leadId],
  );
  return { open: rows[0]?.open ?? false, lastEndedAt: rows[0]?.last_end ?? null };
}

/** An enrolment's row as the lead profile and the GDPR export show it. */
export interface EnrolmentRow {
  id: number;
  workflow_id: string;
  campaign_id: string;
  campaign_version: number;
  status: EnrolmentStatus;
  stage: Stage;
  score: number;
  started_at: Date;
  updated_at: Date;
  qualified_at: Date | null;
  ended_at: Date | null;
  exit_reason: string | null;
}

/** Every enrolment of the lead, newest first. */
export async function enrolmentsOfLead(db: Db, leadId: string): Promise<EnrolmentRow[]> {
  const { rows } = await db.query<EnrolmentRow>(
    `SELECT id, workflow_id, campaign_id, campaign_version, status, stage, score, started_at, updated_at,
            qualified_at, ended_at, exit_reason
     FROM enrolments WHERE lead_id = $1 ORDER BY started_at DESC, id DESC`,
    [leadId],
  );
  return rows;
}

/** The scores of the campaign's open enrolments (benchmarks and drills watch them move). */
export async function openEnrolmentScores(db: Db, campaignId: string): Promise<number[]> {
  const { rows } = await db.query<{ score: number }>(`SELECT score FROM enrolments WHERE campaign_id = $1 AND ${OPEN}`, [campaignId]);
  return rows.map((row) => row.score);
}
