// The reference journey driven over HTTP alone, as the outside world drives it: a website posts
// the lead, its consent and its events to the API; the lead's mail client opens the pixel and
// follows the links found in the emails the SMTP server really received; the sales rep answers
// through the signed links of the notice; another lead leaves through the unsubscribe link.
// The emails name the public host (http://nurture.test); requests go to where the API listens,
// as DNS would send them.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApi } from '../../api/app';
import type { Campaign } from '../../campaign';
import { createApiKey } from '../../db/api-keys';
import type { ReceivedMessage } from '../../devserver/smtp-sink';
import { loadCampaign, startHarness, TEST_CONFIG, type Harness } from './harness';

const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
// Opens and clicks within seconds of delivery count as machines (api/machine-detection.ts).
const HUMAN_DELAY_MS = 10_500;

let h: Harness;
let campaign: Campaign;
let api: FastifyInstance;
let base: string;
let key: string;

beforeAll(async () => {
  h = await startHarness({ wallClock: true });
  // Always inside the send window: tracking stamps opens and clicks with the wall clock, so the
  // workflow clock must not be moved ahead of it (scores decay with the events' age).
  campaign = loadCampaign('saas-whitepaper-nurture', (text) =>
    text.replace(/^send_window: .*$/m, 'send_window: { days: every_day, hours: "00:00-24:00", timezone: lead }'),
  );
  await h.launch(campaign);
  api = await buildApi({ pool: h.db.pool, engine: h.engine, links: { baseUrl: TEST_CONFIG.publicUrl, secret: TEST_CONFIG.linkSecret }, rateLimit: false });
  await api.listen({ port: 0, host: '127.0.0.1' });
  const address = api.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  key = (await createApiKey(h.db.pool, 'website', ['read', 'write'])).key;
});

afterAll(async () => {
  await api?.close();
  await h?.close();
});

/** A URL from an email, requested where the API really listens. */
const local = (url: string) => url.replace(TEST_CONFIG.publicUrl, base);

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function newLead(email: string, attributes: Record<string, unknown>): Promise<string> {
  const created = await call('PUT', '/v1/leads', { email, timezone: 'Asia/Tokyo', attributes });
  expect(created.status).toBe(201);
  const consent = await call('POST', `/v1/leads/${created.body.lead.id}/consent`, { purpose: 'marketing_email', granted: true, source: 'form:whitepaper', ip: '203.0.113.7' });
  expect(consent.status).toBe(201);
  return created.body.lead.id;
}

const hrefs = (message: ReceivedMessage) => [...message.html.matchAll(/href="([^"]+)"/g)].map((match) => match[1]!.replaceAll('&amp;', '&'));
const trackedClicks = (message: ReceivedMessage) => hrefs(message).filter((href) => href.startsWith(`${TEST_CONFIG.publicUrl}/t/c/`));

async function stateOf(leadId: string) {
  return (await call('GET', `/v1/leads/${leadId}`)).body as { stage: string; score: number };
}

