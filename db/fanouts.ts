// Campaign-wide requests (pause, resume, archive, migrate) carried to the open enrolments page by
// page, with their progress: `campaign_fanouts`. Pages are taken in enrolment-id order after a
// cursor, so a fan-out that is interrupted resumes where it stopped.
import type { Db } from './pool';

export type FanOutAction = 'pause' | 'resume' | 'archive' | 'migrate';

export interface FanOut {
  id: number;
  campaignId: string;
  action: FanOutAction;
  statusSeq: number | null;
  toVersion: number | null;
  fromVersion: number | null;
  total: number;
  done: number;
  skipped: number;
  cursor: number;
  createdAt: Date;
  finishedAt: Date | null;
}

const toFanOut = (row: Record<string, any>): FanOut => ({
  id: row.id,
  campaignId: row.campaign_id,
  action: row.action,
  statusSeq: row.status_seq,
  toVersion: row.to_version,
  fromVersion: row.from_version,
  total: row.total,
  done: row.done,
  skipped: row.skipped,
  cursor: row.cursor,
  createdAt: row.created_at,
  finishedAt: row.finished_at,
});

/** The open enrolments a fan-out reaches: a migration only those not on its target version (and on `from_version` if given). */
const TARGETS = `campaign_id = $1 AND ended_at IS NULL
  AND ($2::int IS NULL OR campaign_version <> $2) AND ($3::int IS NULL OR campaign_version = $3)`;

export async function createFanOut(
  db: Db,
  request: { campaignId: string; action: FanOutAction; statusSeq?: number; toVersion?: number; fromVersion?: number },
): Promise<FanOut> {
  const { rows } = await db.query(
    `INSERT INTO campaign_fanouts (campaign_id, action, status_seq, to_version, from_version, total)
     SELECT $1, $4, $5, $2, $3, count(*) FROM enrolments WHERE ${TARGETS}
     RETURNING *`,
    [request.campaignId, request.toVersion ?? null, request.fromVersion ?? null, request.action, request.statusSeq ?? null],
  );
  return toFanOut(rows[0]);
}

export async function getFanOut(db: Db, id: number): Promise<FanOut | undefined> {
  const { rows } = await db.query('SELECT * FROM campaign_fanouts WHERE id = $1', [id]);
  return rows[0] && toFanOut(rows[0]);
}

/** A campaign's fan-outs, newest first. */
export async function listFanOuts(db: Db, campaignId: string, limit = 20): Promise<FanOut[]> {
  const { rows } = await db.query('SELECT * FROM campaign_fanouts WHERE campaign_id = $1 ORDER BY id DESC LIMIT $2', [campaignId, limit]);
  return rows.map(toFanOut);
}

/** The next page of enrolments the fan-out reaches, after its cursor. */
export async function fanOutTargets(db: Db, fanOut: FanOut, limit: number): Promise<{ id: number; workflowId: string }[]> {
  const { rows } = await db.query<{ id: number; workflow_id: string }>(
    `SELECT id, workflow_id FROM enrolments WHERE ${TARGETS} AND id > $4 ORDER BY id LIMIT $5`,
    [fanOut.campaignId, fanOut.toVersion, fanOut.fromVersion, fanOut.cursor, limit],
  );
  return rows.map((row) => ({ id: row.id, workflowId: row.workflow_id }));
}

/** Advances the cursor past a page, once (a retried page changes nothing); `finished` when no page is left. */
export async function recordFanOutPage(db: Db, id: number, page: { cursor: number; done: number; skipped: number; finished: boolean }): Promise<void> {
  await db.query(
    `UPDATE campaign_fanouts SET cursor = greatest(cursor, $2), done = done + $3, skipped = skipped + $4,
            finished_at = CASE WHEN $5 THEN coalesce(finished_at, now()) ELSE finished_at END
     WHERE id = $1 AND (cursor < $2 OR ($5 AND finished_at IS NULL))`,
    [id, page.cursor, page.done, page.skipped, page.finished],
  );
}

/** Fan-outs not finished that were asked for at least `olderThanMs` ago (their workflow may never have started). */
export async function unfinishedFanOuts(db: Db, olderThanMs: number): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM campaign_fanouts WHERE finished_at IS NULL AND created_at <= now() - make_interval(secs => $1) ORDER BY id`,
    [olderThanMs / 1000],
  );
  return rows.map((row) => row.id);
}
