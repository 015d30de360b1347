// Opens and clicks of sent emails, each flagged human or machine (a privacy proxy, a link scanner).
import type { Db } from './pool';

export type EngagementKind = 'open' | 'click';

export interface NewEngagement {
  sendId: number;
  kind: EngagementKind;
  url: string | null;
  ip: string | null;
  userAgent: string | null;
  machine: boolean;
  machineReason: string | null;
  at: Date;
}

/** Stores the engagement and returns its id. */
export async function recordEngagement(db: Db, engagement: NewEngagement): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO email_engagements (send_id, kind, url, ip, user_agent, machine, machine_reason, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [engagement.sendId, engagement.kind, engagement.url, engagement.ip, engagement.userAgent, engagement.machine, engagement.machineReason, engagement.at],
  );
  return rows[0]!.id;
}
