// The outbox and the record of every email (`email_sends`). A send activity stores each email
// under its idempotency key — so a retried or re-run activity finds its earlier row instead of
// mailing twice; the mailer claims due rows one at a time, sends them and records the outcome.
// The outcome reaches the workflow one of two ways: a row that names the workflow to tell
// (`report_to`) is reported by a signal; a row written by the earlier send activity holds the task
// token of the activity waiting for it. NOTIFY nurture_outbox wakes the mailers.
import type { EmailKind, SendOutcome } from '../campaign';
import { MARKETING_HELD_STATUSES, SEND_OUTCOMES } from '../campaign';
import type { Db } from './pool';

/** A row's status: waiting in the outbox, being sent, or final. */
export type OutboxStatus = 'queued' | 'sending' | 'deferred' | SendOutcome;

export const OUTBOX_CHANNEL = 'nurture_outbox';

export function isFinal(status: OutboxStatus): status is SendOutcome {
  return (SEND_OUTCOMES as readonly string[]).includes(status);
}

export interface NewSend {
  idempotencyKey: string;
  messageId: string;
  /** The short key in tracking links. */
  messageKey: string;
  kind: EmailKind;
  enrolmentId: number | null;
  campaignId: string;
  campaignVersion: number;
  leadId: string;
  stepPath: string | null;
  template: string;
  abTest: string | null;
  variant: string | null;
  /** Checked again just before sending; null for sales mail. */
  consentPurpose: string | null;
  subject: string;
  /** The workflow's clock: when the email was asked for. */
  createdAt: Date;
  status: 'queued' | SendOutcome;
  toAddress: string | null;
  /** The rendered message (JSON), for a queued email. */
  message?: object;
  /** The earlier send activity: completes the attempt waiting for this row. */
  taskToken?: Buffer;
  /** The workflow told the outcome by a signal, and the send key it is told under. */
  reportTo?: string;
  reportKey?: string;
}

/** Where a row's outcome goes: the waiting activity's token, or the workflow to signal. */
export interface SendListener {
  taskToken: Buffer | null;
  enrolmentId: number | null;
  reportTo: string | null;
  reportKey: string | null;
  variant: string | null;
}

/** A row claimed by a mailer. */
export interface ClaimedSend {
  id: number;
  leadId: string | null;
  consentPurpose: string | null;
  toAddress: string | null;
  /** The rendered message as stored; null once the lead was erased. */
  message: unknown;
  messageId: string;
}

const LISTENER_COLUMNS = 'task_token, enrolment_id, report_to, report_key, variant';
const toListener = (row: { task_token: Buffer | null; enrolment_id: number | null; report_to: string | null; report_key: string | null; variant: string | null }): SendListener => ({
  taskToken: row.task_token,
  enrolmentId: row.enrolment_id,
  reportTo: row.report_to,
  reportKey: row.report_key,
  variant: row.variant,
});

/** The email a tracking, unsubscribe or answer link belongs to, found by its message key. */
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

const DUE = `status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= now())`;
/** Marketing email of a campaign that is paused or archived never goes out. */
const HELD = `kind IN ('step', 'trigger') AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = email_sends.campaign_id
  AND c.status IN (${MARKETING_HELD_STATUSES.map((status) => `'${status}'`).join(', ')}))`;
/** A final outcome its workflow has not heard yet (the partial index email_sends_unreported holds exactly these). */
const UNREPORTED = `report_to IS NOT NULL AND reported_at IS NULL AND status NOT IN ('queued', 'sending', 'deferred')`;
/** A send deferred by SMTP for this long fails (the earlier send activity had the same limit). */
const DEFERRAL_LIMIT = `interval '3 days'`;

export async function notifyOutbox(db: Db): Promise<void> {
  await db.query(`NOTIFY ${OUTBOX_CHANNEL}`);
}

