// A sunset policy on the real engine (time-skipping server): a lead who does not answer the
// re-engagement email is reported to the team by email (an internal notice: no send window, no
// frequency cap, no consent), posted to the webhook (signed, received by a real HTTP server), has
// its consent withdrawn (the marketing email after it is skipped) and its address suppressed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { signWebhook } from '../../activities/webhook';
import { parseCampaign, type Campaign } from '../../campaign';
import { DAY, HOUR, startHarness, TEST_CONFIG, type Harness } from './harness';

const SUNSET = `
id: dormant-sunset
name: Dormant sunset
from: { email: news@acme.example }
entry: { on: lead.dormant }
consent: marketing_email
scoring: {}
stages: { warm: 20, hot: 1000 }
# Tuesdays 10:00–11:00 only, and one marketing email a month: neither applies to the notice.
send_window: { days: [tue], hours: "10:00-11:00", timezone: Asia/Tokyo, spread: 0 }
frequency_cap: { max: 1, per: 30d }
tracks:
  cold:
    - email: { template: reminder, subject: "Still interested, {{lead.first_name}}?" }
    - wait_for: { event: email.clicked, timeout: 14d }
      then:
        - tag: re-engaged
        - exit: re-engaged
      else:
        - wait: 3h
        - label: tell-the-team
          notify:
            to: [sales-ops@acme.example, crm@acme.example]
            subject: "{{lead.first_name}} {{lead.last_name}} is being sunset"
        - webhook: lead.sunset
        - withdraw_consent: true
        - email: { template: reminder, subject: "Last chance, {{lead.first_name}}", send_window: any }
        - suppress: no answer to the re-engagement email
        - email: { template: reminder, subject: "Never sent" }
`;

interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let h: Harness;
let receiver: Server;
const deliveries: Delivery[] = [];

