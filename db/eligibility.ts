// Whether a marketing email may go to a lead right now: the database's word, asked when the
// send is queued and again just before the mailer hands it to SMTP, so that a lead who
// unsubscribes while a workflow sleeps gets nothing more, from any campaign.
import type { Db } from './pool';
import { leadIsSuppressed } from './suppressions';

export type Ineligibility = 'skipped_no_consent' | 'suppressed' | 'capped';

export interface FrequencyCap {
  /** At most this many marketing emails to one lead … */
  max: number;
  /** … within this many milliseconds, across all campaigns. */
  windowMs: number;
}

export async function marketingIneligibility(
  db: Db,
  leadId: string,
  purpose: string,
  cap: FrequencyCap | undefined,
  /** The sender's clock (a workflow's time, which a test server may run ahead of the wall clock). */
  now: Date,
  /** An earlier send of this very email does not count against the cap. */
  excludeSendKey?: string,
): Promise<Ineligibility | undefined> {
  const { rows } = await db.query<{ erased: boolean; suppressed: boolean; granted: boolean | null; recent: number }>(
    `SELECT l.erased_at IS NOT NULL OR l.email IS NULL AS erased,
            ${leadIsSuppressed('l')} AS suppressed,
            (SELECT c.granted FROM consent_records c WHERE c.lead_id = l.id AND c.purpose = $2
              ORDER BY c.id DESC LIMIT 1) AS granted,
            (SELECT count(*)::int FROM email_sends e WHERE e.lead_id = l.id AND e.kind IN ('step', 'trigger')
              AND e.status IN ('queued', 'sending', 'sent', 'deferred', 'unconfirmed')
              AND e.created_at > $3::timestamptz - make_interval(secs => $4)
              AND e.idempotency_key IS DISTINCT FROM $5) AS recent
     FROM leads l WHERE l.id = $1`,
    [leadId, purpose, now, (cap?.windowMs ?? 0) / 1000, excludeSendKey ?? null],
  );
  const row = rows[0];
  if (!row || row.erased || row.suppressed) return 'suppressed';
  if (row.granted !== true) return 'skipped_no_consent';
  if (cap && row.recent >= cap.max) return 'capped';
  return undefined;
}
