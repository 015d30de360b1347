// Tracking pixel, click redirect, one-click unsubscribe and handoff links: genuine tokens act,
// forged or unknown ones get a 404 (or, for the pixel, a GIF) and record nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../api/app';
import { classifyClick, classifyOpen } from '../../api/machine-detection';
import { REPEAT_WINDOW_MS } from '../../api/routes/tracking';
import { signLink } from '../../mail/link-tokens';
import { Links, type LinkSettings } from '../../mail/links';
import { createLead, LINKS, seedEnrolment, seedHandoff, seedSend, startTestApi, tableCounts, type TestApi } from './support';

let api: TestApi;
const links = new Links(LINKS);
const path = (url: string) => url.slice(LINKS.baseUrl.length);
const HUMAN_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

/** The lead's stored events, in arrival order, as the dispatcher will deliver them. */
const eventsOf = async (leadId: string) =>
  (
    await api.db.pool.query<{ id: string; type: string; machine: boolean; data: Record<string, unknown>; undelivered: boolean }>(
      'SELECT external_id AS id, type, machine, data, delivered_at IS NULL AS undelivered FROM events WHERE lead_id = $1 ORDER BY id',
      [leadId],
    )
  ).rows;

const engagements = async (sendId: number) =>
  (await api.db.pool.query('SELECT kind, url, machine, machine_reason FROM email_engagements WHERE send_id = $1 ORDER BY id', [sendId])).rows;

describe('open pixel', () => {
  it('records a human open and stores email.opened with the send in its data, for the dispatcher', async () => {
    const leadId = await createLead(api, 'opener@example.com');
    const { enrolmentId, campaignId } = await seedEnrolment(api.db, leadId);
    const send = await seedSend(api.db, { leadId, to: 'opener@example.com', campaignId, enrolmentId });
    const response = await api.call({ method: 'GET', url: path(links.openPixel(send.messageKey)), key: null, headers: { 'user-agent': HUMAN_UA } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/gif');
    expect(response.headers['cache-control']).toMatch(/no-store/);
    expect(response.rawPayload.subarray(0, 6).toString()).toBe('GIF89a');
    expect(await engagements(send.sendId)).toEqual([{ kind: 'open', url: null, machine: false, machine_reason: null }]);
    const { rows } = await api.db.pool.query('SELECT id FROM email_engagements WHERE send_id = $1', [send.sendId]);
    expect(await eventsOf(leadId)).toEqual([
      {
        id: `open:${rows[0].id}`,
        type: 'email.opened',
        machine: false,
        data: { send_key: send.idempotencyKey, template: 'welcome', step: 'tracks.cold[0]', campaign: campaignId, url: null },
        undelivered: true,
      },
    ]);
    expect(api.engine.calls).toEqual([]);
  });

  it('stores repeated fetches of one pixel within the window once, keeping the first, even when they race', async () => {
    const leadId = await createLead(api, 'refetch@example.com');
    const send = await seedSend(api.db, { leadId, to: 'refetch@example.com' });
    const other = await seedSend(api.db, { leadId, to: 'refetch@example.com' });
    const fetchPixel = (messageKey: string) => api.call({ method: 'GET', url: path(links.openPixel(messageKey)), key: null, headers: { 'user-agent': HUMAN_UA } });
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetchPixel(send.messageKey)));
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(8).fill(200));
    await fetchPixel(other.messageKey); // another email's pixel is another token
    expect(await engagements(send.sendId)).toHaveLength(1);
    expect(await engagements(other.sendId)).toHaveLength(1);
    expect((await eventsOf(leadId)).map((event) => event.type)).toEqual(['email.opened', 'email.opened']);
    // Past the window the same pixel counts again (a later reading of the email).
    await api.db.pool.query(`UPDATE tracking_hits SET stored_at = stored_at - interval '${REPEAT_WINDOW_MS / 1000 + 1} seconds'`);
    await fetchPixel(send.messageKey);
    expect(await engagements(send.sendId)).toHaveLength(2);
  });

  it('flags Apple Mail Privacy Protection and image proxies as machine opens', async () => {
    const leadId = await createLead(api, 'mpp@example.com');
    const send = await seedSend(api.db, { leadId, to: 'mpp@example.com' });
    const proxied = await seedSend(api.db, { leadId, to: 'mpp@example.com' });
    await api.call({ method: 'GET', url: path(links.openPixel(send.messageKey)), key: null, headers: { 'user-agent': 'Mozilla/5.0' } });
    await api.call({ method: 'GET', url: path(links.openPixel(proxied.messageKey)), key: null, headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)' } });
    expect(await engagements(send.sendId)).toEqual([{ kind: 'open', url: null, machine: true, machine_reason: 'apple_mpp' }]);
    expect(await engagements(proxied.sendId)).toEqual([{ kind: 'open', url: null, machine: true, machine_reason: 'image_proxy:gmail' }]);
    expect((await eventsOf(leadId)).map((event) => event.machine)).toEqual([true, true]);
  });

  it('answers a forged or unknown token with the GIF and records nothing', async () => {
    const leadId = await createLead(api, 'forged@example.com');
    const send = await seedSend(api.db, { leadId, to: 'forged@example.com' });
    const before = await tableCounts(api.db);
    const forged = signLink({ kind: 'open', message: send.messageKey }, 'not-our-secret');
    const unknown = signLink({ kind: 'open', message: 'AAAAAAAAAAAAAAAAAAAAAA' }, LINKS.secret);
    const clickToken = links.click(send.messageKey, 'https://example.com/', 0).split('/t/c/')[1];
    for (const token of [forged, unknown, clickToken, 'garbage', "'; DROP TABLE email_sends; --"]) {
      const response = await api.call({ method: 'GET', url: `/t/o/${encodeURIComponent(token!)}.gif`, key: null });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('image/gif');
    }
    expect(await tableCounts(api.db)).toEqual(before);
  });
});

