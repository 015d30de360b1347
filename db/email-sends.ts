// The outbox and the record of every email (`email_sends`). A send activity stores each email
// under its idempotency key — so a retried or re-run activity finds its earlier row instead of
// mailing twice — together with the task token of the activity waiting for it; the mailer
// claims due rows, sends them and records the outcome. NOTIFY nurture_outbox wakes the mailers.
import type { EmailKind, SendOutcome } from '../campaign';
import { SEND_OUTCOMES } from '../campaign';
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
  taskToken?: Buffer;
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
                              to_address, message, task_token)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
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
    ],
  );
}

/** Claims up to `limit` due rows for `leaseMs`, oldest first. */
export async function claimDueSends(db: Db, limit: number, leaseMs: number): Promise<ClaimedSend[]> {
  const { rows } = await db.query(
    `UPDATE email_sends SET status = 'sending', attempts = attempts + 1,
            lease_expires_at = now() + make_interval(secs => $2)
     WHERE id IN (SELECT id FROM email_sends WHERE ${DUE} ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $1)
     RETURNING id, lead_id, consent_purpose, to_address, message, message_id`,
    [limit, leaseMs / 1000],
  );
  return rows
    .map((row) => ({ id: row.id, leadId: row.lead_id, consentPurpose: row.consent_purpose, toAddress: row.to_address, message: row.message, messageId: row.message_id }))
    .sort((a, b) => a.id - b.id);
}

/**
 * Records a final outcome of a row being sent (or already holding this outcome, so that a retry
 * after a lost COMMIT reply still completes). Returns the task token the row holds now, or
 * undefined when someone else finalised it meanwhile.
 */
export async function finishSend(
  db: Db,
  id: number,
  outcome: { status: SendOutcome; smtpResponse?: string },
): Promise<{ taskToken: Buffer | null; sentAt: Date | null } | undefined> {
  const { rows } = await db.query<{ task_token: Buffer | null; sent_at: Date | null }>(
    `UPDATE email_sends SET status = $2, smtp_response = $3, lease_expires_at = NULL, message = NULL,
            sent_at = CASE WHEN $2 = 'sent' THEN coalesce(sent_at, now()) ELSE sent_at END
     WHERE id = $1 AND status IN ('sending', 'unconfirmed', $2)
     RETURNING task_token, sent_at`,
    [id, outcome.status, outcome.smtpResponse ?? null],
  );
  return rows[0] && { taskToken: rows[0].task_token, sentAt: rows[0].sent_at };
}

/** SMTP answered 4xx: the row waits for the activity's next attempt. Returns the token to fail, if the row is still ours. */
export async function deferSend(db: Db, id: number, reply: string): Promise<{ taskToken: Buffer | null } | undefined> {
  const { rows } = await db.query<{ task_token: Buffer | null }>(
    `UPDATE email_sends SET status = 'deferred', smtp_response = $2, lease_expires_at = NULL
     WHERE id = $1 AND status IN ('sending', 'deferred') RETURNING task_token`,
    [id, reply],
  );
  return rows[0] && { taskToken: rows[0].task_token };
}

/** Claimed rows a mailer will not start after all go back to the queue. */
export async function releaseClaims(db: Db, ids: number[]): Promise<void> {
  await db.query(
    `UPDATE email_sends SET status = 'queued', attempts = attempts - 1, lease_expires_at = NULL
     WHERE id = ANY($1::bigint[]) AND status = 'sending'`,
    [ids],
  );
}

/**
 * Rows whose mailer stopped while sending: nobody can know whether SMTP took them, so they become
 * 'unconfirmed' and are never sent again. Returns them with the token of the activity waiting.
 */
export async function expireLeases(db: Db): Promise<{ taskToken: Buffer | null; messageId: string }[]> {
  const { rows } = await db.query<{ task_token: Buffer | null; message_id: string }>(
    `UPDATE email_sends SET status = 'unconfirmed', lease_expires_at = NULL, message = NULL
     WHERE status = 'sending' AND lease_expires_at < now() RETURNING task_token, message_id`,
  );
  return rows.map((row) => ({ taskToken: row.task_token, messageId: row.message_id }));
}

export async function hasDueSends(db: Db): Promise<boolean> {
  const { rows } = await db.query<{ due: boolean }>(`SELECT EXISTS (SELECT 1 FROM email_sends WHERE ${DUE}) AS due`);
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
