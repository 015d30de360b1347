// Handoffs of qualified leads to sales, with the rep who owns each and its timeline
// (handoff_events). The workflow's activities write them, idempotently on the handoff id; the
// API reads them.
import type { HandoffStatus, SalesOutcome } from '../campaign';
import type { Db } from './pool';

export interface NewHandoff {
  id: string;
  enrolmentId: number;
  leadId: string;
  campaignId: string;
  /** Null while the handoff waits unassigned (no such pool, no active rep): `unassignedReason` says why. */
  ownerId: string | null;
  unassignedReason?: string;
  pool: string;
  score: number;
  reasons: string[];
  breakdown: unknown[];
  recentActivity: unknown[];
  firstContactDue: Date;
  outcomeDue: Date | null;
  createdAt: Date;
}

/** A stored handoff's owner and what was recorded with it. */
export interface StoredAssignment {
  pool: string;
  owner: { id: string; name: string; email: string } | null;
  unassignedReason: string | null;
  recentActivity: { at: string; type: string; data: Record<string, unknown> }[];
}

export interface HandoffView {
  id: string;
  leadId: string;
  leadEmail: string | null;
  campaignId: string;
  enrolmentId: number;
  owner: { id: string; name: string; email: string } | null;
  /** Why nobody owns it (no such pool, no active rep); null once assigned. */
  unassignedReason: string | null;
  pool: string | null;
  status: HandoffStatus;
  score: number;
  reasons: unknown;
  breakdown: unknown;
  firstContactDue: Date;
  outcomeDue: Date | null;
  createdAt: Date;
  respondedAt: Date | null;
  responseNote: string | null;
}

const SELECT = `SELECT h.*, l.email AS lead_email, r.name AS owner_name, r.email AS owner_email
  FROM handoffs h JOIN leads l ON l.id = h.lead_id LEFT JOIN sales_reps r ON r.id = h.owner_id`;

function toView(row: Record<string, any>): HandoffView {
  return {
    id: row.id,
    leadId: row.lead_id,
    leadEmail: row.lead_email,
    campaignId: row.campaign_id,
    enrolmentId: row.enrolment_id,
    owner: row.owner_id ? { id: row.owner_id, name: row.owner_name, email: row.owner_email } : null,
    unassignedReason: row.unassigned_reason,
    pool: row.pool,
    status: row.status,
    score: row.score,
    reasons: row.reasons,
    breakdown: row.breakdown,
    firstContactDue: row.first_contact_due,
    outcomeDue: row.outcome_due,
    createdAt: row.created_at,
    respondedAt: row.responded_at,
    responseNote: row.response_note,
  };
}

export async function getHandoff(db: Db, id: string): Promise<HandoffView | undefined> {
  const { rows } = await db.query(`${SELECT} WHERE h.id = $1`, [id]);
  return rows[0] && toView(rows[0]);
}

/** Newest first; `owner` is a rep's id or email. */
export async function listHandoffs(
  db: Db,
  filter: { status?: HandoffStatus; owner?: string; limit?: number; offset?: number },
): Promise<HandoffView[]> {
  const { rows } = await db.query(
    `${SELECT}
     WHERE ($1::text IS NULL OR h.status = $1)
       AND ($2::text IS NULL OR h.owner_id::text = $2 OR lower(r.email) = lower($2))
     ORDER BY h.created_at DESC, h.id
     LIMIT $3 OFFSET $4`,
    [filter.status ?? null, filter.owner ?? null, filter.limit ?? 100, filter.offset ?? 0],
  );
  return rows.map(toView);
}

export async function storedAssignment(db: Db, handoffId: string): Promise<StoredAssignment | undefined> {
  const { rows } = await db.query(
    `SELECT h.pool, h.recent_activity, h.unassigned_reason, r.id, r.name, r.email
     FROM handoffs h LEFT JOIN sales_reps r ON r.id = h.owner_id WHERE h.id = $1`,
    [handoffId],
  );
  const row = rows[0];
  return (
    row && {
      pool: row.pool,
      owner: row.id ? { id: row.id, name: row.name, email: row.email } : null,
      unassignedReason: row.unassigned_reason,
      recentActivity: row.recent_activity,
    }
  );
}

