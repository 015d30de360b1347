// Addresses never to be mailed again, from any campaign, kept by hash so that they outlive erasure.
import { addressHash, legacyAddressHash } from './addresses';
import type { Db } from './pool';

/** 'sunset': a campaign's suppress step. */
export type SuppressionReason = 'unsubscribed' | 'hard_bounce' | 'complaint' | 'erased' | 'manual' | 'sunset';

/**
 * SQL: whether the lead row aliased `lead` may not be mailed by suppression — by its keyed hash,
 * or by a legacy SHA-256 suppression of its address (see adoptAddressKey).
 */
export function leadIsSuppressed(lead: string): string {
  return `(EXISTS (SELECT 1 FROM suppressions s WHERE s.email_hash = ${lead}.email_hash)
          OR EXISTS (SELECT 1 FROM legacy_suppressions ls
                     WHERE ls.sha256 = encode(sha256(convert_to(lower(btrim(${lead}.email)), 'UTF8')), 'hex')))`;
}

/** Never mail this address again (from any campaign). The first reason recorded is kept. */
export async function suppressAddress(db: Db, address: string, reason: SuppressionReason, detail?: string): Promise<void> {
  await suppressHash(db, addressHash(address), reason, detail);
}

export async function suppressHash(db: Db, hash: string, reason: SuppressionReason, detail?: string): Promise<void> {
  await db.query(
    `INSERT INTO suppressions (email_hash, reason, detail) VALUES ($1, $2, $3) ON CONFLICT (email_hash) DO NOTHING`,
    [hash, reason, detail ?? null],
  );
}

/** Suppresses the address of an unerased lead; false when there is none to suppress. */
export async function suppressLead(db: Db, leadId: string, reason: SuppressionReason, detail: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO suppressions (email_hash, reason, detail)
     SELECT email_hash, $2, $3 FROM leads WHERE id = $1 AND erased_at IS NULL AND email_hash IS NOT NULL
     ON CONFLICT (email_hash) DO NOTHING`,
    [leadId, reason, detail],
  );
  return (rowCount ?? 0) > 0;
}

export async function suppressionOf(db: Db, address: string): Promise<{ reason: SuppressionReason; createdAt: Date } | undefined> {
  const { rows } = await db.query(
    `SELECT reason, created_at FROM suppressions WHERE email_hash = $1
     UNION ALL SELECT reason, created_at FROM legacy_suppressions WHERE sha256 = $2 LIMIT 1`,
    [addressHash(address), legacyAddressHash(address)],
  );
  return rows[0] && { reason: rows[0].reason, createdAt: rows[0].created_at };
}

/** Why the lead's address may not be mailed, if it may not (survives erasure: keyed by the hash). */
export async function suppressionReasonOfLead(db: Db, leadId: string): Promise<SuppressionReason | null> {
  const { rows } = await db.query<{ reason: SuppressionReason }>(
    'SELECT s.reason FROM suppressions s JOIN leads l ON l.email_hash = s.email_hash WHERE l.id = $1',
    [leadId],
  );
  return rows[0]?.reason ?? null;
}
