// Campaign launches to leads already known (`campaign_launches`): the leads matching a segment
// condition, or a list. A launcher scans the candidates page by page in lead-id order past a
// cursor, and for each one that qualifies stores an entry event `launch:<launch>:<lead>` in the
// same transaction that moves the cursor: a launch interrupted anywhere resumes where it stopped,
// and a lead is queued once whatever happens (the event id is unique). The dispatcher delivers
// those events, enrolling each lead (or noting why not), and counts the outcome here.
import { latestConsent } from './consent';
import { storeEvents, type EventInput, type StoredEvent } from './events';
import { inTransaction, type Db, type Pool } from './pool';
import { leadIsSuppressed } from './suppressions';

/** The type of a launch's entry events (ids `launch:…`, a prefix the events API refuses). */
export const LAUNCH_EVENT_TYPE = 'campaign.launched';
const LAUNCH_ID_PREFIX = 'launch:';

export const launchEventId = (launchId: number, leadId: string) => `${LAUNCH_ID_PREFIX}${launchId}:${leadId}`;

/** The launch and campaign a stored launch event enrols its lead into, or undefined for any other event. */
export function launchOf(event: Pick<StoredEvent, 'externalId' | 'type' | 'data'>): { launchId: number; campaignId: string } | undefined {
  if (event.type !== LAUNCH_EVENT_TYPE || !event.externalId.startsWith(LAUNCH_ID_PREFIX)) return undefined;
  const { campaign, launch } = event.data;
  return typeof campaign === 'string' && typeof launch === 'number' ? { launchId: launch, campaignId: campaign } : undefined;
}

/** Why a candidate was not queued (launcher) or a queued lead not enrolled (dispatcher). */
export type LaunchSkip = 'not_matching' | 'no_consent' | 'suppressed' | 'erased';
export type LaunchNotEntered = 'already_enrolled' | 'reentry' | 'campaign_not_active' | 'erased';