/** The row of this email, locked until the transaction ends. */
export async function lockSend(db: Db, idempotencyKey: string): Promise<{ status: OutboxStatus; variant: string | null } | undefined> {
  const { rows } = await db.query('SELECT status, variant FROM email_sends WHERE idempotency_key = $1 FOR UPDATE', [idempotencyKey]);
  return rows[0];
}

/** A later attempt of the activity takes over an unfinished row: its token completes it (a deferred row is due again). */
export async function reattachSend(db: Db, idempotencyKey: string, taskToken: Buffer): Promise<void> {
  await db.query(
    `UPDATE email_sends SET task_token = $2, next_attempt_at = NULL,
            status = CASE status WHEN 'deferred' THEN 'queued' ELSE status END
     WHERE idempotency_key = $1`,
    [idempotencyKey, taskToken],
  );
}

export async function insertSend(db: Db, send: NewSend): Promise<void> {
  await db.query(
    `INSERT INTO email_sends (idempotency_key, message_id, message_key, kind, enrolment_id, campaign_id, campaign_version,
                              lead_id, step_path, template, ab_test, variant, consent_purpose, subject, created_at, status,
                              to_address, message, task_token, report_to, report_key, reported_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
             CASE WHEN $16 = 'queued' THEN NULL ELSE now() END)`,
    [
      send.idempotencyKey,
      send.messageId,
      send.messageKey,
      send.kind,
      send.enrolmentId,
      send.campaignId,
      send.campaignVersion,
      send.leadId,
      send.stepPath,
      send.template,
      send.abTest,
      send.variant,
      send.consentPurpose,
      send.subject,
      send.createdAt,
      send.status,
      send.toAddress,
      send.message === undefined ? null : JSON.stringify(send.message),
      send.taskToken ?? null,
      send.reportTo ?? null,
      send.reportKey ?? null,
    ],
  );
}

/**
 * Claims one due row for `leaseMs`, oldest first. Each row's lease starts when its own SMTP
 * conversation does, so a slow SMTP server cannot expire rows still waiting their turn.
 */
export async function claimDueSend(db: Db, leaseMs: number): Promise<ClaimedSend | undefined> {
  const { rows } = await db.query(
    `UPDATE email_sends SET status = 'sending', attempts = attempts + 1,
            lease_expires_at = now() + make_interval(secs => $1)
     WHERE id = (SELECT id FROM email_sends WHERE ${DUE} AND NOT (${HELD}) ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
     RETURNING id, lead_id, consent_purpose, to_address, message, message_id`,
    [leaseMs / 1000],
  );
  const row = rows[0];
  return row && { id: row.id, leadId: row.lead_id, consentPurpose: row.consent_purpose, toAddress: row.to_address, message: row.message, messageId: row.message_id };
}

/** Queued marketing email of paused or archived campaigns becomes 'cancelled'; returns whom to tell. */
export async function cancelHeldSends(db: Db): Promise<(SendListener & { id: number; messageId: string })[]> {
  const { rows } = await db.query(
    `UPDATE email_sends SET status = 'cancelled', message = NULL, next_attempt_at = NULL
     WHERE status IN ('queued', 'deferred') AND ${HELD}
     RETURNING id, ${LISTENER_COLUMNS}, message_id`,
  );
  return rows.map((row) => ({ ...toListener(row), id: row.id, messageId: row.message_id }));
}

/**
 * Records a final outcome of a row being sent (or already holding this outcome, so that a retry
 * after a lost COMMIT reply still completes). Returns whom to tell (the task token the row holds
 * now, or the workflow to signal), or undefined when someone else finalised it meanwhile.
 */
