// The outbox mailer: delivers the emails that send activities queued in `email_sends`, then
// completes those activities (Temporal asynchronous completion) with the outcome. It runs
// outside the Temporal worker, so killing a worker never sends an email twice; several
// mailers may share one outbox (rows are claimed with SKIP LOCKED and a lease).
//
// At most once: a row is marked 'sending' before SMTP and 'sent' after it. A mailer that dies
// in between leaves a 'sending' row whose lease expires; it becomes 'unconfirmed' and is never
// sent again, because nobody can know whether the SMTP server took it.
import pg from 'pg';
import { marketingIneligibility } from '../db/eligibility';
import { inTransaction, type Pool } from '../db/pool';
import { suppressAddress } from '../db/suppressions';
import { classifySmtpError, type OutgoingMessage, type Transport } from './transport';

export type SendStatus = 'sent' | 'bounced' | 'failed' | 'unconfirmed' | 'skipped_no_consent' | 'suppressed';

export interface SendOutcome {
  status: SendStatus;
  messageId: string;
  smtpResponse?: string;
}

export interface SendCompleter {
  complete(taskToken: Uint8Array, outcome: SendOutcome): Promise<void>;
  fail(taskToken: Uint8Array, error: { message: string; retryable: boolean }): Promise<void>;
}