describe('the journey over HTTP', () => {
  const AIKO = 'aiko.http@globex.example';
  let leadId: string;
  let welcome: ReceivedMessage;

  it('a website posts the lead, its consent and the whitepaper download; the welcome email arrives', async () => {
    leadId = await newLead(AIKO, { first_name: 'Aiko', last_name: 'Suzuki', company: { name: 'Globex', employees: 250 }, role: 'manager', region: 'kanto' });
    const event = await call('POST', '/v1/events', { id: 'web-1', lead: { email: AIKO }, type: 'asset.downloaded', data: { asset: 'whitepaper' } });
    expect(event.status).toBe(202);
    welcome = await h.waitForMail((message) => message.to.includes(AIKO));
    await vi.waitFor(async () => expect(await stateOf(leadId)).toMatchObject({ stage: 'cold', score: 45 }));
  });

  it('a scanner following the hidden trap link is recorded as a machine and changes nothing', async () => {
    const trap = [...welcome.html.matchAll(/<a href="([^"]+)"[^>]*class="trap"/g)].map((match) => match[1]!.replaceAll('&amp;', '&'));
    expect(trap).toHaveLength(1);
    expect(welcome.text).not.toContain(trap[0]);
    await new Promise((resolve) => setTimeout(resolve, HUMAN_DELAY_MS));
    const response = await fetch(local(trap[0]!), { redirect: 'manual', headers: { 'user-agent': BROWSER } });
    expect(response.status).toBe(302);
    const { rows } = await h.db.pool.query(`SELECT machine, machine_reason FROM email_engagements WHERE kind = 'click'`);
    expect(rows).toEqual([{ machine: true, machine_reason: 'honeypot_link' }]);
    await h.settle();
    expect(await stateOf(leadId)).toMatchObject({ score: 45 });
  });

  it("the lead's mail client opens the pixel and follows a link: human engagement moves her to warm", async () => {
    const pixel = /<img[^>]+src="([^"]+\/t\/o\/[^"]+)"/.exec(welcome.html)?.[1];
    expect(pixel).toBeDefined();
    const image = await fetch(local(pixel!), { headers: { 'user-agent': BROWSER } });
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/gif');
    const link = trackedClicks(welcome)[0]!;
    const click = await fetch(local(link), { redirect: 'manual', headers: { 'user-agent': BROWSER } });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://acme.example/guides/data-driven-growth.pdf');
    // Fit 35 + download 10 + open 1 + click 5 = 51 ≥ 50.
    await vi.waitFor(async () => expect(await stateOf(leadId)).toMatchObject({ stage: 'warm', score: 51 }), { timeout: 20_000 });
    await h.waitForMail((message) => message.to.includes(AIKO) && message.subject.startsWith('Globex and teams like yours'));
  });

  it('pricing-page views posted by the website make her hot; the rep accepts through the signed link of the notice', async () => {
    const batch = await call('POST', '/v1/events/batch', {
      events: [
        { id: 'web-2', lead: { id: leadId }, type: 'page.viewed', data: { page: 'pricing' } },
        { id: 'web-3', lead: { id: leadId }, type: 'page.viewed', data: { page: 'pricing' } },
      ],
    });
    expect(batch.status).toBe(200);
    const notice = await h.waitForMail((message) => message.to.includes('kenji@acme.example') && message.subject.includes('Aiko Suzuki'));
    const answers = hrefs(notice).filter((href) => href.startsWith(`${TEST_CONFIG.publicUrl}/h/`));
    expect(answers).toHaveLength(3); // accept, not ready, disqualify
    const pages = await Promise.all(answers.map(async (href) => (await fetch(local(href))).text()));
    const accept = answers[pages.findIndex((text) => text.includes('Confirm: accepted'))];
    expect(accept).toBeDefined();
    // The link shows a confirmation page and changes nothing (mail scanners follow links too)…
    const page = await fetch(local(accept!));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Confirm: accepted');
    expect((await call('GET', '/v1/handoffs?status=pending')).body.handoffs).toHaveLength(1);
    // …and its form records the answer.
    const confirmed = await fetch(local(accept!), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('Recorded: accepted');
    await vi.waitFor(async () => expect((await call('GET', '/v1/handoffs?status=accepted')).body.handoffs).toHaveLength(1));
    const again = await fetch(local(accept!), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(again.status).toBe(409);
  });
});

describe('unsubscribe over HTTP', () => {
  it('the one-click POST from the List-Unsubscribe header stops every campaign and suppresses the address', async () => {
    const KEN = 'ken.http@initech.example';
    const leadId = await newLead(KEN, { first_name: 'Ken', company: { name: 'Initech', employees: 40 }, role: 'engineer' });
    await call('POST', '/v1/events', { id: 'web-ken-1', lead: { id: leadId }, type: 'asset.downloaded', data: { asset: 'whitepaper' } });
    const welcome = await h.waitForMail((message) => message.to.includes(KEN));
    const target = /^<([^>]+)>$/.exec(welcome.headers['list-unsubscribe'] ?? '')?.[1];
    expect(target).toMatch(new RegExp(`^${TEST_CONFIG.publicUrl}/u/`));
    // The visible page only asks; a GET changes nothing.
    const page = await fetch(local(target!));
    expect(page.status).toBe(200);
    expect((await call('GET', `/v1/leads/${leadId}`)).body.consent).toEqual({ marketing_email: true });
    // RFC 8058: the mail client POSTs List-Unsubscribe=One-Click.
    const oneClick = await fetch(local(target!), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    const profile = (await call('GET', `/v1/leads/${leadId}`)).body;
    expect(profile.consent).toEqual({ marketing_email: false });
    expect(profile.suppressed).not.toBeNull();
    await vi.waitFor(async () => expect((await call('GET', `/v1/leads/${leadId}`)).body.enrolments[0].status).toBe('exited'));
    // Nothing more, even after the days in which the track would have mailed again.
    const before = h.mailTo(KEN).length;
    await h.advance(30 * 24 * 3_600_000);
    await h.settle();
    expect(h.mailTo(KEN)).toHaveLength(before);
    // A forged token: 404, nothing recorded.
    const forged = await fetch(`${base}/u/${target!.split('/u/')[1]!.slice(0, -4)}AAAA`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(forged.status).toBe(404);
  });
});
