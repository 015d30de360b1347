// The outbox mailer (worker/mailer.ts: claim a row, check consent and campaign status, send over
// pooled SMTP, record the outcome) draining N queued emails into the SMTP sink running in a
// process of its own, against two figures measured in the same run into the same sink: the
// pooled transport alone (the same emails, no database), and the raw ceiling — a minimal SMTP
// client on plain sockets (EHLO once per connection, then MAIL/RCPT/DATA per email, no MIME
// building), with as many connections and emails in flight as the mailer uses.
//
//   npx tsx bench/mailer.ts [--emails 5000]
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { saveCampaignVersion, setCampaignStatus } from '../db/campaigns';
import { recordConsent } from '../db/consent';
import { insertSend, outboxBacklog } from '../db/email-sends';
import { upsertLead } from '../db/leads';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { startEmbeddedPostgres } from '../devserver/postgres';
import { messageIdFor, messageKey } from '../mail/identity';
import { createTransport, type OutgoingMessage } from '../mail/transport';
import { startMailer } from '../worker/mailer';
import { WELCOME_CAMPAIGN } from './support/campaigns';
import { startTsxProcess } from './support/child-process';

const LANES = 8; // the mailer's default emails in flight
const SINK_PROCESS = fileURLToPath(new URL('./processes/smtp-sink.ts', import.meta.url));
const HTML = `<p>Hello,</p><p>${'Here is the guide you asked for, with the figures of the year. '.repeat(40)}</p>`;

function email(run: string, n: number): OutgoingMessage & { to: string } {
  return {
    from: 'Acme Marketing <marketing@acme.example>',
    to: `lead${n}@bench.example`,
    subject: `Your guide is ready (${run} ${n})`,
    html: HTML,
    text: HTML.replace(/<[^>]+>/g, ''),
    headers: { 'List-Unsubscribe': `<https://nurture.example/u/${n}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    messageId: messageIdFor(`${run}:${n}`, 'nurture.bench'),
  };
}

async function startSinkProcess(): Promise<{ url: string; process: ChildProcess }> {
  const { child, match } = await startTsxProcess(SINK_PROCESS, [], /listening (\S+)/);
  return { url: match[1]!, process: child };
}

/** A minimal SMTP client on one socket: EHLO once, then one email after another. */
async function rawLane(url: string, messages: string[]): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let buffer = '';
  const waiting: ((line: string) => void)[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (/^\d{3} /.test(line)) waiting.shift()?.(line); // the last line of a reply
    }
  });
  const reply = () => new Promise<string>((resolve) => waiting.push(resolve));
  const command = async (text: string, expect: string) => {
    const answer = reply();
    socket.write(text);
    const line = await answer;
    if (!line.startsWith(expect)) throw new Error(`SMTP ${text.trim().slice(0, 20)}: ${line}`);
  };
  const greeting = reply();
  await new Promise((resolve) => socket.once('connect', resolve));
  await greeting;
  await command('EHLO bench.example\r\n', '250');
  for (const message of messages) {
    await command('MAIL FROM:<marketing@acme.example>\r\n', '250');
    await command('RCPT TO:<lead@bench.example>\r\n', '250');
    await command('DATA\r\n', '354');
    await command(`${message}\r\n.\r\n`, '250');
  }
  await command('QUIT\r\n', '221');
  socket.end();
}

/** The message as a raw client sends it: the same parts, a MIME body built once beforehand. */
function rawMessage(message: OutgoingMessage): string {
  const boundary = 'b1';
  return [
    `From: ${message.from}`,
    `To: ${message.to}`,
    `Subject: ${message.subject}`,
    `Message-ID: ${message.messageId}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    message.text,
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    message.html,
    `--${boundary}--`,
  ].join('\r\n');
}

export async function main(options: { emails: number }): Promise<void> {
  const { emails } = options;
  const dir = await mkdtemp(join(tmpdir(), 'nurture-bench-mailer-'));
  const database = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: false });
  const sink = await startSinkProcess();
  const databaseUrl = await database.createDatabase('mailer');
  const pool = createPool(databaseUrl);
  try {
    await migrate(databaseUrl);
    const campaign = WELCOME_CAMPAIGN;
    await saveCampaignVersion(pool, campaign);
    await setCampaignStatus(pool, campaign.id, 'active');
    console.log(`mailer (${emails.toLocaleString('en')} emails of ${(rawMessage(email('x', 0)).length / 1024).toFixed(1)} KB, ${LANES} in flight, into the SMTP sink in a process of its own; embedded PostgreSQL)`);

    // The raw ceiling, then the transport alone (both warm the sink up too).
    const rawStarted = performance.now();
    const perLane = Math.ceil(emails / LANES);
    await Promise.all(Array.from({ length: LANES }, (_, lane) => rawLane(sink.url, Array.from({ length: perLane }, (_, i) => rawMessage(email('raw', lane * perLane + i))))));
    const rawRate = (perLane * LANES) / ((performance.now() - rawStarted) / 1000);

    const transport = createTransport(sink.url, { pooled: true });
    let next = 0;
    const transportStarted = performance.now();
    await Promise.all(Array.from({ length: LANES }, async () => {
      while (next < emails) await transport.send(email('transport', next++));
    }));
    const transportRate = emails / ((performance.now() - transportStarted) / 1000);

    // The outbox: rows as queueEmail leaves them, then the mailer drains them.
    let queued = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (queued < emails) {
        const n = queued++;
        const message = email('outbox', n);
        const { lead } = await upsertLead(pool, { email: message.to });
        await recordConsent(pool, { leadId: lead.id, purpose: campaign.consent, granted: true, source: 'bench' });
        const key = `outbox:${n}`;
        await insertSend(pool, {
          idempotencyKey: key, messageId: message.messageId, messageKey: messageKey(key), kind: 'step', enrolmentId: null,
          campaignId: campaign.id, campaignVersion: 1, leadId: lead.id, stepPath: 'tracks.cold[0]', template: 'welcome', abTest: null, variant: null,
          consentPurpose: campaign.consent, subject: message.subject, createdAt: new Date(), status: 'queued', toAddress: message.to, message,
        });
      }
    }));
    const mailerStarted = performance.now();
    const mailer = startMailer({
      pool,
      databaseUrl,
      transport,
      // Nobody waits for these rows' outcomes: nothing to complete or signal.
      completer: { complete: async () => {}, fail: async () => {}, report: async () => false },
    });
    while ((await outboxBacklog(pool)) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const mailerRate = emails / ((performance.now() - mailerStarted) / 1000);
    await mailer.stop();
    transport.close();

    const fmt = (rate: number) => `${Math.round(rate).toLocaleString('en').padStart(6)} emails/s`;
    console.log(`  baseline: raw SMTP client (sockets, no MIME)  ${fmt(rawRate)}`);
    console.log(`  the pooled transport alone (nodemailer)        ${fmt(transportRate)}`);
    console.log(`  the outbox mailer, database to SMTP            ${fmt(mailerRate)}`);
    console.log(`  ratio: the mailer reaches ${((100 * mailerRate) / rawRate).toFixed(0)}% of the raw ceiling (the transport alone ${((100 * transportRate) / rawRate).toFixed(0)}%); target ≥ 2,000 emails/s or ≥ 50%: ${mailerRate >= 2000 || mailerRate >= rawRate / 2 ? 'met' : 'NOT met'}`);
  } finally {
    await pool.end();
    sink.process.kill('SIGTERM');
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { emails: { type: 'string', default: '5000' } } });
  await main({ emails: Number(values.emails) });
}
