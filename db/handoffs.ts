// Handoffs of qualified leads to sales, with the rep who owns each and its timeline
// (handoff_events). The workflow's activities write them, idempotently on the handoff id; the
// API reads them.
import type { HandoffConfig, HandoffRoute, HandoffStatus, SalesOutcome } from '../campaign';
import type { Db } from './pool';
import { AWAY_UNTIL } from './sales-team';

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
  /** Handoffs the sales desk keeps: what it needs, why the owner was chosen, and its clock. */
  desk?: DeskSettings;
  routingLog?: RoutingLogEntry[];
  remindAt?: Date | null;
  deskDue?: Date | null;
}

/** What the sales desk needs of a handoff's campaign (the `desk` column). */
export interface DeskSettings {
  route: HandoffRoute;
  sla: HandoffConfig['sla'];
  template: string;
  from: { name?: string; email: string };
  campaign: { id: string; version: number; name: string };
}

/** One routing decision: who got the lead (or nobody) and why the others did not. */
export interface RoutingLogEntry {
  at: string;
  /** 'assigned', 'waiting', 'reassigned' */
  outcome: string;
  pool: string;
  rule: string;
  group: string;
  owner: string | null;
  /** Why this owner (or why the handoff moved). */
  why: string;
  skipped: { rep: string; reason: string }[];
}

/** A stored handoff's owner and what was recorded with it. */
export interface StoredAssignment {
  pool: string;
  owner: { id: string; name: string; email: string } | null;
  unassignedReason: string | null;
  recentActivity: { at: string; type: string; data: Record<string, unknown> }[];
  firstContactDue: number;
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
  routingLog: RoutingLogEntry[];
  /** Kept by the sales desk (SLA on the sales calendar). */
  desk: boolean;
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
    routingLog: row.routing_log,
    desk: row.desk !== null,
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
    `SELECT h.pool, h.recent_activity, h.unassigned_reason, h.first_contact_due, r.id, r.name, r.email
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
      firstContactDue: row.first_contact_due.getTime(),
    }
  );
}

export async function insertHandoff(db: Db, handoff: NewHandoff): Promise<void> {
  await db.query(
    `INSERT INTO handoffs (id, enrolment_id, lead_id, campaign_id, owner_id, pool, score, reasons, breakdown,
                           recent_activity, first_contact_due, outcome_due, created_at, unassigned_reason,
                           desk, routing_log, assigned_at, remind_at, desk_due)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
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
      handoff.desk ? JSON.stringify(handoff.desk) : null,
      JSON.stringify(handoff.routingLog ?? []),
      handoff.ownerId ? handoff.createdAt : null,
      handoff.remindAt ?? null,
      handoff.deskDue ?? null,
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
  routing_log: RoutingLogEntry[];
}

/** The lead's most recent handoff. */
export async function latestHandoffOfLead(db: Db, leadId: string): Promise<HandoffSummary | null> {
  const { rows } = await db.query<HandoffSummary>(
    `SELECT h.id, h.campaign_id, h.status, h.score, h.reasons, h.breakdown, h.first_contact_due, h.created_at, h.responded_at,
            r.name AS owner_name, h.unassigned_reason, h.routing_log
     FROM handoffs h LEFT JOIN sales_reps r ON r.id = h.owner_id WHERE h.lead_id = $1 ORDER BY h.created_at DESC LIMIT 1`,
    [leadId],
  );
  return rows[0] ?? null;
}

// ——— the sales desk ———

/** A handoff as the sales desk works it. */
export interface DeskHandoff {
  id: string;
  enrolmentId: number;
  leadId: string;
  campaignId: string;
  pool: string;
  ownerId: string | null;
  status: 'pending' | 'accepted';
  score: number;
  reasons: string[];
  breakdown: unknown[];
  recentActivity: unknown[];
  desk: DeskSettings;
  createdAt: Date;
  assignedAt: Date | null;
  firstContactDue: Date;
  remindAt: Date | null;
  remindedAt: Date | null;
  escalatedAt: Date | null;
  outcomeDue: Date | null;
  outcomeEscalatedAt: Date | null;
  reassignments: number;
  routingLog: RoutingLogEntry[];
}

