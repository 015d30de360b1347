// The outbox mailer on real PostgreSQL and a real SMTP sink; only the Temporal side (the
// SendCompleter: activity completions and workflow signals) is a recorder.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordConsent } from '../../db/consent';
import { createPool } from '../../db/pool';
import { upsertLead } from '../../db/leads';
import { suppressAddress, suppressionOf } from '../../db/suppressions';
import { messageIdFor } from '../../mail/identity';
import { saveCampaignVersion, setCampaignStatus } from '../../db/campaigns';
import { recordEnrolment } from '../../db/enrolments';
import { startMailer, type Mailer, type SendCompleter, type SendCompletion, type SendReport } from '../../worker/mailer';
import { loadCampaign } from '../support/campaigns';
import { startSmtpSink, type SmtpSink } from '../../devserver/smtp-sink';
import { createTransport, type Transport } from '../../mail/transport';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
let sink: SmtpSink;
let transport: Transport;
const run = randomBytes(4).toString('hex');
const running: Mailer[] = [];

beforeAll(async () => {
  [db, sink] = await Promise.all([createTestDatabase(), startSmtpSink()]);
  transport = createTransport(sink.url, { maxConnections: 4 });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((mailer) => mailer.stop()));
  sink.setFault(undefined);
});
afterAll(async () => {
  transport?.close();
  await sink?.close();
  await db?.drop();
});

interface Queued {
  id: number;
  messageId: string;
  token: Buffer;
  address: string;
  leadId: string;
}

let serial = 0;
/** Writes an outbox row the way the send activity does (marketing mail with consent unless told otherwise). */
async function queue(
  options: {
    purpose?: string | null;
    consent?: boolean;
    status?: string;
    leaseExpired?: boolean;
    reportTo?: { campaignId: string; enrolmentId: number };
    /** Sales mail queued without waiting: neither a token nor a workflow to tell. */
    unwatched?: boolean;
  } = {},
): Promise<Queued> {
  const n = ++serial;
  const address = `lead${n}.${run}@example.com`;
  const { lead } = await upsertLead(db.pool, { email: address });
  const purpose = options.purpose === undefined ? 'marketing_email' : options.purpose;
  if (purpose) await recordConsent(db.pool, { leadId: lead.id, purpose, granted: options.consent ?? true, source: 'test' });
  const key = `${run}:${n}`;
  const messageId = messageIdFor(key, 'nurture.test');
  const token = randomBytes(24);
  const message = { from: 'Acme <marketing@acme.example>', to: address, subject: `Hello ${n}`, html: `<p>Email ${n}</p>`, text: `Email ${n}`, headers: { 'X-Serial': String(n) }, messageId };
  const { rows } = await db.pool.query<{ id: number }>(
    `INSERT INTO email_sends (idempotency_key, message_id, message_key, kind, lead_id, template, to_address, consent_purpose,
                              subject, status, task_token, message, lease_expires_at, campaign_id, enrolment_id, report_to, report_key)
     VALUES ($1, $2, $3, $4, $5, 'welcome', $6, $7, $8, $9, $10, $11, CASE WHEN $12 THEN now() - interval '1 second' END,
             $13, $14, $15, $16)
     RETURNING id`,
    [key, messageId, `k${n}${run}`, purpose ? 'step' : 'sales_notice', lead.id, address, purpose, message.subject,
     options.status ?? 'queued', options.reportTo || options.unwatched ? null : token, JSON.stringify(message), options.leaseExpired ?? false,
     options.reportTo?.campaignId ?? null, options.reportTo?.enrolmentId ?? null,
     options.reportTo ? `wf-${options.reportTo.enrolmentId}` : null, options.reportTo ? `cold[${n}]#1` : null],
  );
  return { id: rows[0]!.id, messageId, token, address, leadId: lead.id };
}

const notify = () => db.pool.query('NOTIFY nurture_outbox');

