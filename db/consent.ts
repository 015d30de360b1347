// Consent records: every grant and withdrawal with its evidence, appended, never overwritten.
import type { Db } from './pool';

export interface ConsentInput {
  leadId: string;
  purpose: string;
  granted: boolean;
  /** Where the decision came from, e.g. 'form:whitepaper', 'api', 'unsubscribe-link', 'import'. */
  source: string;
  ip?: string | null;
  userAgent?: string | null;
  evidence?: Record<string, unknown>;
  at?: Date;
}

export interface ConsentRecord {
  id: number;
  purpose: string;
  granted: boolean;
  source: string;
  ip: string | null;
  userAgent: string | null;
  evidence: Record<string, unknown>;
  recordedAt: Date;
}

/** Appends a grant or withdrawal to the lead's consent history (nothing is ever overwritten). */
export async function recordConsent(db: Db, input: ConsentInput): Promise<ConsentRecord> {
  const { rows } = await db.query(
    `INSERT INTO consent_records (lead_id, purpose, granted, source, ip, user_agent, evidence, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, now()))
     RETURNING id, purpose, granted, source, host(ip) AS ip, user_agent, evidence, recorded_at`,
    [input.leadId, input.purpose, input.granted, input.source, input.ip ?? null, input.userAgent ?? null, JSON.stringify(input.evidence ?? {}), input.at ?? null],
  );
  return toRecord(rows[0]);
}

/**
 * Records a withdrawal unless the latest decision for the purpose is one already (an activity's
 * retry records nothing twice); nothing for an erased lead. True when a record was added.
 */
export async function withdrawConsentOnce(db: Db, input: Pick<ConsentInput, 'leadId' | 'purpose' | 'source' | 'evidence'>): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO consent_records (lead_id, purpose, granted, source, evidence)
     SELECT $1, $2, false, $3, $4
     WHERE EXISTS (SELECT 1 FROM leads WHERE id = $1 AND erased_at IS NULL)
       AND COALESCE((SELECT granted FROM consent_records WHERE lead_id = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1), true)`,
    [input.leadId, input.purpose, input.source, JSON.stringify(input.evidence ?? {})],
  );
  return (rowCount ?? 0) > 0;
}

/** The SQL of the latest decision per purpose (`purpose`, `granted`) of the lead `lead` names (a parameter or a column). */
export const latestConsent = (lead: string) =>
  `SELECT DISTINCT ON (purpose) purpose, granted FROM consent_records WHERE lead_id = ${lead} ORDER BY purpose, id DESC`;

/** The latest decision per purpose. */
export async function currentConsent(db: Db, leadId: string): Promise<Record<string, boolean>> {
  const { rows } = await db.query<{ purpose: string; granted: boolean }>(latestConsent('$1'), [leadId]);
  return Object.fromEntries(rows.map((row) => [row.purpose, row.granted]));
}

export async function consentHistory(db: Db, leadId: string): Promise<ConsentRecord[]> {
  const { rows } = await db.query(
    `SELECT id, purpose, granted, source, host(ip) AS ip, user_agent, evidence, recorded_at
     FROM consent_records WHERE lead_id = $1 ORDER BY recorded_at, id`,
    [leadId],
  );
  return rows.map(toRecord);
}

function toRecord(row: Record<string, any>): ConsentRecord {
  return {
    id: Number(row.id),
    purpose: row.purpose,
    granted: row.granted,
    source: row.source,
    ip: row.ip,
    userAgent: row.user_agent,
    evidence: row.evidence,
    recordedAt: row.recorded_at,
  };
}