export interface MailerLog {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface Mailer {
  /** Look at the outbox now (a NOTIFY does the same). */
  kick(): void;
  /** Resolves once the current delivery round has finished. */
  idle(): Promise<void>;
  /** Finishes the emails in flight and stops. */
  stop(): Promise<void>;
}

export interface MailerOptions {
  pool: Pool;
  /** For LISTEN, on a connection of its own. */
  databaseUrl: string;
  transport: Transport;
  completer: SendCompleter;
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  log?: MailerLog;
}

interface ClaimedRow {
  id: number;
  lead_id: string | null;
  consent_purpose: string | null;
  to_address: string | null;
  message: OutgoingMessage;
  message_id: string;
}

const silent: MailerLog = { info() {}, warn() {}, error() {} };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function startMailer(options: MailerOptions): Mailer {
  const { pool, transport, completer } = options;
  const log = options.log ?? silent;
  const concurrency = options.concurrency ?? 8;
  const leaseMs = options.leaseMs ?? 60_000;
  let stopped = false;
  let round: Promise<void> | undefined;
  let again = false;

  /** Retries a database write until it succeeds: after SMTP has answered, forgetting is not an option. */
  async function persist<T>(what: string, write: () => Promise<T>): Promise<T> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        return await write();
      } catch (error) {
        log.warn({ err: error, what }, 'database write failed; retrying');
        await pause(delay);
      }
    }
  }

  async function notify(token: Buffer | null, outcome: SendOutcome | { fail: string }) {
    if (!token) return;
    try {
      if ('fail' in outcome) await completer.fail(token, { message: outcome.fail, retryable: true });
      else await completer.complete(token, outcome);
    } catch (error) {
      // The activity timed out or was retried meanwhile: its next attempt reads the row instead.
      const notFound = (error as { name?: string }).name === 'ActivityNotFoundError' || /not ?found/i.test(String((error as Error).message));
      if (!notFound) log.error({ err: error }, 'could not complete the send activity');
    }
  }

  async function finish(row: ClaimedRow, status: SendStatus, smtpResponse?: string) {
    const { rows } = await persist('record outcome', () =>
      inTransaction(pool, async (tx) => {
        if (status === 'bounced' && row.to_address) await suppressAddress(tx, row.to_address, 'hard_bounce', smtpResponse);
        return (
          await tx.query<{ task_token: Buffer | null }>(
            `UPDATE email_sends SET status = $2, smtp_response = $3, lease_expires_at = NULL, message = NULL,
                    sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
             WHERE id = $1 RETURNING task_token`,
            [row.id, status, smtpResponse ?? null],
          )
        ).rows;
      }).then((rows) => ({ rows })),
    );
    await notify(rows[0]?.task_token ?? null, { status, messageId: row.message_id, smtpResponse });
  }

  async function deliver(row: ClaimedRow) {
    if (row.consent_purpose && row.lead_id) {
      // The second line of defence: consent or suppression may have changed since queueing.
      const refusal = await persist('check consent', () => marketingIneligibility(pool, row.lead_id!, row.consent_purpose!, undefined, new Date()));
      if (refusal === 'skipped_no_consent' || refusal === 'suppressed') return finish(row, refusal);
    }
    if (!row.message || !row.to_address) return finish(row, 'suppressed');
    let response: string;
    try {
      response = (await transport.send(row.message)).response;
    } catch (error) {
      const verdict = classifySmtpError(error);
      if (verdict.class === 'deferred') {
        const { rows } = await persist('record deferral', () =>
          pool.query<{ task_token: Buffer | null }>(
            `UPDATE email_sends SET status = 'deferred', smtp_response = $2, lease_expires_at = NULL WHERE id = $1 RETURNING task_token`,
            [row.id, verdict.message],
          ),
        );
        log.info({ messageId: row.message_id, reply: verdict.message }, 'SMTP deferred the email');
        return notify(rows[0]?.task_token ?? null, { fail: `SMTP deferred: ${verdict.message}` });
      }
      log.warn({ messageId: row.message_id, reply: verdict.message, class: verdict.class }, 'SMTP refused the email');
      return finish(row, verdict.class, verdict.message);
    }
    await finish(row, 'sent', response);
  }

  async function claim(limit: number): Promise<ClaimedRow[]> {
    const { rows } = await pool.query<ClaimedRow>(
      `UPDATE email_sends SET status = 'sending', attempts = attempts + 1,
              lease_expires_at = now() + make_interval(secs => $2)
       WHERE id IN (SELECT id FROM email_sends
                    WHERE status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
                    ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $1)
       RETURNING id, lead_id, consent_purpose, to_address, message, message_id`,
      [limit, leaseMs / 1000],
    );
    return rows;
  }

  async function sweepExpiredLeases() {
    const { rows } = await pool.query<{ task_token: Buffer | null; message_id: string }>(
      `UPDATE email_sends SET status = 'unconfirmed', lease_expires_at = NULL, message = NULL
       WHERE status = 'sending' AND lease_expires_at < now() RETURNING task_token, message_id`,
    );
    for (const row of rows) {
      log.warn({ messageId: row.message_id }, 'a mailer died while sending; the email is unconfirmed and will not be resent');
      await notify(row.task_token, { status: 'unconfirmed', messageId: row.message_id });
    }
  }

  async function runRound() {
    do {
      again = false;
      try {
        await sweepExpiredLeases();
        for (let batch = await claim(concurrency * 4); batch.length > 0 && !stopped; batch = await claim(concurrency * 4)) {
          let next = 0;
          await Promise.all(
            Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
              while (next < batch.length) await deliver(batch[next++]!);
            }),
          );
        }
      } catch (error) {
        log.warn({ err: error }, 'outbox round failed; will retry');
      }
    } while (again && !stopped);
  }

  function kick() {
    if (stopped) return;
    if (round) {
      again = true;
      return;
    }
    round = runRound().finally(() => {
      round = undefined;
    });
  }

  // LISTEN on a connection of its own, reconnecting whenever the database goes away.
  let listener: pg.Client | undefined;
  async function listen() {
    for (let delay = 200; !stopped; delay = Math.min(delay * 2, 5_000)) {
      const client = new pg.Client({ connectionString: options.databaseUrl });
      try {
        client.on('notification', kick);
        await client.connect();
        await client.query('LISTEN nurture_outbox');
        listener = client;
        kick();
        await new Promise<void>((resolve) => {
          client.once('error', () => resolve());
          client.once('end', () => resolve());
        });
        delay = 200;
      } catch {
        await client.end().catch(() => {});
      }
      listener = undefined;
      if (!stopped) await pause(delay);
    }
  }
  const listening = listen();
  const poller = setInterval(kick, options.pollMs ?? 1_000);
  kick();

  return {
    kick,
    async idle() {
      while (round) await round;
    },
    async stop() {
      stopped = true;
      clearInterval(poller);
      while (round) await round;
      await listener?.end().catch(() => {});
      await listening;
    },
  };
}
