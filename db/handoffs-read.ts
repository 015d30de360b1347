// Reading handoffs for the API (the workflow's activities write them).
import type { Db } from './pool';

export type HandoffStatus = 'pending' | 'accepted' | 'not_ready' | 'disqualified' | 'converted';

export interface HandoffView {
  id: string;
  leadId: string;
  leadEmail: string | null;
  campaignId: string;
  enrolmentId: number;
  owner: { id: string; name: string; email: string } | null;
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