async function statusOf(...rows: Queued[]): Promise<string[]> {
  const { rows: found } = await db.pool.query<{ id: number; status: string }>('SELECT id, status FROM email_sends WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
  return rows.map((row) => found.find((f) => f.id === row.id)?.status ?? 'missing');
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A campaign and one enrolment in it, for rows that report to a workflow. */
async function enrolment(status: 'active' | 'paused' = 'active'): Promise<{ campaignId: string; enrolmentId: number }> {
  const campaign = { ...loadCampaign('saas-whitepaper-nurture'), id: `mailer-${run}-${++serial}` };
  await saveCampaignVersion(db.pool, campaign);
  await setCampaignStatus(db.pool, campaign.id, status);
  const { lead } = await upsertLead(db.pool, { email: `enrolled${serial}.${run}@example.com` });
  const enrolmentId = await recordEnrolment(db.pool, { workflowId: `wf-${serial}`, campaignId: campaign.id, campaignVersion: 1, leadId: lead.id, at: Date.now() });
  return { campaignId: campaign.id, enrolmentId };
}

function recorder(options: { reportFails?: () => boolean } = {}) {
  const completed: { token: string; outcome: SendCompletion }[] = [];
  const failed: { token: string; error: { message: string; retryable: boolean } }[] = [];
  const reported: { workflowId: string; report: SendReport }[] = [];
  const completer: SendCompleter = {
    async report(workflowId, report) {
      if (options.reportFails?.()) throw new Error('Temporal unavailable');
      reported.push({ workflowId, report });
      return true;
    },
    async complete(token, outcome) {
      completed.push({ token: Buffer.from(token).toString('hex'), outcome });
    },
    async fail(token, error) {
      failed.push({ token: Buffer.from(token).toString('hex'), error });
    },
  };
  return { completed, failed, reported, completer };
}

function mailer(completer: SendCompleter, options: { transport?: Transport; concurrency?: number; pollMs?: number; leaseMs?: number } = {}): Mailer {
  const started = startMailer({
    pool: db.pool,
    databaseUrl: db.url,
    transport: options.transport ?? transport,
    completer,
    concurrency: options.concurrency ?? 4,
    pollMs: options.pollMs ?? 200,
    leaseMs: options.leaseMs,
  });
  running.push(started);
  return started;
}

const atSink = (messageId: string) => sink.messages.filter((m) => m.messageId === messageId).length;

/** Waits until the sink has parsed every row's email (it answers 250 before parsing), then checks each arrived once. */
async function deliveredOnce(rows: Queued[]) {
  await sink.waitFor((all) => rows.every((row) => all.some((m) => m.messageId === row.messageId)), 5_000);
  for (const row of rows) expect(atSink(row.messageId), row.messageId).toBe(1);
}

/** A transport whose sends wait at a gate until the test opens it. */
function gatedTransport() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let entered = 0;
  const gated: Transport = {
    async send(message) {
      entered++;
      await gate;
      return transport.send(message);
    },
    close() {},
  };
  return { transport: gated, open, entered: () => entered };
}

describe('outbox mailer', () => {
  it('delivers every queued row exactly once with two mailers racing, with the row’s Message-ID', async () => {
    const rows = await Promise.all(Array.from({ length: 40 }, (_, i) => queue({ purpose: i % 4 === 0 ? null : 'marketing_email' })));
    const { completed, failed, completer } = recorder();
    mailer(completer);
    mailer(completer);
    await notify();
    await until('all rows sent', async () => (await statusOf(...rows)).every((s) => s === 'sent'));
    await deliveredOnce(rows);
    for (const row of rows) {
      expect(sink.messages.find((m) => m.messageId === row.messageId)!.to).toEqual([row.address]);
    }
    await until('every activity completed', () => completed.length >= rows.length);
    expect(failed).toEqual([]);
    expect(completed.map((c) => c.token).sort()).toEqual(rows.map((r) => r.token.toString('hex')).sort());
    for (const { outcome } of completed) {
      expect(outcome.status).toBe('sent');
      expect(outcome.smtpResponse).toMatch(/^250\b/);
      expect(Number.isNaN(Date.parse(outcome.sentAt!))).toBe(false);
    }
    const { rows: stored } = await db.pool.query(
      'SELECT attempts, message, sent_at, lease_expires_at, smtp_response FROM email_sends WHERE id = ANY($1::bigint[])',
      [rows.map((r) => r.id)],
    );
    for (const row of stored) expect(row).toMatchObject({ attempts: 1, message: null, lease_expires_at: null, smtp_response: expect.stringMatching(/^250/) });
  });

  it('defers on 451 and fails the activity retryably; the re-queued rows then go through once', async () => {
    let refusals = 3;
    sink.setFault(() => (refusals-- > 0 ? { code: 451, message: '4.3.0 try later' } : undefined));
    const rows = await Promise.all(Array.from({ length: 6 }, () => queue()));
    const { completed, failed, completer } = recorder();
    mailer(completer);
    await notify();
    await until('rows sent or deferred', async () => (await statusOf(...rows)).every((s) => s === 'sent' || s === 'deferred'));
    const deferred: Queued[] = [];
    for (const [i, status] of (await statusOf(...rows)).entries()) if (status === 'deferred') deferred.push(rows[i]!);
    expect(deferred).toHaveLength(3);
    await until('three failures', () => failed.length === 3);
    expect(failed.map((f) => f.token).sort()).toEqual(deferred.map((r) => r.token.toString('hex')).sort());
    for (const f of failed) expect(f.error).toEqual({ message: expect.stringContaining('451'), retryable: true });
    const { rows: kept } = await db.pool.query('SELECT smtp_response, message FROM email_sends WHERE id = ANY($1::bigint[])', [deferred.map((r) => r.id)]);
    for (const row of kept) {
      expect(row.smtp_response).toContain('451');
      expect(row.message).not.toBeNull(); // needed for the next attempt
    }
    for (const row of deferred) expect(atSink(row.messageId)).toBe(0);

    // The activity's next attempt re-queues its row with a fresh token (as activities/send.ts does).
    const retried = new Map(deferred.map((row) => [row.id, randomBytes(24)]));
    for (const [id, token] of retried) await db.pool.query(`UPDATE email_sends SET status = 'queued', task_token = $2 WHERE id = $1`, [id, token]);
    await notify();
    await until('all rows sent', async () => (await statusOf(...rows)).every((s) => s === 'sent'));
    await deliveredOnce(rows);
    await until('six completions', () => completed.length === 6);
    const completedTokens = completed.map((c) => c.token);
    for (const token of retried.values()) expect(completedTokens).toContain(token.toString('hex'));
    for (const row of deferred) expect(completedTokens).not.toContain(row.token.toString('hex'));
  });

  it('bounces a 550 recipient: suppresses the address and completes with bounced', async () => {
    const [bad, good] = [await queue(), await queue()];
    sink.setFault(({ to }) => (to.includes(bad.address) ? { code: 550, message: '5.1.1 mailbox unavailable' } : undefined));
    const { completed, failed, completer } = recorder();
    mailer(completer);
    await notify();
    await until('both final', async () => (await statusOf(bad, good)).join() === 'bounced,sent');
    const suppression = await suppressionOf(db.pool, bad.address);
    expect(suppression?.reason).toBe('hard_bounce');
    expect(await suppressionOf(db.pool, good.address)).toBeUndefined();
    await until('two completions', () => completed.length === 2);
    const bounce = completed.find((c) => c.token === bad.token.toString('hex'))!;
    expect(bounce.outcome).toMatchObject({ status: 'bounced', messageId: bad.messageId, smtpResponse: expect.stringContaining('550') });
    expect(failed).toEqual([]);
    expect(atSink(bad.messageId)).toBe(0);
  });

  it('does not send to a lead whose consent was withdrawn after queueing, nor to a suppressed address', async () => {
    const withdrawn = await queue();
    await recordConsent(db.pool, { leadId: withdrawn.leadId, purpose: 'marketing_email', granted: false, source: 'unsubscribe-link' });
    const suppressed = await queue();
    await suppressAddress(db.pool, suppressed.address, 'complaint');
    const control = await queue();
    const { completed, completer } = recorder();
    mailer(completer);
    await notify();
    await until('all final', async () => (await statusOf(withdrawn, suppressed, control)).join() === 'skipped_no_consent,suppressed,sent');
    await deliveredOnce([control]);
    expect(atSink(withdrawn.messageId)).toBe(0);
    expect(atSink(suppressed.messageId)).toBe(0);
    await until('three completions', () => completed.length === 3);
    expect(completed.find((c) => c.token === withdrawn.token.toString('hex'))!.outcome).toEqual({ status: 'skipped_no_consent', messageId: withdrawn.messageId });
    expect(completed.find((c) => c.token === suppressed.token.toString('hex'))!.outcome).toEqual({ status: 'suppressed', messageId: suppressed.messageId });
  });

  it('calls a sending row with an expired lease unconfirmed and never sends it', async () => {
    const abandoned = await queue({ status: 'sending', leaseExpired: true });
    const { completed, completer } = recorder();
    mailer(completer);
    await until('unconfirmed', async () => (await statusOf(abandoned))[0] === 'unconfirmed');
    await until('completion', () => completed.length === 1);
    expect(completed[0]).toEqual({ token: abandoned.token.toString('hex'), outcome: { status: 'unconfirmed', messageId: abandoned.messageId } });
    expect(atSink(abandoned.messageId)).toBe(0);
  });

  it('completes the token the row holds when SMTP answers, not the one it was claimed with', async () => {
    const row = await queue();
    const gated = gatedTransport();
    const { completed, completer } = recorder();
    mailer(completer, { transport: gated.transport });
    await notify();
    await until('send in flight', () => gated.entered() === 1);
    const replacement = randomBytes(24);
    await db.pool.query('UPDATE email_sends SET task_token = $2 WHERE id = $1', [row.id, replacement]);
    gated.open();
    await until('completion', () => completed.length === 1);
    expect(completed[0]!.token).toBe(replacement.toString('hex'));
    expect(await statusOf(row)).toEqual(['sent']);
    await deliveredOnce([row]);
  });

  it('reports the outcome to the workflow the row names, once; a report Temporal refused is sent again', async () => {
    const target = await enrolment();
    let refuse = 2;
    const { reported, completed, completer } = recorder({ reportFails: () => refuse-- > 0 });
    const rows = [await queue({ reportTo: target }), await queue({ reportTo: target }), await queue({ reportTo: target })];
    mailer(completer);
    await notify();
    await until('three reports', () => reported.length === 3);
    expect(completed).toEqual([]);
    expect(new Set(reported.map((r) => r.workflowId))).toEqual(new Set([`wf-${target.enrolmentId}`]));
    for (const r of reported) expect(r.report).toMatchObject({ enrolmentId: target.enrolmentId, status: 'sent', sendKey: expect.stringMatching(/^cold\[\d+\]#1$/) });
    await until('all marked reported', async () => {
      const { rows: unreported } = await db.pool.query('SELECT 1 FROM email_sends WHERE id = ANY($1::bigint[]) AND reported_at IS NULL', [rows.map((r) => r.id)]);
      return unreported.length === 0;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(reported).toHaveLength(3); // nothing told twice once it was heard
    await deliveredOnce(rows);
  });

  it('retries a reported row that SMTP deferred by itself, with backoff, and reports only the final outcome', async () => {
    const target = await enrolment();
    let refusals = 1;
    sink.setFault(() => (refusals-- > 0 ? { code: 451, message: '4.3.0 try later' } : undefined));
    const row = await queue({ reportTo: target });
    const { reported, failed, completer } = recorder();
    mailer(completer);
    await notify();
    await until('deferred and queued again', async () => {
      const { rows } = await db.pool.query('SELECT status, next_attempt_at > now() AS later, deferred_since FROM email_sends WHERE id = $1', [row.id]);
      return rows[0].status === 'queued' && rows[0].later && rows[0].deferred_since !== null;
    });
    expect(reported).toEqual([]);
    expect(failed).toEqual([]);
    // The backoff elapses (moved here rather than waited for): the mailer sends it.
    await db.pool.query('UPDATE email_sends SET next_attempt_at = now() WHERE id = $1', [row.id]);
    await notify();
    await until('reported', () => reported.length === 1);
    expect(reported[0]!.report.status).toBe('sent');
    await deliveredOnce([row]);

    // Deferred for more than three days: it fails, and the workflow is told.
    sink.setFault(() => ({ code: 451, message: '4.3.0 try later' }));
    const stuck = await queue({ reportTo: target });
    await db.pool.query(`UPDATE email_sends SET deferred_since = now() - interval '4 days' WHERE id = $1`, [stuck.id]);
    await notify();
    await until('failed and reported', () => reported.length === 2);
    expect(reported[1]!.report.status).toBe('failed');
    expect(await statusOf(stuck)).toEqual(['failed']);
  });

  it('retries sales mail nobody waits for after SMTP deferred it (it is not stranded)', async () => {
    let refusals = 1;
    sink.setFault(() => (refusals-- > 0 ? { code: 421, message: '4.7.0 busy' } : undefined));
    const notice = await queue({ purpose: null, unwatched: true });
    const { completed, failed, reported, completer } = recorder();
    mailer(completer);
    await notify();
    await until('queued again for later', async () => {
      const { rows } = await db.pool.query('SELECT status, next_attempt_at > now() AS later FROM email_sends WHERE id = $1', [notice.id]);
      return rows[0].status === 'queued' && rows[0].later;
    });
    await db.pool.query('UPDATE email_sends SET next_attempt_at = now() WHERE id = $1', [notice.id]);
    await notify();
    await until('sent', async () => (await statusOf(notice))[0] === 'sent');
    await deliveredOnce([notice]);
    expect([completed, failed, reported]).toEqual([[], [], []]);
  });

  it('cancels the queued marketing email of a paused campaign and tells the workflow; its sales mail still goes', async () => {
    const paused = await enrolment('paused');
    const marketing = await queue({ reportTo: paused });
    const sales = await queue({ reportTo: paused, purpose: null });
    const unrelated = await queue();
    const { reported, completer } = recorder();
    mailer(completer);
    await notify();
    await until('reported', () => reported.length === 2);
    expect(reported.map((r) => r.report.status).sort()).toEqual(['cancelled', 'sent']);
    // The unrelated email reports to nobody: it may still be on its way when the two reports are in.
    await until('the unrelated email sent', async () => (await statusOf(unrelated))[0] === 'sent');
    expect(await statusOf(marketing, sales, unrelated)).toEqual(['cancelled', 'sent', 'sent']);
    expect(atSink(marketing.messageId)).toBe(0);
    await deliveredOnce([sales, unrelated]);
  });

  it('leases each row from its own SMTP conversation: a stalled server expires none of the rows waiting their turn', async () => {
    const rows = [await queue(), await queue(), await queue()];
    const gated = gatedTransport();
    const { completed, completer } = recorder();
    mailer(completer, { transport: gated.transport, concurrency: 1, leaseMs: 1_000 });
    await notify();
    await until('send in flight', () => gated.entered() === 1);
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // the stall outlasts the lease
    expect(await statusOf(...rows)).toEqual(['sending', 'queued', 'queued']);
    gated.open();
    await until('all sent', async () => (await statusOf(...rows)).every((s) => s === 'sent'));
    await until('three completions', () => completed.length === 3);
    await deliveredOnce(rows);
  });

  it('stops gracefully: finishes the send in flight and leaves the rows it had not started queued', async () => {
    const rows = [await queue(), await queue(), await queue()];
    const gated = gatedTransport();
    const { completed, completer } = recorder();
    const m = mailer(completer, { transport: gated.transport, concurrency: 1 });
    await notify();
    await until('send in flight', () => gated.entered() === 1);
    let stopped = false;
    const stopping = m.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    gated.open();
    await stopping;
    expect(completed).toHaveLength(1);
    const { rows: after } = await db.pool.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM email_sends WHERE id = ANY($1::bigint[]) ORDER BY id', [rows.map((r) => r.id)],
    );
    expect(after).toEqual([{ status: 'sent', attempts: 1 }, { status: 'queued', attempts: 0 }, { status: 'queued', attempts: 0 }]);
    expect(gated.entered()).toBe(1);
    // Another mailer takes the rest.
    const next = recorder();
    mailer(next.completer);
    await until('the rest sent', async () => (await statusOf(...rows)).every((s) => s === 'sent'));
    await deliveredOnce(rows);
  });

  it('survives losing its database connections and delivers afterwards (LISTEN reconnects)', async () => {
    const { completed, completer } = recorder();
    // The mailer's own connections, named so that only they are terminated (the test's stay usable).
    const mailerUrl = `${db.url}?application_name=mailer-under-test`;
    const mailerPool = createPool(mailerUrl, 4);
    // A long poll: after the connections are killed, only the mailer's reconnection can wake it.
    const m = startMailer({ pool: mailerPool, databaseUrl: mailerUrl, transport, completer, pollMs: 60_000 });
    const terminate = async () =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'mailer-under-test'`,
        )
      ).rows[0]!.n;
    const listening = async () =>
      (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'mailer-under-test' AND query ILIKE 'LISTEN%'`)).rows[0]!.n > 0;
    try {
      const before = await queue();
      await notify();
      await until('first sent', async () => (await statusOf(before))[0] === 'sent');
      await m.idle();
      expect(await terminate()).toBeGreaterThan(1); // the LISTEN connection and pooled ones

      // Queued while the mailer is cut off (this NOTIFY reaches nobody): delivered once it reconnects.
      const during = await Promise.all([queue(), queue()]);
      await notify();
      await until('rows queued during the loss sent', async () => (await statusOf(...during)).every((s) => s === 'sent'));

      // And it hears NOTIFY again.
      await until('LISTEN again', listening);
      const after = await Promise.all([queue(), queue(), queue()]);
      await notify();
      await until('rows queued after the loss sent', async () => (await statusOf(...after)).every((s) => s === 'sent'));
      await deliveredOnce([before, ...during, ...after]);
      await until('six completions', () => completed.length === 6);
    } finally {
      await m.stop();
      await mailerPool.end();
    }
  });

  it('keeps retrying the outcome write while the database refuses connections, and never sends twice', async () => {
    const { completed, completer } = recorder();
    const mailerUrl = `${db.url}?application_name=mailer-under-test`;
    const mailerPool = createPool(mailerUrl, 4);
    const gated = gatedTransport();
    const m = startMailer({ pool: mailerPool, databaseUrl: mailerUrl, transport: gated.transport, completer, pollMs: 100 });
    const database = (await db.pool.query<{ name: string }>('SELECT current_database() AS name')).rows[0]!.name;
    // A database's connections can only be switched off from another database.
    const admin = new pg.Client({ connectionString: db.url.replace(/\/[^/?]+$/, '/postgres') });
    await admin.connect();
    const allowConnections = (allow: boolean) => admin.query(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS ${allow}`);
    try {
      const row = await queue();
      await notify();
      await until('send in flight', () => gated.entered() === 1);
      // The database goes away while SMTP is busy: no new connections, the mailer's ones cut.
      await allowConnections(false);
      await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mailer-under-test'`);
      gated.open();
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await statusOf(row)).toEqual(['sending']); // SMTP said 250, the write is still pending
      expect(completed).toHaveLength(0);
      await allowConnections(true);
      await until('sent recorded', async () => (await statusOf(row))[0] === 'sent');
      await until('completion', () => completed.length === 1);
      expect(completed[0]!.outcome.status).toBe('sent');
      await deliveredOnce([row]);
      expect(gated.entered()).toBe(1);
    } finally {
      gated.open();
      await allowConnections(true);
      await admin.end();
      await m.stop();
      await mailerPool.end();
    }
  });

  it('refuses nonsense options with a clear error', () => {
    expect(() => startMailer({ pool: db.pool, databaseUrl: db.url, transport, completer: recorder().completer, leaseMs: 0 })).toThrow(/leaseMs must be a positive number/);
  });
});