const deskHandoffOf = (row: Record<string, any>): DeskHandoff => ({
  id: row.id,
  enrolmentId: Number(row.enrolment_id),
  leadId: row.lead_id,
  campaignId: row.campaign_id,
  pool: row.pool,
  ownerId: row.owner_id,
  status: row.status,
  score: row.score,
  reasons: row.reasons,
  breakdown: row.breakdown,
  recentActivity: row.recent_activity,
  desk: row.desk,
  createdAt: row.created_at,
  assignedAt: row.assigned_at,
  firstContactDue: row.first_contact_due,
  remindAt: row.remind_at,
  remindedAt: row.reminded_at,
  escalatedAt: row.escalated_at,
  outcomeDue: row.outcome_due,
  outcomeEscalatedAt: row.outcome_escalated_at,
  reassignments: row.reassignments,
  routingLog: row.routing_log,
});

// Open desk handoffs of open enrolments (an erased lead's enrolment has ended: nothing more for it).
const DESK_OPEN = `h.desk IS NOT NULL AND h.status IN ('pending', 'accepted')
  AND EXISTS (SELECT 1 FROM enrolments e WHERE e.id = h.enrolment_id AND e.ended_at IS NULL)`;

/**
 * Locks (skipping those another desk holds) up to `limit` handoffs with something to do at `now`:
 * a deadline due, no owner yet (oldest first, optionally of one pool), or an owner who is away
 * or inactive when the campaign reassigns then. `skip`: handoffs already worked in this round.
 */
export async function claimDeskHandoffs(db: Db, now: Date, limit: number, options: { pool?: string; skip?: string[] } = {}): Promise<DeskHandoff[]> {
  const { rows } = await db.query(
    `SELECT h.* FROM handoffs h
     WHERE ${DESK_OPEN} AND ($3::text IS NULL OR h.pool = $3) AND NOT (h.id = ANY ($4::text[])) AND (
       h.desk_due <= $1
       OR (h.owner_id IS NULL AND h.status = 'pending')
       OR (h.status = 'pending' AND (h.desk -> 'sla' -> 'reassign' ->> 'ownerAway')::boolean AND EXISTS (
             SELECT 1 FROM sales_reps r WHERE r.id = h.owner_id AND (NOT r.active OR ${AWAY_UNTIL('$1')} IS NOT NULL))))
     ORDER BY (h.owner_id IS NULL) DESC, h.created_at
     LIMIT $2
     FOR UPDATE OF h SKIP LOCKED`,
    [now, limit, options.pool ?? null, options.skip ?? []],
  );
  return rows.map(deskHandoffOf);
}

/** The handoff locked for the desk (the activity that opened it works it at once). */
export async function lockDeskHandoff(db: Db, id: string): Promise<DeskHandoff | undefined> {
  const { rows } = await db.query(`SELECT h.* FROM handoffs h WHERE h.id = $1 AND ${DESK_OPEN} FOR UPDATE OF h`, [id]);
  return rows[0] && deskHandoffOf(rows[0]);
}

export interface DeskChange {
  ownerId?: string | null;
  pool?: string;
  assignedAt?: Date | null;
  unassignedReason?: string | null;
  firstContactDue?: Date;
  remindAt?: Date | null;
  remindedAt?: Date | null;
  escalatedAt?: Date | null;
  outcomeDue?: Date | null;
  outcomeEscalatedAt?: Date | null;
  reassignments?: number;
  routingLog?: RoutingLogEntry[];
  deskDue: Date | null;
}

const DESK_COLUMNS: Record<keyof DeskChange, string> = {
  ownerId: 'owner_id',
  pool: 'pool',
  assignedAt: 'assigned_at',
  unassignedReason: 'unassigned_reason',
  firstContactDue: 'first_contact_due',
  remindAt: 'remind_at',
  remindedAt: 'reminded_at',
  escalatedAt: 'escalated_at',
  outcomeDue: 'outcome_due',
  outcomeEscalatedAt: 'outcome_escalated_at',
  reassignments: 'reassignments',
  routingLog: 'routing_log',
  deskDue: 'desk_due',
};

export async function updateDeskHandoff(db: Db, id: string, change: DeskChange): Promise<void> {
  const fields = (Object.keys(change) as (keyof DeskChange)[]).filter((key) => change[key] !== undefined);
  await db.query(
    `UPDATE handoffs SET ${fields.map((key, i) => `${DESK_COLUMNS[key]} = $${i + 2}`).join(', ')} WHERE id = $1`,
    [id, ...fields.map((key) => (key === 'routingLog' ? JSON.stringify(change[key]) : change[key]))],
  );
}

