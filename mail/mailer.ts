// The outbox mailer: delivers the emails that send activities queued in `email_sends`, then
// completes those activities (Temporal asynchronous completion) with the outcome. It runs
// outside the Temporal worker, so killing a worker never sends an email twice; several
// mailers may share one outbox (rows are claimed with SKIP LOCKED and a lease).
//
// At most once: a row is marked 'sending' before SMTP and its outcome after it. A mailer that
// dies in between leaves a 'sending' row whose lease expires; it becomes 'unconfirmed' and is
// never sent again, because nobody can know whether the SMTP server took it.
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
  /** ISO time the SMTP server accepted the email ('sent' only). */
  sentAt?: string;
}

export interface SendCompleter {
  complete(taskToken: Uint8Array, outcome: SendOutcome): Promise<void>;
  fail(taskToken: Uint8Array, error: { message: string; retryable: boolean }): Promise<void>;
}

/** What the mailer logs through (pino fits). */
export interface MailerLog {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface Mailer {
  /** Look at the outbox now (a NOTIFY does the same). */
  kick(): void;
  /** Resolves once nothing due is queued and nothing is in flight in this mailer. */
  idle(): Promise<void>;
  /** Finishes the emails in flight, hands back the claimed ones not yet started, and stops. */
  stop(): Promise<void>;
}

export interface MailerOptions {
  pool: Pool;
  /** For LISTEN, on a connection of its own. */
  databaseUrl: string;
  transport: Transport;
  completer: SendCompleter;
  /** Emails in flight at once (default 8). */
  concurrency?: number;
  /** How long a claimed row stays ours before a sweeper calls it unconfirmed (default 60 s). */
  leaseMs?: number;
  /** The safety-net poll besides LISTEN/NOTIFY (default 1 s). */
  pollMs?: number;
  log?: MailerLog;
}

interface ClaimedRow {
  id: number;
  lead_id: string | null;
  consent_purpose: string | null;
  to_address: string | null;
  message: OutgoingMessage | null;
  message_id: string;
}

type Outcome = { status: SendStatus; smtpResponse?: string };

const silent: MailerLog = { info() {}, warn() {}, error() {} };
const DUE = `status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= now())`;

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`startMailer: ${name} must be a positive number, got ${value}`);
  return value;
}