export async function insertHandoff(db: Db, handoff: NewHandoff): Promise<void> {
  await db.query(
    `INSERT INTO handoffs (id, enrolment_id, lead_id, campaign_id, owner_id, pool, score, reasons, breakdown,
                           recent_activity, first_contact_due, outcome_due, created_at, unassigned_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      handoff.id,
      handoff.enrolmentId,
      handoff.leadId,
      handoff.campaignId,
      handoff.ownerId,
      handoff.pool,
      handoff.score,
      JSON.stringify(handoff.reasons),
      JSON.stringify(handoff.breakdown),
      JSON.stringify(handoff.recentActivity),
      handoff.firstContactDue,
      handoff.outcomeDue,
      handoff.createdAt,
      handoff.unassignedReason ?? null,
    ],
  );
}

/** Appends to the handoff's timeline (assigned, notice sent, reminder, escalation, answer…). */
export async function addHandoffEvent(db: Db, handoffId: string, kind: string, detail: Record<string, unknown>, at: Date): Promise<void> {
  await db.query('INSERT INTO handoff_events (handoff_id, kind, detail, at) VALUES ($1, $2, $3, $4)', [handoffId, kind, JSON.stringify(detail), at]);
}

/** The same, unless this kind of entry is already there at this time (a retried activity appends once). */
export async function addHandoffEventOnce(db: Db, handoffId: string, kind: string, detail: Record<string, unknown>, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO handoff_events (handoff_id, kind, detail, at)
     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM handoff_events WHERE handoff_id = $1 AND kind = $2 AND at = $4)`,
    [handoffId, kind, JSON.stringify(detail), at],
  );
}

/** Records the rep's answer; false when the handoff already had it (nothing changed). */
export async function recordSalesAnswer(db: Db, answer: { handoffId: string; outcome: SalesOutcome; note?: string; at: Date }): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE handoffs SET status = $2, response_note = COALESCE($3, response_note),
            responded_at = COALESCE(responded_at, $4)
     WHERE id = $1 AND status IS DISTINCT FROM $2`,
    [answer.handoffId, answer.outcome, answer.note ?? null, answer.at],
  );
  return Boolean(rowCount);
}

/** The workflow that owns the handoff. */
export async function workflowIdOfHandoff(db: Db, handoffId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ workflow_id: string }>(
    'SELECT e.workflow_id FROM handoffs h JOIN enrolments e ON e.id = h.enrolment_id WHERE h.id = $1',
    [handoffId],
  );
  return rows[0]?.workflow_id;
}

/** A handoff as the lead profile summarises it. */
export interface HandoffSummary {
  id: string;
  campaign_id: string;
  status: HandoffStatus;
  score: number;
  reasons: string[];
  breakdown: unknown[];
  first_contact_due: Date;
  created_at: Date;
  responded_at: Date | null;
  /** The owner's name, or null while the handoff waits unassigned (then `unassigned_reason` says why). */
  owner_name: string | null;
  unassigned_reason: string | null;
}

/** The lead's most recent handoff. */
export async function latestHandoffOfLead(db: Db, leadId: string): Promise<HandoffSummary | null> {
  const { rows } = await db.query<HandoffSummary>(
    `SELECT h.id, h.campaign_id, h.status, h.score, h.reasons, h.breakdown, h.first_contact_due, h.created_at, h.responded_at,
            r.name AS owner_name, h.unassigned_reason
     FROM handoffs h LEFT JOIN sales_reps r ON r.id = h.owner_id WHERE h.lead_id = $1 ORDER BY h.created_at DESC LIMIT 1`,
    [leadId],
  );
  return rows[0] ?? null;
}