/** The desk settings of a handoff the desk keeps; undefined for others. */
export async function deskSettingsOf(db: Db, handoffId: string): Promise<DeskSettings | undefined> {
  const { rows } = await db.query('SELECT desk FROM handoffs WHERE id = $1', [handoffId]);
  return rows[0]?.desk ?? undefined;
}

export async function handoffOwner(db: Db, handoffId: string): Promise<string | null> {
  const { rows } = await db.query('SELECT owner_id FROM handoffs WHERE id = $1', [handoffId]);
  return rows[0]?.owner_id ?? null;
}

/** Wakes the workers' sales desks (a team change may let waiting handoffs be assigned). */
export async function notifySalesDesk(db: Db): Promise<void> {
  await db.query(`NOTIFY nurture_sales_desk`);
}
export const SALES_DESK_CHANNEL = 'nurture_sales_desk';

/** A rep's open handoffs, oldest deadline first, with the lead's context. */
export async function openHandoffsOfRep(db: Db, repId: string): Promise<(HandoffView & { leadAttributes: Record<string, unknown>; recentActivity: unknown[] })[]> {
  const { rows } = await db.query(
    `SELECT h.*, l.email AS lead_email, l.attributes AS lead_attributes, r.name AS owner_name, r.email AS owner_email
     FROM handoffs h JOIN leads l ON l.id = h.lead_id LEFT JOIN sales_reps r ON r.id = h.owner_id
     WHERE h.owner_id = $1 AND h.status IN ('pending', 'accepted')
       AND EXISTS (SELECT 1 FROM enrolments e WHERE e.id = h.enrolment_id AND e.ended_at IS NULL)
     ORDER BY h.first_contact_due, h.id`,
    [repId],
  );
  return rows.map((row) => ({ ...toView(row), leadAttributes: row.lead_attributes, recentActivity: row.recent_activity }));
}

export interface RepLoad {
  id: string;
  name: string;
  email: string;
  pool: string;
  active: boolean;
  weight: number;
  capacity: number | null;
  awayUntil: Date | null;
  open: number;
  overdue: number;
  /** Handoffs answered (first contact) in the period, and how many of them in time. */
  answered: number;
  answeredInTime: number;
}

/** Each rep's load and SLA record since `since`, and the handoffs waiting for an owner. */
export async function salesDeskOverview(db: Db, now: Date, since: Date): Promise<{ reps: RepLoad[]; unassigned: HandoffView[]; overdue: HandoffView[] }> {
  const [reps, unassigned, overdue] = await Promise.all([
    db.query(
      `SELECT r.id, r.name, r.email, r.pool, r.active, r.weight, r.capacity,
              ${AWAY_UNTIL('$1')} AS away_until,
              count(h.id) FILTER (WHERE h.status IN ('pending', 'accepted'))::int AS open,
              count(h.id) FILTER (WHERE h.status = 'pending' AND h.first_contact_due < $1)::int AS overdue,
              count(h.id) FILTER (WHERE h.responded_at >= $2)::int AS answered,
              count(h.id) FILTER (WHERE h.responded_at >= $2 AND h.responded_at <= h.first_contact_due)::int AS answered_in_time
       FROM sales_reps r LEFT JOIN handoffs h ON h.owner_id = r.id
       GROUP BY r.id ORDER BY r.pool, r.created_at, r.email`,
      [now, since],
    ),
    db.query(`${SELECT} WHERE h.owner_id IS NULL AND h.status = 'pending' AND ${DESK_OPEN} ORDER BY h.created_at LIMIT 200`),
    db.query(`${SELECT} WHERE h.owner_id IS NOT NULL AND h.status = 'pending' AND h.first_contact_due < $1 AND ${DESK_OPEN} ORDER BY h.first_contact_due LIMIT 200`, [now]),
  ]);
  return {
    reps: reps.rows.map((row) => ({
      id: row.id,
      name: row.name,
      email: row.email,
      pool: row.pool,
      active: row.active,
      weight: row.weight,
      capacity: row.capacity,
      awayUntil: row.away_until,
      open: row.open,
      overdue: row.overdue,
      answered: row.answered,
      answeredInTime: row.answered_in_time,
    })),
    unassigned: unassigned.rows.map(toView),
    overdue: overdue.rows.map(toView),
  };
}
