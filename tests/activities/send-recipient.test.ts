// Display names reach the recipient intact: the send activity queues address objects and
// nodemailer quotes them, so a name with quotes and a trailing backslash neither corrupts the
// To header nor makes the address look malformed (which would suppress the lead as a bounce).
// Real PostgreSQL, the real send activity and outbox mailer, real SMTP into the sink, and the
// received headers parsed back with mailparser.
import { randomBytes } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendActivities } from '../../activities/send';
import { upsertLead } from '../../db/leads';
import { suppressionOf } from '../../db/suppressions';
import { startSmtpSink, type SmtpSink } from '../../devserver/smtp-sink';
import { Links } from '../../mail/links';
import { TemplateLibrary } from '../../mail/renderer';
import { createTransport, type Transport } from '../../mail/transport';
import { startMailer, type SendCompleter } from '../../worker/mailer';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
let sink: SmtpSink;
let transport: Transport;
let templates: TemplateLibrary;
const run = randomBytes(4).toString('hex');

beforeAll(async () => {
  [db, sink] = await Promise.all([createTestDatabase(), startSmtpSink()]);
  transport = createTransport(sink.url, { pooled: false });
  templates = new TemplateLibrary();
  await templates.warm(['welcome']);
});
afterAll(async () => {
  transport?.close();
  await sink?.close();
  await db?.drop();
});

const nobody: SendCompleter = { report: async () => true, complete: async () => {}, fail: async () => {} };

/** The mailboxes of a received header, parsed by mailparser. */
async function mailboxes(header: string | undefined, name: 'from' | 'to'): Promise<{ name: string; address?: string }[]> {
  const parsed = await simpleParser(Buffer.from(`${name === 'from' ? 'From' : 'To'}: ${header}\r\n\r\n`));
  const value = parsed[name] as AddressObject | undefined;
  return (value?.value ?? []).map((entry) => ({ name: entry.name, address: entry.address }));
}

describe('recipient and sender names', () => {
  it.each([
    ['quotes and a trailing backslash', 'Bob "Q"', 'Smith\\'],
    ['a backslash inside', 'Ann\\', 'O"Neil'],
    ['a comma and angle brackets', 'Doe, <Jane>', 'Roe;'],
    ['non-ASCII', 'Hanako "花子"', '山田\\'],
  ])('arrive intact: %s', async (_what, firstName, lastName) => {
    const address = `lead-${run}-${randomBytes(3).toString('hex')}@example.com`;
    const { lead } = await upsertLead(db.pool, { email: address, attributes: { first_name: firstName, last_name: lastName } });
    const sender = { name: 'Acme "Growth" Team\\', email: 'marketing@acme.example' };
    const activities = createSendActivities({
      pool: db.pool,
      templates,
      links: new Links({ baseUrl: 'https://nurture.test', secret: 'send-recipient-test-link-secret-0123456789' }),
      mailDomain: 'nurture.test',
    });
    const queued = await activities.queueEmail({
      idempotencyKey: `recipient-${run}-${address}`,
      kind: 'step',
      requestedAt: Date.now(),
      from: sender,
      template: 'welcome',
      subject: 'Your guide',
      campaign: { id: 'names', version: 1, name: 'Names' },
      leadId: lead.id,
    });
    expect(queued.status).toBe('queued');

    const mailer = startMailer({ pool: db.pool, databaseUrl: db.url, transport, completer: nobody, pollMs: 100 });
    try {
      await sink.waitFor((all) => all.some((message) => message.to.includes(address)), 15_000);
    } finally {
      await mailer.stop();
    }
    const received = sink.messages.find((message) => message.to.includes(address))!;
    expect(received.to).toEqual([address]); // the envelope: exactly the lead's address
    expect(await mailboxes(received.headers.to, 'to')).toEqual([{ name: `${firstName} ${lastName}`, address }]);
    expect(await mailboxes(received.headers.from, 'from')).toEqual([{ name: sender.name, address: sender.email }]);
    const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM email_sends WHERE lead_id = $1', [lead.id]);
    expect(rows).toEqual([{ status: 'sent' }]);
    expect(await suppressionOf(db.pool, address)).toBeUndefined();
  });
});
