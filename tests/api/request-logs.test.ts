// What the API's logs say about real requests: the JSON lines the process's pino logger writes
// (createLogger with a destination stream, handed to the API as api/server.ts does) carry neither
// link tokens, nor query values, nor addresses, nor credentials — and still say which route was hit.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggableUrl } from '../../api/request-log';
import { Links } from '../../mail/links';
import { createLogger } from '../../runtime/logger';
import { createLead, LINKS, seedEnrolment, seedHandoff, seedSend, startTestApi, type TestApi } from './support';

const ADDRESS = 'aiko.tanaka+vip@globex.example';
const SEARCH = 'tanaka+vip@globex';
const COOKIE = 'session=cookie-value-that-must-not-be-logged';

/** Every JSON line the logger wrote. */
function capture() {
  const lines: string[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop()!;
      lines.push(...parts.filter(Boolean));
      callback();
    },
  });
  return { stream, lines };
}

describe('request logs', () => {
  const links = new Links(LINKS);
  const { stream, lines } = capture();
  let api: TestApi;
  let base: string;

  beforeAll(async () => {
    // As in production: the process's logger, a child for the API (api/server.ts).
    const log = createLogger('nurture-api', 'info', stream);
    api = await startTestApi({ loggerInstance: log.child({ component: 'api' }) });
    base = await api.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => api?.close());

  it('leave out tokens, query values, addresses, keys and cookies, and keep the routes', async () => {
    const auth = { authorization: `Bearer ${api.writeKey}`, cookie: COOKIE };
    const put = await fetch(`${base}/v1/leads`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ email: ADDRESS }) });
    expect(put.status).toBe(201);
    const leadId = ((await put.json()) as { lead: { id: string } }).lead.id;
    const search = await fetch(`${base}/v1/leads?q=${encodeURIComponent(SEARCH)}&limit=5`, { headers: auth });
    expect(((await search.json()) as { leads: unknown[] }).leads).toHaveLength(1);
    // An address in a path, where no route takes one (400 or 404), is no more logged than in a query.
    expect((await fetch(`${base}/v1/leads/${encodeURIComponent(ADDRESS)}`, { headers: auth })).status).toBeGreaterThanOrEqual(400);
    expect((await fetch(`${base}/v1/no-such-route/${ADDRESS}?email=${ADDRESS}`, { headers: auth })).status).toBe(404);

    const { enrolmentId, campaignId } = await seedEnrolment(api.db, leadId, 'logged-campaign');
    const send = await seedSend(api.db, { leadId, to: ADDRESS, campaignId, enrolmentId });
    const handoffId = await seedHandoff(api.db, enrolmentId, leadId, campaignId);
    const tokens = {
      open: links.openPixel(send.messageKey),
      click: links.click(send.messageKey, `https://acme.example/pricing?who=${encodeURIComponent(ADDRESS)}`, 0),
      unsubscribe: links.unsubscribe(send.messageKey, leadId),
      handoff: links.handoffAction(handoffId, 'accept', Date.now()),
    };
    const local = (url: string) => `${base}${url.slice(LINKS.baseUrl.length)}`;
    expect((await fetch(local(tokens.open))).status).toBe(200);
    expect((await fetch(local(tokens.click), { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(local(tokens.unsubscribe))).status).toBe(200);
    expect(
      (await fetch(local(tokens.unsubscribe), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })).status,
    ).toBe(200);
    expect((await fetch(local(tokens.handoff))).status).toBe(200);
    // Something of the process's own that names an address in a field called email.
    api.app.log.info({ lead: { id: leadId, email: ADDRESS }, email: ADDRESS }, 'a line about a lead');

    const text = lines.join('\n');
    const secrets = [
      ADDRESS,
      encodeURIComponent(ADDRESS),
      SEARCH,
      encodeURIComponent(SEARCH),
      'globex.example',
      api.writeKey,
      COOKIE,
      'cookie-value-that-must-not-be-logged',
      send.messageKey,
      ...Object.values(tokens).map((url) => url.split('/').at(-1)!.replace(/\.gif$/, '')),
    ];
    for (const secret of secrets) expect(text, `the logs contain ${secret}`).not.toContain(secret);
    // Nor any long stretch of a token (a truncated one would still be a part of it).
    for (const url of Object.values(tokens)) {
      const token = url.split('/').at(-1)!;
      for (let i = 0; i + 24 <= token.length; i += 12) expect(text).not.toContain(token.slice(i, i + 24));
    }

    // Not vacuous: every request was logged, with its route and its parameter names.
    const entries = lines.map((line) => JSON.parse(line) as { msg: string; req?: { method: string; url: string }; email?: string; lead?: { email?: string } });
    const urls = entries.filter((entry) => entry.msg === 'incoming request').map((entry) => `${entry.req!.method} ${entry.req!.url}`);
    expect(urls).toEqual([
      'PUT /v1/leads',
      'GET /v1/leads?q=:redacted&limit=:redacted',
      'GET /v1/leads/:redacted',
      'GET /v1/no-such-route/:redacted?email=:redacted',
      'GET /t/o/:token',
      'GET /t/c/:token',
      'GET /u/:token',
      'POST /u/:token',
      'GET /h/:token',
    ]);
    expect(entries.filter((entry) => entry.msg === 'request completed')).toHaveLength(urls.length);
    expect(entries.find((entry) => entry.msg === 'a line about a lead')).toMatchObject({ email: '[redacted]', lead: { id: leadId, email: '[redacted]' } });
  });
});

