// The email a signed link belongs to, found by the message key written in its token.
import type { Db } from '../db/pool';

export interface TrackedSend {
  id: number;
  idempotencyKey: string;
  leadId: string | null;
  leadErased: boolean;
  emailHash: string | null;
  campaignId: string | null;
  stepPath: string | null;
  template: string;
  consentPurpose: string | null;
  sentAt: Date | null;
}

export async function sendByMessageKey(db: Db, messageKey: string): Promise<TrackedSend | undefined> {
  const { rows } = await db.query(
    `SELECT s.id, s.idempotency_key, s.lead_id, s.campaign_id, s.step_path, s.template, s.consent_purpose, s.sent_at,
            l.erased_at IS NOT NULL AS lead_erased, l.email_hash
     FROM email_sends s LEFT JOIN leads l ON l.id = s.lead_id
     WHERE s.message_key = $1`,
    [messageKey],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    leadId: row.lead_id,
    leadErased: row.lead_erased,
    emailHash: row.email_hash,
    campaignId: row.campaign_id,
    stepPath: row.step_path,
    template: row.template,
    consentPurpose: row.consent_purpose,
    sentAt: row.sent_at,
  };
}