export async function finishSend(
  db: Db,
  id: number,
  outcome: { status: SendOutcome; smtpResponse?: string },
): Promise<(SendListener & { sentAt: Date | null }) | undefined> {
  const { rows } = await db.query(
    `UPDATE email_sends SET status = $2, smtp_response = $3, lease_expires_at = NULL, message = NULL,
            sent_at = CASE WHEN $2 = 'sent' THEN coalesce(sent_at, now()) ELSE sent_at END
     WHERE id = $1 AND status IN ('sending', 'unconfirmed', $2)
     RETURNING ${LISTENER_COLUMNS}, sent_at`,
    [id, outcome.status, outcome.smtpResponse ?? null],
  );
  return rows[0] && { ...toListener(rows[0]), sentAt: rows[0].sent_at };
}

/**
 * SMTP answered 4xx (or did not answer). A row of the earlier send activity (it holds a task
 * token) waits for that activity's next attempt; any other row — reported to its workflow, or
 * sales mail nobody waits for — is retried by the mailers with backoff (30 s doubling to 30 min)
 * and fails after three days of deferrals. Returns the row's new status and whom to tell, if
 * the row is still ours.
 */
export async function deferSend(db: Db, id: number, reply: string): Promise<(SendListener & { status: OutboxStatus }) | undefined> {
  const expired = `coalesce(deferred_since, now()) < now() - ${DEFERRAL_LIMIT}`;
  const { rows } = await db.query(
    `UPDATE email_sends SET smtp_response = $2, lease_expires_at = NULL,
            deferred_since = CASE WHEN task_token IS NOT NULL THEN NULL ELSE coalesce(deferred_since, now()) END,
            status = CASE WHEN task_token IS NOT NULL THEN 'deferred' WHEN ${expired} THEN 'failed' ELSE 'queued' END,
            message = CASE WHEN task_token IS NULL AND ${expired} THEN NULL ELSE message END,
            next_attempt_at = CASE WHEN task_token IS NOT NULL THEN next_attempt_at
                                   ELSE now() + make_interval(secs => least(30 * 2 ^ least(attempts - 1, 6), 1800)) END
     WHERE id = $1 AND status IN ('sending', 'deferred') RETURNING ${LISTENER_COLUMNS}, status`,
    [id, reply],
  );
  return rows[0] && { ...toListener(rows[0]), status: rows[0].status };
}

/**
 * Rows whose mailer stopped while sending: nobody can know whether SMTP took them, so they become
 * 'unconfirmed' and are never sent again. Returns them with the token of the activity waiting.
 */
export async function expireLeases(db: Db): Promise<(SendListener & { id: number; messageId: string })[]> {
  const { rows } = await db.query(
    `UPDATE email_sends SET status = 'unconfirmed', lease_expires_at = NULL, message = NULL
     WHERE status = 'sending' AND lease_expires_at < now() RETURNING id, ${LISTENER_COLUMNS}, message_id`,
  );
  return rows.map((row) => ({ ...toListener(row), id: row.id, messageId: row.message_id }));
}

/** The workflow heard the row's outcome (or no longer runs). */
export async function markReported(db: Db, id: number): Promise<void> {
  await db.query('UPDATE email_sends SET reported_at = now() WHERE id = $1', [id]);
}

/** Final rows whose workflow has not been told yet (the mailer died, or Temporal was away). */
export async function unreportedSends(db: Db, limit: number): Promise<(SendListener & { id: number; status: SendOutcome; messageId: string })[]> {
  const { rows } = await db.query(
    `SELECT id, status, message_id, ${LISTENER_COLUMNS} FROM email_sends
     WHERE ${UNREPORTED} ORDER BY id LIMIT $1`,
    [limit],
  );
  return rows.map((row) => ({ ...toListener(row), id: row.id, status: row.status, messageId: row.message_id }));
}

export async function hasDueSends(db: Db): Promise<boolean> {
  const { rows } = await db.query<{ due: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM email_sends WHERE ${DUE})
         OR EXISTS (SELECT 1 FROM email_sends WHERE ${UNREPORTED}) AS due`,
  );
  return rows[0]!.due;
}

/** Emails queued or being sent right now. */
export async function outboxBacklog(db: Db): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM email_sends WHERE status IN ('queued', 'sending')`);
  return rows[0]!.n;
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