export function startMailer(options: MailerOptions): Mailer {
  const { pool, transport, completer } = options;
  const log = options.log ?? silent;
  const concurrency = Math.floor(positive('concurrency', options.concurrency ?? 8));
  const leaseMs = positive('leaseMs', options.leaseMs ?? 60_000);
  const pollMs = positive('pollMs', options.pollMs ?? 1_000);
  let stopped = false;
  let round: Promise<void> | undefined;
  let again = false;
  const stopping = new AbortController();

  /** Waits, but not past stop(). */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping.signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopping.signal.addEventListener('abort', done);
    });
  /** Waits even while stopping: for writes that must happen before the mailer may stop. */
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Retries a database call until it succeeds: once SMTP has answered, forgetting is not an option. */
  async function persist<T>(what: string, work: () => Promise<T>): Promise<T> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        return await work();
      } catch (error) {
        log.warn({ err: error, what }, 'database call failed; retrying');
        await pause(delay);
      }
    }
  }

  async function tell(token: Buffer | null, messageId: string, result: SendOutcome | { deferred: string }) {
    if (!token) return;
    try {
      if ('deferred' in result) await completer.fail(token, { message: result.deferred, retryable: true });
      else await completer.complete(token, result);
    } catch (error) {
      // The activity timed out or was retried meanwhile: its next attempt reads the row instead.
      const gone = (error as Error)?.name === 'ActivityNotFoundError';
      if (!gone) log.error({ err: error, messageId }, 'could not complete the send activity');
    }
  }

  /** Records a final outcome and completes the activity whose token the row holds NOW. */
  async function finish(row: ClaimedRow, outcome: Outcome) {
    const updated = await persist('record outcome', () =>
      inTransaction(pool, async (tx) => {
        if (outcome.status === 'bounced' && row.to_address) await suppressAddress(tx, row.to_address, 'hard_bounce', outcome.smtpResponse);
        // Also matches a row already holding this outcome, so that a retry after a lost COMMIT reply still completes.
        const { rows } = await tx.query<{ task_token: Buffer | null; sent_at: Date | null }>(
          `UPDATE email_sends SET status = $2, smtp_response = $3, lease_expires_at = NULL, message = NULL,
                  sent_at = CASE WHEN $2 = 'sent' THEN coalesce(sent_at, now()) ELSE sent_at END
           WHERE id = $1 AND status IN ('sending', 'unconfirmed', $2)
           RETURNING task_token, sent_at`,
          [row.id, outcome.status, outcome.smtpResponse ?? null],
        );
        return rows[0];
      }),
    );
    if (!updated) return; // someone else finalised it meanwhile
    await tell(updated.task_token, row.message_id, {
      status: outcome.status,
      messageId: row.message_id,
      ...(outcome.smtpResponse !== undefined && { smtpResponse: outcome.smtpResponse }),
      ...(outcome.status === 'sent' && updated.sent_at && { sentAt: updated.sent_at.toISOString() }),
    });
  }

  async function defer(row: ClaimedRow, reply: string) {
    const updated = await persist('record deferral', async () =>
      (
        await pool.query<{ task_token: Buffer | null }>(
          `UPDATE email_sends SET status = 'deferred', smtp_response = $2, lease_expires_at = NULL
           WHERE id = $1 AND status IN ('sending', 'deferred') RETURNING task_token`,
          [row.id, reply],
        )
      ).rows[0],
    );
    log.info({ messageId: row.message_id, reply }, 'SMTP deferred the email');
    if (updated) await tell(updated.task_token, row.message_id, { deferred: `SMTP deferred: ${reply}` });
  }

  async function deliver(row: ClaimedRow) {
    if (row.consent_purpose && row.lead_id) {
      // The second line of defence: consent or suppression may have changed since queueing.
      const refusal = await persist('check consent', () => marketingIneligibility(pool, row.lead_id!, row.consent_purpose!, undefined, new Date()));
      if (refusal === 'skipped_no_consent' || refusal === 'suppressed') return finish(row, { status: refusal });
    }
    if (!row.message || !row.to_address) return finish(row, { status: 'suppressed' }); // the lead was erased
    let response: string;
    try {
      response = (await transport.send(row.message)).response;
    } catch (error) {
      const verdict = classifySmtpError(error);
      if (verdict.class === 'deferred') return defer(row, verdict.message);
      log.warn({ messageId: row.message_id, reply: verdict.message, class: verdict.class }, 'SMTP refused the email');
      return finish(row, { status: verdict.class, smtpResponse: verdict.message });
    }
    await finish(row, { status: 'sent', smtpResponse: response });
  }

  async function claim(limit: number): Promise<ClaimedRow[]> {
    const { rows } = await pool.query<ClaimedRow>(
      `UPDATE email_sends SET status = 'sending', attempts = attempts + 1,
              lease_expires_at = now() + make_interval(secs => $2)
       WHERE id IN (SELECT id FROM email_sends WHERE ${DUE} ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $1)
       RETURNING id, lead_id, consent_purpose, to_address, message, message_id`,
      [limit, leaseMs / 1000],
    );
    return rows.sort((a, b) => a.id - b.id);
  }

  /** Claimed rows this mailer will not start after all (it is stopping) go back to the queue. */
  async function release(rows: ClaimedRow[]) {
    if (rows.length === 0) return;
    await persist('release claimed rows', () =>
      pool.query(
        `UPDATE email_sends SET status = 'queued', attempts = attempts - 1, lease_expires_at = NULL
         WHERE id = ANY($1::bigint[]) AND status = 'sending'`,
        [rows.map((row) => row.id)],
      ),
    );
  }

  async function sweepExpiredLeases() {
    const { rows } = await pool.query<{ task_token: Buffer | null; message_id: string }>(
      `UPDATE email_sends SET status = 'unconfirmed', lease_expires_at = NULL, message = NULL
       WHERE status = 'sending' AND lease_expires_at < now() RETURNING task_token, message_id`,
    );
    for (const row of rows) {
      log.warn({ messageId: row.message_id }, 'a mailer stopped while sending; the email is unconfirmed and will not be resent');
      await tell(row.task_token, row.message_id, { status: 'unconfirmed', messageId: row.message_id });
    }
  }

  let failures = 0;
  async function runRound() {
    do {
      again = false;
      try {
        await sweepExpiredLeases();
        while (!stopped) {
          const batch = await claim(concurrency * 4);
          if (batch.length === 0) break;
          const waiting = [...batch];
          const workers = await Promise.allSettled(
            Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
              while (!stopped && waiting.length > 0) await deliver(waiting.shift()!);
            }),
          );
          await release(waiting); // claimed but not started: stopping, or a worker broke down
          const broken = workers.find((worker) => worker.status === 'rejected');
          if (broken) throw broken.reason;
        }
        failures = 0;
      } catch (error) {
        // The database is probably away: try again soon rather than at the next poll.
        log.warn({ err: error }, 'outbox round failed; retrying');
        await sleep(Math.min(100 * 2 ** failures++, 5_000));
        again = true;
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

  // LISTEN on a connection of its own, reconnecting with backoff whenever the database goes away.
  const stoppedSignal = new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  async function listen() {
    for (let delay = 100; !stopped; delay = Math.min(delay * 2, 5_000)) {
      const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 10_000 });
      // Listening before connect: an error during connect must not crash the process.
      const lost = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      try {
        client.on('notification', kick);
        await client.connect();
        await client.query('LISTEN nurture_outbox');
        delay = 50; // connected: the next loss retries quickly again
        kick(); // whatever was queued while we were not listening
        await Promise.race([lost, stoppedSignal]);
        if (!stopped) log.warn({}, 'lost the LISTEN connection; reconnecting');
      } catch (error) {
        if (!stopped) log.warn({ err: error }, 'could not LISTEN; retrying');
      }
      await client.end().catch(() => {});
      await sleep(delay);
    }
  }
  const listening = listen();
  const poller = setInterval(kick, pollMs);
  kick();

  return {
    kick,
    async idle() {
      for (;;) {
        while (round) await round;
        if (stopped) return;
        const pending = await pool
          .query<{ due: boolean }>(`SELECT EXISTS (SELECT 1 FROM email_sends WHERE ${DUE}) AS due`)
          .then((result) => result.rows[0]!.due, () => true);
        if (!pending) return;
        kick();
        await sleep(20);
      }
    },
    async stop() {
      stopped = true;
      stopping.abort();
      clearInterval(poller);
      while (round) await round;
      await listening;
    },
  };
}