describe('click redirect', () => {
  it('redirects to exactly the signed URL and records the click', async () => {
    const leadId = await createLead(api, 'clicker@example.com');
    const send = await seedSend(api.db, { leadId, to: 'clicker@example.com' });
    const target = 'https://acme.example/pricing?utm_source=nurture&x=%22q%22#plans';
    const response = await api.call({ method: 'GET', url: path(links.click(send.messageKey, target, 2)), key: null, headers: { 'user-agent': HUMAN_UA } });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(target);
    expect(await engagements(send.sendId)).toEqual([{ kind: 'click', url: target, machine: false, machine_reason: null }]);
    const [event] = await eventsOf(leadId);
    expect(event).toMatchObject({ type: 'email.clicked', machine: false, data: { url: target, send_key: send.idempotencyKey } });
    expect(event!.id).toMatch(/^click:\d+$/);
  });

  it('stores a double click once, and clicks on two links of one email as two', async () => {
    const leadId = await createLead(api, 'double@example.com');
    const send = await seedSend(api.db, { leadId, to: 'double@example.com' });
    const click = (url: string, index: number) => api.call({ method: 'GET', url: path(links.click(send.messageKey, url, index)), key: null, headers: { 'user-agent': HUMAN_UA } });
    const answers = await Promise.all([click('https://acme.example/a', 0), click('https://acme.example/a', 0), click('https://acme.example/b', 1)]);
    // Every click is redirected; only the first of the same link is stored.
    expect(answers.map((answer) => answer.statusCode)).toEqual([302, 302, 302]);
    expect((await engagements(send.sendId)).map((row) => row.url).sort()).toEqual(['https://acme.example/a', 'https://acme.example/b']);
    expect(await eventsOf(leadId)).toHaveLength(2);
  });

  it('flags scanner clicks: known agents and clicks right after the send', async () => {
    const leadId = await createLead(api, 'scanned@example.com');
    const send = await seedSend(api.db, { leadId, to: 'scanned@example.com', sentAt: new Date() });
    await api.call({ method: 'GET', url: path(links.click(send.messageKey, 'https://acme.example/a', 0)), key: null, headers: { 'user-agent': HUMAN_UA } });
    await api.call({ method: 'GET', url: path(links.click(send.messageKey, 'https://acme.example/b', 1)), key: null, headers: { 'user-agent': 'python-requests/2.31' } });
    expect((await engagements(send.sendId)).map((row) => [row.machine, row.machine_reason])).toEqual([
      [true, 'too_soon_after_send'],
      [true, 'scanner:python'],
    ]);
  });

  it('records nothing for HEAD requests (link checkers), but answers them', async () => {
    const leadId = await createLead(api, 'head@example.com');
    const send = await seedSend(api.db, { leadId, to: 'head@example.com' });
    const click = await api.call({ method: 'HEAD', url: path(links.click(send.messageKey, 'https://acme.example/', 0)), key: null, headers: { 'user-agent': HUMAN_UA } });
    expect(click.statusCode).toBe(302);
    const open = await api.call({ method: 'HEAD', url: path(links.openPixel(send.messageKey)), key: null, headers: { 'user-agent': HUMAN_UA } });
    expect(open.statusCode).toBe(200);
    expect(await engagements(send.sendId)).toEqual([]);
  });

  it('answers tampered and unknown tokens with 404 and records nothing', async () => {
    const leadId = await createLead(api, 'tamper@example.com');
    const send = await seedSend(api.db, { leadId, to: 'tamper@example.com' });
    const genuine = links.click(send.messageKey, 'https://acme.example/', 0).split('/t/c/')[1]!;
    const [payload, signature] = genuine.split('.');
    const evil = Buffer.from(JSON.stringify({ k: 'c', m: send.messageKey, u: 'https://evil.example/', i: 0 })).toString('base64url');
    const before = await tableCounts(api.db);
    for (const token of [`${evil}.${signature}`, `${payload}.${signature}x`, signLink({ kind: 'click', message: 'AAAAAAAAAAAAAAAAAAAAAA', url: 'https://acme.example/', link: 0 }, LINKS.secret), 'x']) {
      const response = await api.call({ method: 'GET', url: `/t/c/${token}`, key: null });
      expect(response.statusCode).toBe(404);
      expect(response.headers.location).toBeUndefined();
    }
    expect(await tableCounts(api.db)).toEqual(before);
  });
});