describe('request logs of a logger Fastify builds from settings', () => {
  it('get the same serializers and redaction', async () => {
    const { stream, lines } = capture();
    const api = await startTestApi({ logger: { level: 'info', stream } });
    try {
      const search = await api.call({ method: 'GET', url: `/v1/leads?q=${encodeURIComponent(SEARCH)}`, headers: { cookie: COOKIE } });
      expect(search.statusCode).toBe(200);
      api.app.log.info({ email: ADDRESS, headers: { authorization: `Bearer ${api.writeKey}`, cookie: COOKIE } }, 'headers logged whole');
    } finally {
      await api.close();
    }
    const text = lines.join('\n');
    for (const secret of [SEARCH, encodeURIComponent(SEARCH), ADDRESS, api.writeKey, COOKIE]) expect(text).not.toContain(secret);
    const entries = lines.map((line) => JSON.parse(line) as { msg: string; req?: { url: string }; headers?: Record<string, string>; email?: string });
    expect(entries.find((entry) => entry.msg === 'incoming request')?.req?.url).toBe('/v1/leads?q=:redacted');
    expect(entries.find((entry) => entry.msg === 'headers logged whole')).toMatchObject({ email: '[redacted]', headers: { authorization: '[redacted]', cookie: '[redacted]' } });
  });
});

describe('loggableUrl', () => {
  it('keeps paths and parameter names, and replaces tokens, long segments, addresses and values', () => {
    expect(loggableUrl('/v1/campaigns/abc/stats')).toBe('/v1/campaigns/abc/stats');
    expect(loggableUrl('/v1/leads?q=bob%40example.com&limit=5')).toBe('/v1/leads?q=:redacted&limit=:redacted');
    expect(loggableUrl('/v1/leads?bob@example.com')).toBe('/v1/leads?:redacted');
    expect(loggableUrl('/v1/leads?q=x#fragment')).toBe('/v1/leads?q=:redacted');
    expect(loggableUrl('/t/c/abc.def')).toBe('/t/c/:token');
    expect(loggableUrl('/t/o/abc.def.gif?x=1')).toBe('/t/o/:token?x=:redacted');
    expect(loggableUrl('/u/abc/def')).toBe('/u/:token');
    expect(loggableUrl('/h/abc')).toBe('/h/:token');
    expect(loggableUrl('/codec/k/nk_abc_def/decode')).toBe('/codec/k/:token');
    expect(loggableUrl('/codec/decode')).toBe('/codec/decode');
    expect(loggableUrl('/u/')).toBe('/u/');
    expect(loggableUrl(`/v1/leads/${'a'.repeat(200)}`)).toBe('/v1/leads/:redacted');
    expect(loggableUrl('/v1/enrolments/nurture%3Acampaign%3A00000000-0000-4000-8000-000000000000')).toBe(
      '/v1/enrolments/nurture%3Acampaign%3A00000000-0000-4000-8000-000000000000',
    );
    expect(loggableUrl(undefined)).toBeUndefined();
  });
});
