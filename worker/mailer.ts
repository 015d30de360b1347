// The outbox mailer: delivers the emails that send activities queued in `email_sends`, then
// completes those activities (Temporal asynchronous completion) with the outcome. It runs
// outside the Temporal worker, so killing a worker never sends an email twice; several
// mailers may share one outbox (rows are claimed with SKIP LOCKED and a lease).
//
// At most once: a row is marked 'sending' before SMTP and its outcome after it. A mailer that
// dies in between leaves a 'sending' row whose lease expires; it becomes 'unconfirmed' and is
// never sent again, because nobody can know whether the SMTP server took it.
import type { SendOutcome } from '../campaign';
import { marketingIneligibility } from '../db/eligibility';
import {
  claimDueSends,
  deferSend,
  expireLeases,
  finishSend,
  hasDueSends,
  OUTBOX_CHANNEL,
  releaseClaims,
  type ClaimedSend,
} from '../db/email-sends';
import { listen } from '../db/listener';
import { inTransaction, type Pool } from '../db/pool';
import { suppressAddress } from '../db/suppressions';
import { classifySmtpError, type OutgoingMessage, type Transport } from '../mail/transport';

/** What the waiting send activity is completed with. */
export interface SendCompletion {
  status: SendOutcome;
  messageId: string;
  smtpResponse?: string;
  /** ISO time the SMTP server accepted the email ('sent' only). */
  sentAt?: string;
}

export interface SendCompleter {
  complete(taskToken: Uint8Array, outcome: SendCompletion): Promise<void>;
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

type Outcome = { status: SendOutcome; smtpResponse?: string };

const silent: MailerLog = { info() {}, warn() {}, error() {} };

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

  async function tell(token: Buffer | null, messageId: string, result: SendCompletion | { deferred: string }) {
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
  async function finish(row: ClaimedSend, outcome: Outcome) {
    const updated = await persist('record outcome', () =>
      inTransaction(pool, async (tx) => {
        if (outcome.status === 'bounced' && row.toAddress) await suppressAddress(tx, row.toAddress, 'hard_bounce', outcome.smtpResponse);
        return finishSend(tx, row.id, outcome);
      }),
    );
    if (!updated) return; // someone else finalised it meanwhile
    await tell(updated.taskToken, row.messageId, {
      status: outcome.status,
      messageId: row.messageId,
      ...(outcome.smtpResponse !== undefined && { smtpResponse: outcome.smtpResponse }),
      ...(outcome.status === 'sent' && updated.sentAt && { sentAt: updated.sentAt.toISOString() }),
    });
  }

  async function defer(row: ClaimedSend, reply: string) {
    const updated = await persist('record deferral', () => deferSend(pool, row.id, reply));
    log.info({ messageId: row.messageId, reply }, 'SMTP deferred the email');
    if (updated) await tell(updated.taskToken, row.messageId, { deferred: `SMTP deferred: ${reply}` });
  }

  async function deliver(row: ClaimedSend) {
    if (row.consentPurpose && row.leadId) {
      // The second line of defence: consent or suppression may have changed since queueing.
      const refusal = await persist('check consent', () => marketingIneligibility(pool, row.leadId!, row.consentPurpose!, undefined, new Date()));
      if (refusal === 'skipped_no_consent' || refusal === 'suppressed') return finish(row, { status: refusal });
    }
    if (!row.message || !row.toAddress) return finish(row, { status: 'suppressed' }); // the lead was erased
    let response: string;
    try {
      response = (await transport.send(row.message as OutgoingMessage)).response;
    } catch (error) {
      const verdict = classifySmtpError(error);
      if (verdict.class === 'deferred') return defer(row, verdict.message);
      log.warn({ messageId: row.messageId, reply: verdict.message, class: verdict.class }, 'SMTP refused the email');
      return finish(row, { status: verdict.class, smtpResponse: verdict.message });
    }
    await finish(row, { status: 'sent', smtpResponse: response });
  }

  /** Claimed rows this mailer will not start after all (it is stopping) go back to the queue. */
  async function release(rows: ClaimedSend[]) {
    if (rows.length === 0) return;
    await persist('release claimed rows', () => releaseClaims(pool, rows.map((row) => row.id)));
  }

  async function sweepExpiredLeases() {
    for (const row of await expireLeases(pool)) {
      log.warn({ messageId: row.messageId }, 'a mailer stopped while sending; the email is unconfirmed and will not be resent');
      await tell(row.taskToken, row.messageId, { status: 'unconfirmed', messageId: row.messageId });
    }
  }

  let failures = 0;
  async function runRound() {
    do {
      again = false;
      try {
        await sweepExpiredLeases();
        while (!stopped) {
          const batch = await claimDueSends(pool, concurrency * 4, leaseMs);
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

  const listener = listen({ databaseUrl: options.databaseUrl, channel: OUTBOX_CHANNEL, wake: kick, log });
  const poller = setInterval(kick, pollMs);
  kick();

  return {
    kick,
    async idle() {
      for (;;) {
        while (round) await round;
        if (stopped) return;
        const pending = await hasDueSends(pool).catch(() => true);
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
      await listener.stop();
    },
  };
}