beforeAll(async () => {
  // The receiver refuses deliveries about leads at refuse.example (a 400 is not retried).
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      deliveries.push({ headers: request.headers, body });
      response.statusCode = body.includes('@refuse.example') ? 400 : 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  h = await startHarness({ config: { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/nurture` } });
  const sunset = parseCampaign(SUNSET);
  if (!sunset.ok) throw new Error(JSON.stringify(sunset.errors));
  campaign = sunset.campaign;
  await h.launch(campaign);
  await h.startAtCanonicalInstant(campaign);
});

let campaign: Campaign;

afterAll(async () => {
  await h?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

const timeline = async (leadId: string) => {
  const { rows } = await h.db.pool.query<{ workflow_id: string }>('SELECT workflow_id FROM enrolments WHERE lead_id = $1', [leadId]);
  const state = await h.client.workflow.getHandle(rows[0]!.workflow_id).query<{ history: { what: string }[] }>('state');
  return state.history.map((entry) => entry.what);
};

it('sunsets a lead who does not answer: notice, webhook, consent withdrawn, address suppressed', async () => {
  const address = 'haruto@initech.example';
  const leadId = await h.addLead(address, { first_name: 'Haruto', last_name: 'Sato', company: { name: 'Initech' } });
  await h.event(leadId, 'lead.dormant');
  await h.waitForMail((m) => m.to.includes(address) && m.subject === 'Still interested, Haruto?');

  // Two weeks without a click, then three hours: Tuesday 13:00 in Tokyo, the send window closed.
  await h.advance(14 * DAY + 3 * HOUR + 60_000);
  const notices = await vi.waitFor(() => {
    const found = h.sink.messages.filter((m) => m.subject === 'Haruto Sato is being sunset');
    expect(found).toHaveLength(2);
    return found;
  }, { timeout: 20_000 });
  expect(notices.map((m) => m.to).flat().sort()).toEqual(['crm@acme.example', 'sales-ops@acme.example']);
  for (const notice of notices) {
    expect(notice.text).toContain(address);
    expect(notice.text).toContain('tell-the-team');
    expect(notice.text).toMatch(/stage cold, score 0/);
    // Not marketing: no unsubscribe link, no open pixel.
    expect(notice.headers['list-unsubscribe']).toBeUndefined();
    expect(notice.html).not.toContain('/o/');
  }

  await h.settle();
  await vi.waitFor(() => expect(deliveries.filter((d) => d.body.includes(address))).toHaveLength(1), { timeout: 20_000 });
  const delivery = deliveries.find((d) => d.body.includes(address))!;
  expect(delivery.headers['x-nurture-event']).toBe('lead.sunset');
  const timestamp = Number(delivery.headers['x-nurture-timestamp']);
  expect(delivery.headers['x-nurture-signature']).toBe(signWebhook(delivery.body, timestamp, TEST_CONFIG.webhookSecret));
  const body = JSON.parse(delivery.body);
  expect(body).toMatchObject({
    event: 'lead.sunset',
    delivery: delivery.headers['x-nurture-delivery'],
    data: {
      lead: { id: leadId, email: address, attributes: { first_name: 'Haruto', last_name: 'Sato' } },
      campaign: { id: 'dormant-sunset', name: 'Dormant sunset' },
      step: { path: 'tracks.cold[1].else[2]', name: 'tracks.cold[1].else[2]' },
      stage: 'cold',
      score: 0,
    },
  });

  // Consent withdrawn with the campaign and step as evidence; the marketing email after it was skipped.
  const { rows: consent } = await h.db.pool.query('SELECT granted, source, evidence FROM consent_records WHERE lead_id = $1 ORDER BY id', [leadId]);
  expect(consent.at(-1)).toEqual({ granted: false, source: 'campaign:dormant-sunset', evidence: { campaign_version: 1, step: 'tracks.cold[1].else[3]' } });
  expect(h.mailTo(address).map((m) => m.subject)).toEqual(['Still interested, Haruto?']);

  // Suppressed for good, and the enrolment ended there.
  const { rows: suppressed } = await h.db.pool.query(`SELECT s.reason, s.detail FROM suppressions s JOIN leads l ON l.email_hash = s.email_hash WHERE l.id = $1`, [leadId]);
  expect(suppressed).toEqual([{ reason: 'sunset', detail: 'campaign Dormant sunset (dormant-sunset) step tracks.cold[1].else[5]: no answer to the re-engagement email' }]);
  const { rows: enrolments } = await h.db.pool.query('SELECT status, exit_reason FROM enrolments WHERE lead_id = $1', [leadId]);
  expect(enrolments).toEqual([{ status: 'exited', exit_reason: 'suppressed' }]);

  const { rows: sends } = await h.db.pool.query('SELECT kind, status, to_address FROM email_sends WHERE lead_id = $1 ORDER BY id', [leadId]);
  expect(sends).toEqual([
    { kind: 'step', status: 'sent', to_address: address },
    { kind: 'internal_notice', status: 'sent', to_address: 'sales-ops@acme.example' },
    { kind: 'internal_notice', status: 'sent', to_address: 'crm@acme.example' },
  ]);
  // The webhook's outcome comes back after the exit, and is noted all the same.
  expect(await timeline(leadId)).toEqual([
    'enrolled',
    'sent reminder (tracks.cold[0]#1)',
    'tracks.cold[1].else[1]: notified sales-ops@acme.example, crm@acme.example',
    'tracks.cold[1].else[2]: webhook lead.sunset queued',
    'tracks.cold[1].else[3]: consent marketing_email withdrawn',
    'tracks.cold[1].else[4]: skipped, no consent',
    'exited: suppressed',
    'tracks.cold[1].else[2]: webhook delivered',
  ]);
});

it('a lead who clicks is tagged and leaves; nobody is told', async () => {
  const address = 'mei@globex.example';
  await h.startAtCanonicalInstant(campaign); // the next Tuesday 10:00 in Tokyo: the window is open
  const leadId = await h.addLead(address, { first_name: 'Mei' });
  await h.event(leadId, 'lead.dormant');
  await h.waitForMail((m) => m.to.includes(address));
  await h.advance(2 * DAY);
  await h.event(leadId, 'email.clicked', { campaign: 'dormant-sunset' });
  await h.settle();
  await vi.waitFor(async () => {
    const { rows } = await h.db.pool.query('SELECT status, exit_reason FROM enrolments WHERE lead_id = $1', [leadId]);
    expect(rows).toEqual([{ status: 'exited', exit_reason: 're-engaged' }]);
  });
  const { rows } = await h.db.pool.query('SELECT attributes FROM leads WHERE id = $1', [leadId]);
  expect(rows[0].attributes.tags).toEqual(['re-engaged']);
  await h.advance(15 * DAY);
  await h.settle();
  expect(h.sink.messages.filter((m) => m.subject.startsWith('Mei '))).toEqual([]);
  expect(deliveries.filter((d) => d.body.includes(address))).toEqual([]);
  expect((await h.db.pool.query('SELECT 1 FROM suppressions s JOIN leads l ON l.email_hash = s.email_hash WHERE l.id = $1', [leadId])).rowCount).toBe(0);
});

it('a webhook the receiver refuses is noted on the timeline and holds up nothing', async () => {
  const address = 'ren@refuse.example';
  await h.startAtCanonicalInstant(campaign);
  const leadId = await h.addLead(address, { first_name: 'Ren', last_name: 'Kato' });
  await h.event(leadId, 'lead.dormant');
  await h.waitForMail((m) => m.to.includes(address));
  await h.advance(14 * DAY + 3 * HOUR + 60_000);
  await h.waitForMail((m) => m.subject === 'Ren Kato is being sunset');
  await h.settle();
  await vi.waitFor(async () => {
    const notes = await timeline(leadId);
    expect(notes).toContain('tracks.cold[1].else[2]: webhook failed: webhook at 127.0.0.1:' + (receiver.address() as AddressInfo).port + ' answered 400');
    expect(notes).toContain('exited: suppressed');
  }, { timeout: 20_000 });
});

it('replays every history it produced (and records them as golden histories on request)', async () => {
  expect(await h.checkHistories('campaign-actions')).toEqual([]);
});