describe('machine detection rules', () => {
  const base = { ip: '203.0.113.9', sentAt: new Date('2026-01-01T00:00:00Z'), now: new Date('2026-01-01T01:00:00Z') };
  it.each([
    [{ userAgent: undefined }, 'no_user_agent'],
    [{ userAgent: 'Mozilla/5.0' }, 'apple_mpp'],
    [{ userAgent: HUMAN_UA, ip: '17.58.1.2' }, 'apple_mpp'],
    [{ userAgent: 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html' }, 'image_proxy:yahoo'],
    [{ userAgent: HUMAN_UA, now: new Date('2026-01-01T00:00:01Z') }, 'too_soon_after_send'],
    [{ userAgent: 'Mozilla/4.0 (compatible; ms-office; MSOffice 16) Microsoft Outlook 16.0' }, null],
  ])('open %j → %s', (context, reason) => {
    expect(classifyOpen({ ...base, ...context } as never).reason).toBe(reason);
  });
  it.each([
    [{ userAgent: 'Barracuda Sentinel (EE)' }, 'scanner:barracuda'],
    [{ userAgent: 'curl/8.5.0' }, 'scanner:curl'],
    [{ userAgent: 'Mozilla/5.0 (compatible; Mimecast)' }, 'scanner:mimecast'],
    [{ userAgent: HUMAN_UA, now: new Date('2026-01-01T00:00:09Z') }, 'too_soon_after_send'],
    [{ userAgent: HUMAN_UA, now: new Date('2026-01-01T00:00:11Z') }, null],
    [{ userAgent: HUMAN_UA, honeypotLinks: [3], linkIndex: 3 }, 'honeypot_link'],
  ])('click %j → %s', (context, reason) => {
    expect(classifyClick({ linkIndex: 0, ...base, ...context } as never).reason).toBe(reason);
  });
});

describe('one-click unsubscribe', () => {
  it('shows a page whose form posts back, changing nothing on GET', async () => {
    const leadId = await createLead(api, 'page@example.com');
    const send = await seedSend(api.db, { leadId, to: 'page@example.com' });
    const before = await tableCounts(api.db);
    const response = await api.call({ method: 'GET', url: path(links.unsubscribe(send.messageKey, leadId)), key: null });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.body).toContain('method="post"');
    expect(response.body).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it('withdraws consent, suppresses the address, stores the unsubscribe for the dispatcher and tells the engine, once', async () => {
    const leadId = await createLead(api, 'leaver@example.com');
    const send = await seedSend(api.db, { leadId, to: 'leaver@example.com', consentPurpose: 'newsletter' });
    const url = path(links.unsubscribe(send.messageKey, leadId));
    const post = () =>
      api.call({ method: 'POST', url, key: null, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect((await post()).statusCode).toBe(200);
    expect((await post()).statusCode).toBe(200);
    const consent = await api.db.pool.query('SELECT purpose, granted, source FROM consent_records WHERE lead_id = $1', [leadId]);
    expect(consent.rows).toEqual([{ purpose: 'newsletter', granted: false, source: 'unsubscribe-link' }]);
    const suppression = await api.db.pool.query("SELECT reason FROM suppressions s JOIN leads l ON l.email_hash = s.email_hash WHERE l.id = $1", [leadId]);
    expect(suppression.rows).toEqual([{ reason: 'unsubscribed' }]);
    expect(api.engine.of('consentChanged').filter((call) => call.leadId === leadId)).toEqual([
      { method: 'consentChanged', leadId, purpose: 'newsletter', granted: false },
    ]);
    expect((await eventsOf(leadId)).map((event) => [event.id, event.type])).toEqual([[`unsubscribe:${send.messageKey}`, 'unsubscribed']]);
  });

  it('accepts the multipart form RFC 8058 recommends, and refuses a POST without the one-click field', async () => {
    const leadId = await createLead(api, 'multipart@example.com');
    const send = await seedSend(api.db, { leadId, to: 'multipart@example.com' });
    const url = path(links.unsubscribe(send.messageKey, leadId));
    const before = await tableCounts(api.db);
    const empty = await api.call({ method: 'POST', url, key: null, payload: 'foo=bar', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(empty.statusCode).toBe(400);
    expect(await tableCounts(api.db)).toEqual(before);
    const body = '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n';
    const response = await api.call({ method: 'POST', url, key: null, payload: body, headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } });
    expect(response.statusCode).toBe(200);
    const suppression = await api.db.pool.query('SELECT reason FROM suppressions s JOIN leads l ON l.email_hash = s.email_hash WHERE l.id = $1', [leadId]);
    expect(suppression.rows).toEqual([{ reason: 'unsubscribed' }]);
  });

  it('answers a forged token, or a token for another lead, with a 404 page and records nothing', async () => {
    const leadId = await createLead(api, 'victim@example.com');
    const send = await seedSend(api.db, { leadId, to: 'victim@example.com' });
    const before = await tableCounts(api.db);
    for (const token of [
      signLink({ kind: 'unsubscribe', message: send.messageKey, lead: leadId }, 'wrong-secret'),
      signLink({ kind: 'unsubscribe', message: send.messageKey, lead: '00000000-0000-4000-8000-000000000000' }, LINKS.secret),
    ]) {
      const response = await api.call({ method: 'POST', url: `/u/${token}`, key: null, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(/text\/html/);
    }
    expect(await tableCounts(api.db)).toEqual(before);
  });
});

describe('handoff links', () => {
  it('GET shows a confirmation and changes nothing; POST answers once; a second answer is a 409', async () => {
    const leadId = await createLead(api, 'hot-lead@example.com', { role: '<b>vp</b>' });
    const { enrolmentId, campaignId } = await seedEnrolment(api.db, leadId, 'handoff-campaign');
    const handoffId = await seedHandoff(api.db, enrolmentId, leadId, campaignId);
    const url = path(links.handoffAction(handoffId, 'accept', Date.now()));
    const page = await api.call({ method: 'GET', url, key: null });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Confirm: accepted lead hot-lead@example.com?');
    expect(page.body).toContain('method="post"');
    expect(api.engine.of('salesResponse')).toEqual([]);

    const answer = await api.call({ method: 'POST', url, key: null, payload: 'confirm=yes', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(answer.statusCode).toBe(200);
    expect(api.engine.of('salesResponse')).toEqual([{ method: 'salesResponse', handoffId, outcome: 'accepted', note: undefined }]);

    // The workflow records the answer; then the same link is refused, saying why.
    await api.db.pool.query("UPDATE handoffs SET status = 'accepted', responded_at = now() WHERE id = $1", [handoffId]);
    const again = await api.call({ method: 'POST', url, key: null, payload: 'confirm=yes', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('already answered');
    expect(api.engine.of('salesResponse')).toHaveLength(1);
  });

  it('escapes what it shows of the lead', async () => {
    const leadId = await createLead(api, "o'neil&sons@example.com");
    const { enrolmentId, campaignId } = await seedEnrolment(api.db, leadId, 'handoff-campaign');
    const handoffId = await seedHandoff(api.db, enrolmentId, leadId, campaignId);
    const page = await api.call({ method: 'GET', url: path(links.handoffAction(handoffId, 'disqualify', Date.now())), key: null });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('o&#39;neil&#38;sons@example.com');
    expect(page.body).not.toContain("o'neil&sons");
  });

  it('refuses expired and forged links with 404', async () => {
    const leadId = await createLead(api, 'expired@example.com');
    const { enrolmentId, campaignId } = await seedEnrolment(api.db, leadId, 'handoff-campaign');
    const handoffId = await seedHandoff(api.db, enrolmentId, leadId, campaignId);
    const expired = path(links.handoffAction(handoffId, 'accept', Date.now() - 40 * 86_400_000));
    const forged = `/h/${signLink({ kind: 'handoff', handoff: handoffId, action: 'accept', expires: 9_999_999_999 }, 'wrong')}`;
    const unknown = path(links.handoffAction('no-such-handoff', 'accept', Date.now()));
    for (const url of [expired, forged, unknown]) {
      expect((await api.call({ method: 'GET', url, key: null })).statusCode).toBe(404);
      expect((await api.call({ method: 'POST', url, key: null, payload: 'confirm=yes', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode).toBe(404);
    }
    expect(api.engine.of('salesResponse').filter((call) => call.handoffId === handoffId)).toEqual([]);
  });

  it('takes answers through the API and lists handoffs by status', async () => {
    const leadId = await createLead(api, 'api-handoff@example.com');
    const { enrolmentId, campaignId } = await seedEnrolment(api.db, leadId, 'handoff-campaign');
    const handoffId = await seedHandoff(api.db, enrolmentId, leadId, campaignId);
    const response = await api.call({ method: 'POST', url: `/v1/handoffs/${handoffId}/response`, payload: { outcome: 'not_ready', note: 'budget next year' } });
    expect(response.statusCode).toBe(202);
    expect(api.engine.of('salesResponse').at(-1)).toEqual({ method: 'salesResponse', handoffId, outcome: 'not_ready', note: 'budget next year' });
    const readOnly = await api.call({ method: 'POST', url: `/v1/handoffs/${handoffId}/response`, payload: { outcome: 'accepted' }, key: api.readKey });
    expect(readOnly.statusCode).toBe(403);
    expect((await api.call({ method: 'POST', url: '/v1/handoffs/nope/response', payload: { outcome: 'accepted' } })).statusCode).toBe(404);
    expect((await api.call({ method: 'POST', url: `/v1/handoffs/${handoffId}/response`, payload: { outcome: 'maybe' } })).statusCode).toBe(400);
    // A recycle date goes with not_ready only, and in the future.
    const recycled = await api.call({ method: 'POST', url: `/v1/handoffs/${handoffId}/response`, payload: { outcome: 'not_ready', recycle_at: '2099-01-01T00:00:00Z' } });
    expect(recycled.statusCode).toBe(202);
    expect(api.engine.of('salesResponse').at(-1)).toMatchObject({ outcome: 'not_ready', recycleAt: new Date('2099-01-01T00:00:00Z') });
    const calls = api.engine.of('salesResponse').length;
    for (const payload of [{ outcome: 'accepted', recycle_at: '2099-01-01T00:00:00Z' }, { outcome: 'not_ready', recycle_at: '2001-01-01T00:00:00Z' }]) {
      const refused = await api.call({ method: 'POST', url: `/v1/handoffs/${handoffId}/response`, payload });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.message).toMatch(/body\.recycle_at/);
    }
    expect(api.engine.of('salesResponse')).toHaveLength(calls);
    const list = await api.call({ method: 'GET', url: '/v1/handoffs?status=pending', key: api.readKey });
    expect(list.statusCode).toBe(200);
    expect(list.json().handoffs.map((h: { id: string }) => h.id)).toContain(handoffId);
    expect(list.json().handoffs.every((h: { status: string }) => h.status === 'pending')).toBe(true);
  });

  it('takes a handoff id as listed: a current one pasted as is, an earlier one with a slash URL-encoded', async () => {
    const leadId = await createLead(api, 'pasted-handoff@example.com');
    const { enrolmentId, campaignId } = await seedEnrolment(api.db, leadId, 'handoff-campaign');
    const current = await seedHandoff(api.db, enrolmentId, leadId, campaignId, `enrolment-${enrolmentId}-handoff-1`);
    const earlier = await seedHandoff(api.db, enrolmentId, leadId, campaignId, `nurture:${campaignId}:${leadId}/handoff-1`);
    for (const [id, url] of [[current, `/v1/handoffs/${current}/response`], [earlier, `/v1/handoffs/${encodeURIComponent(earlier)}/response`]]) {
      const response = await api.call({ method: 'POST', url, payload: { outcome: 'accepted' } });
      expect(response.statusCode, url).toBe(202);
      expect(api.engine.of('salesResponse').at(-1)).toMatchObject({ handoffId: id, outcome: 'accepted' });
    }
  });
});

describe('rotating LINK_SECRET', () => {
  it('links signed with the previous secret still work while it is configured, and only then', async () => {
    const leadId = await createLead(api, 'rotation@example.com');
    const send = await seedSend(api.db, { leadId, to: 'rotation@example.com' });
    const oldLink = path(links.click(send.messageKey, 'https://acme.example/old', 1));
    const rotated = { ...LINKS, secret: 'the-new-link-secret-of-at-least-32-characters' };
    const newLink = path(new Links(rotated).click(send.messageKey, 'https://acme.example/new', 1));
    const on = (settings: LinkSettings) => buildApi({ pool: api.db.pool, engine: api.engine, links: settings, rateLimit: false });
    const during = await on({ ...rotated, previousSecrets: [LINKS.secret] });
    const after = await on(rotated);
    try {
      for (const [server, link, status] of [
        [during, oldLink, 302],
        [during, newLink, 302],
        [after, newLink, 302],
        [after, oldLink, 404],
      ] as const) {
        const response = await server.inject({ method: 'HEAD', url: link });
        expect(response.statusCode, `${link.slice(0, 12)}…`).toBe(status);
      }
    } finally {
      await Promise.all([during.close(), after.close()]);
    }
  });
});