export interface Launch {
  id: number;
  campaignId: string;
  segment: string | null;
  leadIds: string[] | null;
  perMinute: number | null;
  status: 'running' | 'done' | 'cancelled';
  total: number;
  scanned: number;
  queued: number;
  skipped: Partial<Record<LaunchSkip, number>>;
  enrolled: number;
  notEntered: Partial<Record<LaunchNotEntered, number>>;
  cursor: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

const toLaunch = (row: Record<string, any>): Launch => ({
  id: row.id,
  campaignId: row.campaign_id,
  segment: row.segment,
  leadIds: row.lead_ids,
  perMinute: row.per_minute,
  status: row.status,
  total: row.total,
  scanned: row.scanned,
  queued: row.queued,
  skipped: row.skipped,
  enrolled: row.enrolled,
  notEntered: row.not_entered,
  cursor: row.cursor,
  createdAt: row.created_at,
  finishedAt: row.finished_at,
});

/** A counts-by-reason column (`{"reason": n}`) with the counts of the JSON parameter added. */
const addedCounts = (column: string, parameter: string) =>
  `(SELECT coalesce(jsonb_object_agg(key, coalesce((${column} ->> key)::int, 0) + coalesce((${parameter}::jsonb ->> key)::int, 0)), '{}')
    FROM jsonb_object_keys(${column} || ${parameter}::jsonb) AS key)`;

/** The leads a launch considers: unerased ones, all of them for a segment, the listed ones for a list. */
const CANDIDATES = `l.erased_at IS NULL AND l.email IS NOT NULL AND ($1::uuid[] IS NULL OR l.id = ANY($1::uuid[]))`;

export async function createLaunch(
  db: Db,
  request: { campaignId: string; segment?: string; leadIds?: string[]; perMinute?: number },
): Promise<Launch> {
  const leadIds = request.leadIds ? [...new Set(request.leadIds)] : null;
  const { rows } = await db.query(
    `INSERT INTO campaign_launches (campaign_id, segment, lead_ids, per_minute, total)
     SELECT $2, $3, $1, $4, count(*) FROM leads l WHERE ${CANDIDATES}
     RETURNING *`,
    [leadIds, request.campaignId, request.segment ?? null, request.perMinute ?? null],
  );
  return toLaunch(rows[0]);
}

export async function getLaunch(db: Db, id: number): Promise<Launch | undefined> {
  const { rows } = await db.query('SELECT * FROM campaign_launches WHERE id = $1', [id]);
  return rows[0] && toLaunch(rows[0]);
}

export async function launchesOf(db: Db, campaignId: string, limit = 20): Promise<Launch[]> {
  const { rows } = await db.query('SELECT * FROM campaign_launches WHERE campaign_id = $1 ORDER BY id DESC LIMIT $2', [campaignId, limit]);
  return rows.map(toLaunch);
}

/** Stops a running launch; leads already queued are still enrolled. Whether it was running. */
export async function cancelLaunch(db: Db, id: number): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE campaign_launches SET status = 'cancelled', finished_at = now() WHERE id = $1 AND status = 'running'`, [id]);
  return rowCount === 1;
}

/** Takes a running launch no other launcher holds, for `leaseMs` (renewed with each page). */
export async function claimLaunch(db: Db, leaseMs: number): Promise<Launch | undefined> {
  const { rows } = await db.query(
    `UPDATE campaign_launches SET claimed_until = now() + make_interval(secs => $1::float8 / 1000)
     WHERE id = (
       SELECT id FROM campaign_launches
       WHERE status = 'running' AND (claimed_until IS NULL OR claimed_until < now())
       ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
     )
     RETURNING *`,
    [leaseMs],
  );
  return rows[0] && toLaunch(rows[0]);
}

export interface LaunchCandidate {
  id: string;
  email: string;
  attributes: Record<string, unknown>;
  consent: Record<string, boolean>;
  suppressed: boolean;
  /** Recent events (the last 400 days, at most 500), for conditions over behaviour. */
  events: { type: string; at: number; data: Record<string, unknown>; machine: boolean }[];
}

/** The next page of the launch's candidates after its cursor, with what a segment condition and the consent check need. */
export async function launchCandidates(db: Db, launch: Launch, limit: number): Promise<LaunchCandidate[]> {
  const { rows } = await db.query(
    `SELECT l.id, l.email, l.attributes,
       (SELECT coalesce(jsonb_object_agg(c.purpose, c.granted), '{}') FROM (${latestConsent('l.id')}) c) AS consent,
       ${leadIsSuppressed('l')} AS suppressed,
       CASE WHEN $4 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'type', e.type, 'at', (extract(epoch FROM e.occurred_at) * 1000)::bigint, 'data', e.data, 'machine', e.machine)), '[]')
          FROM (SELECT * FROM events WHERE lead_id = l.id AND occurred_at > now() - interval '400 days'
                ORDER BY occurred_at DESC LIMIT 500) e)
       ELSE '[]'::jsonb END AS events
     FROM leads l
     WHERE ${CANDIDATES}
       AND ($2::uuid IS NULL OR l.id > $2)
     ORDER BY l.id LIMIT $3`,
    [launch.leadIds, launch.cursor, limit, launch.segment !== null],
  );
  return rows.map((row) => ({ id: row.id, email: row.email, attributes: row.attributes, consent: row.consent, suppressed: row.suppressed, events: row.events }));
}

/**
 * One page done, atomically: the entry events of the leads that qualified are stored, the cursor
 * and counts move, the lease is renewed, and the launch is done when `last`. False when the
 * launch was cancelled meanwhile (nothing is stored then).
 */
export async function recordLaunchPage(
  pool: Pool,
  launch: Launch,
  page: { cursor: string; scanned: number; queue: string[]; skipped: Partial<Record<LaunchSkip, number>>; last: boolean; at: Date; leaseMs: number },
): Promise<boolean> {
  return inTransaction(pool, async (tx) => {
    const { rowCount } = await tx.query(
      `UPDATE campaign_launches SET
         cursor = $2, scanned = scanned + $3, queued = queued + $4,
         skipped = ${addedCounts('skipped', '$5')},
         status = CASE WHEN $6 THEN 'done' ELSE status END,
         finished_at = CASE WHEN $6 THEN now() ELSE finished_at END,
         claimed_until = now() + make_interval(secs => $7::float8 / 1000)
       WHERE id = $1 AND status = 'running' AND (cursor IS NULL OR cursor < $2)`,
      [launch.id, page.cursor, page.scanned, page.queue.length, JSON.stringify(page.skipped), page.last, page.leaseMs],
    );
    if (!rowCount) return false;
    const events: EventInput[] = page.queue.map((leadId) => ({
      externalId: launchEventId(launch.id, leadId),
      leadId,
      type: LAUNCH_EVENT_TYPE,
      occurredAt: page.at,
      data: { campaign: launch.campaignId, launch: launch.id },
      machine: true, // an instruction, not the lead's behaviour
    }));
    await storeEvents(tx, events);
    return true;
  });
}

/** Finishes a launch whose candidates ran out (its last page was full). */
export async function finishLaunch(db: Db, id: number): Promise<void> {
  await db.query(`UPDATE campaign_launches SET status = 'done', finished_at = now() WHERE id = $1 AND status = 'running'`, [id]);
}

/** Adds the dispatcher's outcomes of delivered launch events (in the transaction that marks them delivered). */
export async function recordLaunchOutcomes(db: Db, outcomes: Map<number, { enrolled: number; notEntered: Partial<Record<LaunchNotEntered, number>> }>): Promise<void> {
  for (const [id, outcome] of outcomes) {
    await db.query(
      `UPDATE campaign_launches SET enrolled = enrolled + $2,
         not_entered = ${addedCounts('not_entered', '$3')}
       WHERE id = $1`,
      [id, outcome.enrolled, JSON.stringify(outcome.notEntered)],
    );
  }
}
