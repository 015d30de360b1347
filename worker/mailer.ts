// The outbox mailer: delivers the emails that send activities queued in `email_sends`, then tells
// the workflow the outcome — by a signal to the workflow the row names, or, for rows the earlier
// send activity wrote, by completing that activity (Temporal asynchronous completion). It runs
// outside the Temporal worker, so killing a worker never sends an email twice; several
// mailers may share one outbox (rows are claimed with SKIP LOCKED and a lease).
//
// At most once: a row is marked 'sending' before SMTP and its outcome after it. A mailer that
// dies in between leaves a 'sending' row whose lease expires; it becomes 'unconfirmed' and is
// never sent again, because nobody can know whether the SMTP server took it.
import type { SendOutcome } from '../campaign';
import { marketingIneligibility } from '../db/eligibility';
import {
  cancelHeldSends,
  claimDueSend,
  deferSend,
  expireLeases,
  finishSend,
  hasDueSends,
  markReported,
  OUTBOX_CHANNEL,
  unreportedSends,
  type ClaimedSend,
  type SendListener,
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

/** What a workflow is told when one of its emails is final. */
export interface SendReport {
  /** The workflow id outlives an enrolment (a lead may enter again): the report names its enrolment. */
  enrolmentId: number;
  sendKey: string;
  status: SendOutcome;
  variant?: string;
}

export interface SendCompleter {
  complete(taskToken: Uint8Array, outcome: SendCompletion): Promise<void>;
  fail(taskToken: Uint8Array, error: { message: string; retryable: boolean }): Promise<void>;
  /** Signals the workflow; resolves false when it no longer runs (nobody is left to tell). */
  report(workflowId: string, report: SendReport): Promise<boolean>;
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
  /** Finishes the emails in flight and stops (it claims a row only when it is about to send it). */
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
  /** How long a claimed row stays ours before a sweeper calls it unconfirmed (default 2 min: past the transport's SMTP timeouts, mail/transport.ts). */
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
  const leaseMs = positive('leaseMs', options.leaseMs ?? 120_000);
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

  /** Tells the waiting activity (token) or the workflow (signal) how the email ended. */
  async function tell(id: number, listener: SendListener, messageId: string, result: SendCompletion | { deferred: string }) {
    try {
      if (listener.taskToken) {
        if ('deferred' in result) await completer.fail(listener.taskToken, { message: result.deferred, retryable: true });
        else await completer.complete(listener.taskToken, result);
      } else if (listener.reportTo && listener.reportKey && listener.enrolmentId !== null && !('deferred' in result)) {
        await completer.report(listener.reportTo, { enrolmentId: listener.enrolmentId, sendKey: listener.reportKey, status: result.status, ...(listener.variant && { variant: listener.variant }) });
        await markReported(pool, id);
      }
    } catch (error) {
      // A token: the activity timed out or was retried meanwhile, and its next attempt reads the
      // row. A signal: the row stays unreported and the next round tells the workflow again.
      const gone = (error as Error)?.name === 'ActivityNotFoundError';
      if (!gone) log.error({ err: error, messageId }, 'could not tell the workflow how its email ended');
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
    await tell(row.id, updated, row.messageId, {
      status: outcome.status,
      messageId: row.messageId,
      ...(outcome.smtpResponse !== undefined && { smtpResponse: outcome.smtpResponse }),
      ...(outcome.status === 'sent' && updated.sentAt && { sentAt: updated.sentAt.toISOString() }),
    });
  }

  async function defer(row: ClaimedSend, reply: string) {
    const updated = await persist('record deferral', () => deferSend(pool, row.id, reply));
    log.info({ messageId: row.messageId, reply }, 'SMTP deferred the email');
    if (!updated) return;
    if (updated.status === 'failed') await tell(row.id, updated, row.messageId, { status: 'failed', messageId: row.messageId });
    else await tell(row.id, updated, row.messageId, { deferred: `SMTP deferred: ${reply}` });
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

  /** Emails whose lease ran out, emails of paused or archived campaigns, and outcomes not yet told. */
  async function sweep() {
    for (const row of await expireLeases(pool)) {
      log.warn({ messageId: row.messageId }, 'a mailer stopped while sending; the email is unconfirmed and will not be resent');
      await tell(row.id, row, row.messageId, { status: 'unconfirmed', messageId: row.messageId });
    }
    for (const row of await cancelHeldSends(pool)) {
      await tell(row.id, row, row.messageId, { status: 'cancelled', messageId: row.messageId });
    }
    for (const row of await unreportedSends(pool, 100)) {
      await tell(row.id, row, row.messageId, { status: row.status, messageId: row.messageId });
    }
  }

  let failures = 0;
  async function runRound() {
    do {
      again = false;
      try {
        await sweep();
        // Each of `concurrency` lanes claims its next row only when it is free to send it.
        const lanes = await Promise.allSettled(
          Array.from({ length: concurrency }, async () => {
            while (!stopped) {
              const row = await claimDueSend(pool, leaseMs);
              if (!row) return;
              await deliver(row);
            }
          }),
        );
        const broken = lanes.find((lane) => lane.status === 'rejected');
        if (broken) throw broken.reason;
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
